//! Environment overrides by one rule: the key `section.key` (and nested
//! `section.table.key`) is set by `LOA_SECTION_KEY` (`LOA_SECTION_TABLE_KEY`),
//! upper case, dots and dashes as `_`.
//!
//! The keys come from [`super::schema::keys`], so every field of
//! [`Config`](super::Config), including fields added later, gets its
//! variable with no code here. Values are read by the key's kind: numbers,
//! `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), lists
//! comma-separated (`LOA_SERVER_CORS_ORIGINS=https://a,https://b`), an empty
//! value unsets an optional key. [`ALIASES`] keeps the older short names
//! working. A value that does not fit, a variable under a section prefix
//! that names no key, or an alias and its canonical name set to different
//! values is an error naming the variable.

use std::collections::BTreeMap;

use super::ConfigError;
use super::schema::{Key, Kind};

/// Older variable names, kept working: (alias, dotted key).
pub const ALIASES: &[(&str, &str)] = &[
    ("LOA_ADDRESS", "server.address"),
    ("LOA_CORS_ORIGINS", "server.cors_origins"),
    ("LOA_MAX_TEXT_CHARS", "server.max_text_chars"),
    ("LOA_SYNTHESIS_CONCURRENCY", "server.synthesis_concurrency"),
    ("LOA_VOICE", "speech.default_voice"),
    ("LOA_VOICES_DIR", "speech.voices_dir"),
    ("LOA_DIALECT", "text.dialect"),
    ("LOA_TEXT_INPUT", "server.text_input"),
];

/// The process environment as loa reads it (or a fixed one, in tests).
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The variables of this process. A `LOA_*` variable whose value is not
    /// UTF-8 is an error; other non-UTF-8 variables are ignored.
    pub fn process() -> Result<Env, ConfigError> {
        let mut vars = BTreeMap::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().map(str::to_string) else { continue };
            match value.into_string() {
                Ok(v) => {
                    vars.insert(name, v);
                }
                Err(_) if name.starts_with("LOA_") => {
                    return Err(ConfigError::Env { var: name, message: "the value is not UTF-8".into() });
                }
                Err(_) => {}
            }
        }
        Ok(Env { vars })
    }

    /// A fixed environment.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// A variable's value; an empty value counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// The variable of a key: `["server", "limits", "burst"]` → `LOA_SERVER_LIMITS_BURST`.
pub fn variable(key: &Key) -> String {
    let mut name = String::from("LOA");
    for part in &key.path {
        name.push('_');
        name.extend(
            part.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }),
        );
    }
    name
}

/// The variable of every key, with the key, sorted by variable name.
pub fn variables(keys: &[Key]) -> Vec<(String, &Key)> {
    let mut vars: Vec<(String, &Key)> = keys.iter().map(|k| (variable(k), k)).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Set every key whose variable (or alias) is in `env` in `table`.
/// `check` is called after each one so that a value the settings type
/// rejects is reported against its variable.
pub fn apply(
    table: &mut toml::Table,
    keys: &[Key],
    env: &Env,
    check: impl Fn(&toml::Table) -> Result<(), String>,
) -> Result<(), ConfigError> {
    let vars = variables(keys);
    let by_dotted: BTreeMap<String, &Key> = keys.iter().map(|k| (k.dotted(), k)).collect();
    let known: BTreeMap<&str, &Key> = vars.iter().map(|(n, k)| (n.as_str(), *k)).collect();
    let env_err = |var: &str, message: String| ConfigError::Env { var: var.to_string(), message };

    // A variable under a section's prefix that is no key is a typo.
    let sections: Vec<String> = keys
        .iter()
        .filter_map(|k| k.path.first())
        .map(|s| format!("LOA_{}_", s.to_ascii_uppercase()))
        .collect();
    for name in env.vars.keys() {
        let aliased = ALIASES.iter().any(|(a, _)| a == name);
        if sections.iter().any(|s| name.starts_with(s.as_str()))
            && !known.contains_key(name.as_str())
            && !aliased
        {
            let hint = closest(name, vars.iter().map(|(n, _)| n.as_str()))
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            return Err(env_err(
                name,
                format!("no config key is set by this variable{hint} (`loa config --env` lists them)"),
            ));
        }
    }

    // (variable, value, key): canonical names first, then aliases.
    let mut settings: Vec<(&str, &str, &Key)> = Vec::new();
    for (name, key) in &vars {
        if let Some(v) = env.vars.get(name.as_str()) {
            settings.push((name.as_str(), v.as_str(), key));
        }
    }
    for (alias, dotted) in ALIASES {
        let (Some(value), Some(key)) = (env.vars.get(*alias), by_dotted.get(*dotted)) else { continue };
        let canonical = variable(key);
        match env.vars.get(&canonical) {
            Some(other) if other != value => {
                return Err(env_err(
                    alias,
                    format!("conflicts with {canonical}={other:?} (both set {dotted})"),
                ));
            }
            Some(_) => {}
            None => settings.push((alias, value.as_str(), key)),
        }
    }

    for (name, raw, key) in settings {
        let value = if raw.is_empty() && key.optional {
            None
        } else {
            Some(parse(raw, &key.kind).map_err(|m| env_err(name, format!("{}: {m}", key.dotted())))?)
        };
        set(table, &key.path, value).map_err(|m| env_err(name, m))?;
        check(table).map_err(|m| env_err(name, format!("{}: {m}", key.dotted())))?;
    }
    Ok(())
}

/// A variable's text as a TOML value of `kind`.
fn parse(raw: &str, kind: &Kind) -> Result<toml::Value, String> {
    let v = raw.trim();
    Ok(match kind {
        Kind::Str => toml::Value::String(raw.to_string()),
        Kind::Bool => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(format!("{raw:?} is not true or false")),
        },
        Kind::Int => toml::Value::Integer(
            v.replace('_', "").parse().map_err(|_| format!("{raw:?} is not a whole number"))?,
        ),
        Kind::Float => toml::Value::Float(v.parse().map_err(|_| format!("{raw:?} is not a number"))?),
        Kind::Choice(names) => {
            if !names.contains(&v) {
                return Err(format!("{raw:?} is not one of {}", names.join(", ")));
            }
            toml::Value::String(v.to_string())
        }
        Kind::List(inner) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| parse(s, inner))
                .collect::<Result<_, _>>()?,
        ),
        Kind::Any => match toml::from_str::<toml::Table>(&format!("v = {v}")) {
            Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(raw.to_string())),
            Err(_) => toml::Value::String(raw.to_string()),
        },
    })
}

