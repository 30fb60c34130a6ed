//! Cache keys and object names.
//!
//! A [`CacheKey`] is the hex SHA-256 of everything that determines an
//! object's bytes (length-framed, so `["ab","c"]` ≠ `["a","bc"]`); it can
//! only be built by hashing or by validating 64 lowercase hex digits, so a
//! key from a URL can never reach a file system or bucket path unchecked.
//! A [`Name`] places a key in the store: its [`Class`] (a prefix) and its
//! [`Ext`].

use std::fmt;

use sha2::{Digest, Sha256};

/// 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CacheKey(String);

impl CacheKey {
    /// Hash `parts`, each framed by its length.
    pub fn hash(parts: &[&str]) -> CacheKey {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        CacheKey(hex::encode(h.finalize()))
    }

    /// Accept only 64 lowercase hex digits.
    pub fn parse(s: &str) -> Option<CacheKey> {
        let ok = s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| CacheKey(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 digits, for logs and file names.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", self.short())
    }
}

impl TryFrom<String> for CacheKey {
    type Error = String;
    fn try_from(s: String) -> Result<CacheKey, String> {
        CacheKey::parse(&s).ok_or_else(|| format!("{s:?} is not a cache key (64 lowercase hex digits)"))
    }
}

impl From<CacheKey> for String {
    fn from(k: CacheKey) -> String {
        k.0
    }
}

/// Who an object is kept for, which is also its prefix in the store.
/// Eviction takes on-demand objects first, then plans, and pre-generated
/// ones only when nothing else is left, so a flood of visitor requests
/// cannot push out what editors prepared. Bucket lifecycle rules can tell
/// the prefixes apart too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Written by `loa generate` or the pre-generation API (`gen/`).
    Pregenerated,
    /// Written for a visitor's request (`live/`).
    OnDemand,
    /// Sentence plans handed to players (`plans/`).
    Plan,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Pregenerated, Class::OnDemand, Class::Plan];

    pub fn prefix(self) -> &'static str {
        match self {
            Class::Pregenerated => "gen",
            Class::OnDemand => "live",
            Class::Plan => "plans",
        }
    }

    pub fn from_prefix(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.prefix() == s)
    }

    /// The `class` label of the cache metrics.
    pub fn label(self) -> &'static str {
        match self {
            Class::Pregenerated => "pregenerated",
            Class::OnDemand => "on_demand",
            Class::Plan => "plans",
        }
    }

    /// Eviction order: lower goes first.
    pub fn eviction_rank(self) -> u8 {
        match self {
            Class::OnDemand => 0,
            Class::Plan => 1,
            Class::Pregenerated => 2,
        }
    }
}

/// The kinds of object the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ext {
    Mp3,
    Wav,
    Json,
}

impl Ext {
    pub fn as_str(self) -> &'static str {
        match self {
            Ext::Mp3 => "mp3",
            Ext::Wav => "wav",
            Ext::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<Ext> {
        match s {
            "mp3" => Some(Ext::Mp3),
            "wav" => Some(Ext::Wav),
            "json" => Some(Ext::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Ext::Mp3 => "audio/mpeg",
            Ext::Wav => "audio/wav",
            Ext::Json => "application/json",
        }
    }
}

impl From<crate::audio::Format> for Ext {
    fn from(f: crate::audio::Format) -> Ext {
        match f {
            crate::audio::Format::Mp3 => Ext::Mp3,
            crate::audio::Format::Wav => Ext::Wav,
        }
    }
}

/// One object: `{class}/{ab}/{cd}/{key}.{ext}` in every store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name {
    pub class: Class,
    pub key: CacheKey,
    pub ext: Ext,
}

impl Name {
    pub fn new(class: Class, key: &CacheKey, ext: Ext) -> Name {
        Name { class, key: key.clone(), ext }
    }

    /// The relative path (also the object-store location).
    pub fn path(&self) -> String {
        let k = self.key.as_str();
        format!("{}/{}/{}/{k}.{}", self.class.prefix(), &k[0..2], &k[2..4], self.ext.as_str())
    }

    /// Parse a relative path made by [`Name::path`]; anything else is `None`.
    pub fn parse(path: &str) -> Option<Name> {
        let mut parts = path.split('/');
        let class = Class::from_prefix(parts.next()?)?;
        let (a, b, file) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let (key, ext) = file.rsplit_once('.')?;
        let key = CacheKey::parse(key)?;
        (key.as_str()[0..2] == *a && key.as_str()[2..4] == *b).then_some(())?;
        Some(Name { class, key, ext: Ext::parse(ext)? })
    }

    pub fn with_class(&self, class: Class) -> Name {
        Name { class, ..self.clone() }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_framed_validated_hex() {
        let a = CacheKey::hash(&["ab", "c"]);
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, CacheKey::hash(&["a", "bc"]));
        assert_eq!(CacheKey::parse(a.as_str()), Some(a.clone()));
        for bad in ["../../etc/passwd", "ab", &a.as_str().to_uppercase(), &"a".repeat(63), &"g".repeat(64)] {
            assert_eq!(CacheKey::parse(bad), None, "{bad}");
        }
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<CacheKey>(&json).unwrap(), a);
        assert!(serde_json::from_str::<CacheKey>("\"../x\"").is_err());
    }

    #[test]
    fn names_round_trip_and_reject_anything_else() {
        let k = CacheKey::hash(&["x"]);
        for class in Class::ALL {
            for ext in [Ext::Mp3, Ext::Wav, Ext::Json] {
                let n = Name::new(class, &k, ext);
                assert_eq!(Name::parse(&n.path()), Some(n.clone()));
            }
        }
        let p = Name::new(Class::OnDemand, &k, Ext::Mp3).path();
        assert!(p.starts_with(&format!("live/{}/{}/", &k.as_str()[..2], &k.as_str()[2..4])));
        for bad in [
            "live/00/00/x.mp3",
            "tmp/ab/cd/x",
            &p.replace("live", "other"),
            &format!("{p}/x"),
            &p.replace(".mp3", ".exe"),
        ] {
            assert_eq!(Name::parse(bad), None, "{bad}");
        }
        let swapped = format!("live/ff/ff/{}.mp3", k.as_str());
        assert_eq!(Name::parse(&swapped), None, "shard must match the key");
    }
}
