//! The keys of a settings type, read off its `serde::Deserialize` impl.
//!
//! [`keys`] runs `T::deserialize` against a probe deserializer that answers
//! every `deserialize_struct` by visiting each of the struct's declared
//! fields and records, for each leaf, its dotted path and what kind of value
//! it takes. Nothing is hand-listed: a field added to any config struct
//! (however deeply nested) shows up here, which is what lets
//! [`super::env`] derive one environment variable per key.
//!
//! Limits: maps with free-form keys and lists of tables have no fixed key
//! names and are not listed; `#[serde(flatten)]` hides the fields of the
//! flattened struct (the unit test over [`crate::config::Config`] catches
//! that by comparing with the serialized defaults).

use std::cell::RefCell;

use serde::de::value::Error;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};

/// What a leaf key takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Str,
    /// One of these names (a unit-only enum such as `Dialect`).
    Choice(Vec<&'static str>),
    /// A list of scalar values.
    List(Box<Kind>),
    /// Anything (`deserialize_any`): read as a TOML value, else as a string.
    Any,
}

/// One leaf key of a settings type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Table names then the key: `["server", "address"]`.
    pub path: Vec<&'static str>,
    pub kind: Kind,
    /// An `Option` field: an empty value unsets it.
    pub optional: bool,
}

impl Key {
    /// `server.address`.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// Every leaf key of `T`, in declaration order.
pub fn keys<T: de::DeserializeOwned>() -> Result<Vec<Key>, String> {
    let out = RefCell::new(Vec::new());
    T::deserialize(Probe { path: Vec::new(), optional: false, out: &out }).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

struct Probe<'a> {
    path: Vec<&'static str>,
    optional: bool,
    out: &'a RefCell<Vec<Key>>,
}

impl Probe<'_> {
    fn record(&self, kind: Kind) {
        self.out.borrow_mut().push(Key { path: self.path.clone(), kind, optional: self.optional });
    }

    /// The kind of one element of a list, probed on its own.
    fn element_kind<'de, V: Visitor<'de>>(&self, visitor: V) -> Result<(V::Value, Option<Kind>), Error> {
        let inner = RefCell::new(Vec::new());
        let value = visitor.visit_seq(OneElement {
            probe: Some(Probe { path: Vec::new(), optional: false, out: &inner }),
        })?;
        let inner = inner.into_inner();
        let kind = match inner.as_slice() {
            [only] if only.path.is_empty() && !matches!(only.kind, Kind::List(_)) => Some(only.kind.clone()),
            _ => None,
        };
        Ok((value, kind))
    }
}