/// Set (or with `None` remove) `path` in `table`, making tables on the way.
fn set(table: &mut toml::Table, path: &[&str], value: Option<toml::Value>) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else { return Err("empty key".into()) };
    let mut t = table;
    for (i, p) in parents.iter().enumerate() {
        let entry = t.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("{} is not a table in the config file", path[..=i].join(".")))?;
    }
    match value {
        Some(v) => {
            t.insert(last.to_string(), v);
        }
        None => {
            t.remove(*last);
        }
    }
    Ok(())
}

/// The known name nearest to `name` (at most 3 edits away).
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known.map(|k| (edit_distance(name, k), k)).filter(|(d, _)| *d <= 3).min().map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &[&'static str], kind: Kind) -> Key {
        Key { path: path.to_vec(), kind, optional: false }
    }

    #[test]
    fn names_follow_the_path() {
        assert_eq!(variable(&key(&["server", "limits", "burst"], Kind::Int)), "LOA_SERVER_LIMITS_BURST");
        assert_eq!(variable(&key(&["text", "max-bytes"], Kind::Int)), "LOA_TEXT_MAX_BYTES");
    }

    #[test]
    fn values_by_kind() {
        assert_eq!(parse(" 42 ", &Kind::Int), Ok(toml::Value::Integer(42)));
        assert_eq!(parse("1_000", &Kind::Int), Ok(toml::Value::Integer(1000)));
        assert!(parse("lots", &Kind::Int).unwrap_err().contains("\"lots\""));
        assert_eq!(parse("yes", &Kind::Bool), Ok(toml::Value::Boolean(true)));
        assert!(parse("maybe", &Kind::Bool).is_err());
        assert_eq!(
            parse("a, b,,c ", &Kind::List(Box::new(Kind::Str))),
            Ok(toml::Value::Array(vec!["a".into(), "b".into(), "c".into()]))
        );
        assert_eq!(parse("", &Kind::List(Box::new(Kind::Int))), Ok(toml::Value::Array(vec![])));
        assert!(parse("1,x", &Kind::List(Box::new(Kind::Int))).is_err());
        assert!(parse("east", &Kind::Choice(vec!["north", "south"])).unwrap_err().contains("north, south"));
        assert_eq!(parse("[1, 2]", &Kind::Any), Ok(toml::Value::Array(vec![1.into(), 2.into()])));
        assert_eq!(parse("x:y", &Kind::Any), Ok("x:y".into()));
    }

    #[test]
    fn typo_under_a_section_is_named_with_a_suggestion() {
        let keys = vec![key(&["server", "address"], Kind::Str)];
        let env = Env::from_pairs([("LOA_SERVER_ADRESS", "x")]);
        let err = apply(&mut toml::Table::new(), &keys, &env, |_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("LOA_SERVER_ADRESS") && err.contains("LOA_SERVER_ADDRESS"), "{err}");
        // Variables outside the sections are not ours to judge.
        let env = Env::from_pairs([("LOA_ESPEAK_LIBRARY", "x")]);
        apply(&mut toml::Table::new(), &keys, &env, |_| Ok(())).unwrap();
    }

    #[test]
    fn optional_key_is_unset_by_an_empty_value() {
        let keys = vec![Key { path: vec!["a", "b"], kind: Kind::Int, optional: true }];
        let mut t: toml::Table = toml::from_str("[a]\nb = 3\n").unwrap();
        apply(&mut t, &keys, &Env::from_pairs([("LOA_A_B", "")]), |_| Ok(())).unwrap();
        assert!(t["a"].as_table().unwrap().get("b").is_none());
        apply(&mut t, &keys, &Env::from_pairs([("LOA_A_B", "7")]), |_| Ok(())).unwrap();
        assert_eq!(t["a"]["b"].as_integer(), Some(7));
    }
}