macro_rules! leaf {
    ($($method:ident => $kind:expr, $visit:ident($($value:expr)?);)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.record($kind);
            visitor.$visit($($value)?)
        }
    )*};
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = Error;

    leaf! {
        deserialize_bool => Kind::Bool, visit_bool(false);
        deserialize_i8 => Kind::Int, visit_i64(0);
        deserialize_i16 => Kind::Int, visit_i64(0);
        deserialize_i32 => Kind::Int, visit_i64(0);
        deserialize_i64 => Kind::Int, visit_i64(0);
        deserialize_i128 => Kind::Int, visit_i64(0);
        deserialize_u8 => Kind::Int, visit_u64(0);
        deserialize_u16 => Kind::Int, visit_u64(0);
        deserialize_u32 => Kind::Int, visit_u64(0);
        deserialize_u64 => Kind::Int, visit_u64(0);
        deserialize_u128 => Kind::Int, visit_u64(0);
        deserialize_f32 => Kind::Float, visit_f64(0.0);
        deserialize_f64 => Kind::Float, visit_f64(0.0);
        deserialize_char => Kind::Str, visit_char('a');
        deserialize_str => Kind::Str, visit_str("");
        deserialize_string => Kind::Str, visit_str("");
        deserialize_bytes => Kind::Str, visit_bytes(&[]);
        deserialize_byte_buf => Kind::Str, visit_bytes(&[]);
        deserialize_any => Kind::Any, visit_unit();
        deserialize_unit => Kind::Any, visit_unit();
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(Probe { optional: true, ..self })
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.record(Kind::Any);
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let (value, kind) = self.element_kind(visitor)?;
        if let Some(kind) = kind {
            self.record(Kind::List(Box::new(kind)));
        }
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // Free-form keys (e.g. `[sources.sites."host"]`): the whole table is
        // one key, its variable holding an inline TOML table.
        self.record(Kind::Any);
        visitor.visit_map(Fields { fields: [].iter(), probe: self, pending: None })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_map(Fields { fields: fields.iter(), probe: self, pending: None })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let first = variants.first().copied().ok_or_else(|| de::Error::custom("enum without variants"))?;
        self.record(Kind::Choice(variants.to_vec()));
        visitor.visit_enum(UnitVariant(first))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str("")
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

/// The fields of a struct, each with a probe one level deeper.
struct Fields<'a> {
    fields: std::slice::Iter<'static, &'static str>,
    probe: Probe<'a>,
    pending: Option<&'static str>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.fields.next() {
            Some(&field) => {
                self.pending = Some(field);
                seed.deserialize(field.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let field = self.pending.take().ok_or_else(|| de::Error::custom("value before key"))?;
        let mut path = self.probe.path.clone();
        path.push(field);
        seed.deserialize(Probe { path, optional: false, out: self.probe.out })
    }
}

/// A list of exactly one probed element.
struct OneElement<'a> {
    probe: Option<Probe<'a>>,
}

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.probe.take() {
            Some(probe) => seed.deserialize(probe).map(Some),
            None => Ok(None),
        }
    }
}

/// The first variant of an enum, taken as a unit variant.
struct UnitVariant(&'static str);

impl<'de> EnumAccess<'de> for UnitVariant {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let name: de::value::StrDeserializer<'_, Error> = self.0.into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, Error> {
        Err(de::Error::custom(format!("enum variant {} with data is not a settable key", self.0)))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Error> {
        Err(de::Error::custom(format!("enum variant {} with data is not a settable key", self.0)))
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], _: V) -> Result<V::Value, Error> {
        Err(de::Error::custom(format!("enum variant {} with data is not a settable key", self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Fast,
        Slow,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Limits {
        burst: u32,
        rate: f64,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(deny_unknown_fields)]
    struct Server {
        address: String,
        origins: Vec<String>,
        ports: Vec<u16>,
        budget: Option<u64>,
        mode: Mode,
        path: std::path::PathBuf,
        on: bool,
        limits: Limits,
        #[serde(rename = "renamed-key")]
        renamed: char,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Top {
        server: Server,
        #[serde(default)]
        extra: std::collections::BTreeMap<String, String>,
    }

    #[test]
    fn every_leaf_with_its_kind() {
        let keys = keys::<Top>().unwrap();
        let got: Vec<(String, Kind, bool)> =
            keys.iter().map(|k| (k.dotted(), k.kind.clone(), k.optional)).collect();
        assert_eq!(
            got,
            vec![
                ("server.address".into(), Kind::Str, false),
                ("server.origins".into(), Kind::List(Box::new(Kind::Str)), false),
                ("server.ports".into(), Kind::List(Box::new(Kind::Int)), false),
                ("server.budget".into(), Kind::Int, true),
                ("server.mode".into(), Kind::Choice(vec!["fast", "slow"]), false),
                ("server.path".into(), Kind::Str, false),
                ("server.on".into(), Kind::Bool, false),
                ("server.limits.burst".into(), Kind::Int, false),
                ("server.limits.rate".into(), Kind::Float, false),
                ("server.renamed-key".into(), Kind::Str, false),
                ("extra".into(), Kind::Any, false),
            ]
        );
    }
}
