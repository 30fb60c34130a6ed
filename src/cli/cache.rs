//! `loa cache`: what the audio cache holds (`stats`), making room or
//! applying a retention age (`prune`), and checking that every object is
//! whole (`verify`: MP3s parse and decode, WAVs decode, JSON parses, each
//! cached article is as long as its timings say).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Globals;
use super::speech::{exit, load_config};
use crate::cache::{Class, DiskStore, Ext, Name};
use crate::pipeline::Timings;

#[derive(Args, Debug)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
}

#[derive(Subcommand, Debug)]
pub enum CacheAction {
    /// Objects and bytes in the cache.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every object: audio decodes, JSON parses, articles match their timings (exit 1 if not).
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evict least recently used objects down to the cap (on-demand ones
    /// first), or those older than an age; also removes abandoned
    /// temporary files.
    Prune {
        /// Target size in bytes (default: cache.max_bytes from the config).
        #[arg(long, conflicts_with = "older_than")]
        max_bytes: Option<u64>,
        /// Remove objects not read or written for this long (e.g. 90d, 12h).
        #[arg(long, value_name = "AGE")]
        older_than: Option<Age>,
    },
}

pub fn cache(args: CacheArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let config = load_config(globals)?;
    let store =
        DiskStore::open(&config.cache.dir, config.cache.max_bytes).map_err(|e| exit(1, e.to_string()))?;
    match args.action {
        CacheAction::Stats { json } => {
            let stats = store.stats().map_err(|e| exit(1, e.to_string()))?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&stats)?)?;
            } else {
                writeln!(out, "cache: {}", store.dir().display())?;
                writeln!(out, "objects: {}", stats.objects)?;
                writeln!(
                    out,
                    "bytes: {} ({:.1} MiB of {:.1} MiB cap)",
                    stats.bytes,
                    mib(stats.bytes),
                    mib(stats.max_bytes)
                )?;
                for (class, ext, n, bytes) in &stats.by_kind {
                    writeln!(out, "  {class}/ .{ext}: {n} objects, {:.1} MiB", mib(*bytes))?;
                }
            }
        }
        CacheAction::Verify { json } => {
            let report = verify(&store);
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                writeln!(out, "checked {} objects in {}", report.checked, store.dir().display())?;
                for p in &report.problems {
                    writeln!(out, "  {p}")?;
                }
                writeln!(out, "{}", if report.problems.is_empty() { "all whole" } else { "problems found" })?;
            }
            if !report.problems.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        CacheAction::Prune { max_bytes, older_than } => {
            let p = match older_than {
                Some(age) => {
                    let cutoff = std::time::SystemTime::now() - age.0;
                    store.prune_older_than(cutoff).map_err(|e| exit(1, e.to_string()))?
                }
                None => {
                    let target = max_bytes.unwrap_or(config.cache.max_bytes);
                    store.prune_to(target).map_err(|e| exit(1, e.to_string()))?
                }
            };
            writeln!(
                out,
                "removed {} objects ({:.1} MiB) and {} temporary files; {:.1} MiB remain",
                p.removed,
                mib(p.freed_bytes),
                p.temp_files_removed,
                mib(p.remaining_bytes)
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A duration such as `90d`, `12h`, `30m` or `45s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age(pub std::time::Duration);

impl std::str::FromStr for Age {
    type Err = String;
    fn from_str(s: &str) -> Result<Age, String> {
        let s = s.trim();
        let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
        let n: u64 = num.parse().map_err(|_| format!("{s:?}: expected a number and a unit, e.g. 90d"))?;
        let secs = match unit {
            "d" => 86_400,
            "h" => 3600,
            "m" => 60,
            "s" | "" => 1,
            other => return Err(format!("unknown unit {other:?}: use d, h, m or s")),
        };
        Ok(Age(std::time::Duration::from_secs(n.saturating_mul(secs))))
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// What `verify` found.
#[derive(Debug, Default, serde::Serialize)]
pub struct Verified {
    pub checked: u64,
    pub problems: Vec<String>,
    pub temp_files: u64,
}

/// Check every object of the store.
pub fn verify(store: &DiskStore) -> Verified {
    let mut report = Verified::default();
    let mut durations = std::collections::HashMap::new();
    let mut timings = Vec::new();
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            report.problems.push(format!("cannot start a runtime: {e}"));
            return report;
        }
    };
    for class in Class::ALL {
        let listed = match rt.block_on(crate::cache::Storage::list(store, class)) {
            Ok(l) => l,
            Err(e) => {
                report.problems.push(format!("{}: {e}", class.prefix()));
                continue;
            }
        };
        for meta in listed {
            report.checked += 1;
            let name: &Name = &meta.name;
            let bytes = match store.read_blocking(name) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(e) => {
                    report.problems.push(format!("{name}: {e}"));
                    continue;
                }
            };
            let problem = match (name.ext, class) {
                (Ext::Mp3 | Ext::Wav, _) => match crate::audio::decode(&bytes) {
                    Ok(pcm) => {
                        let ok = name.ext == Ext::Wav || crate::audio::mp3::Piece::parse(&bytes).is_ok();
                        durations.insert(name.key.clone(), pcm.duration_ms());
                        (!ok).then(|| "not a well-formed MP3".to_string())
                    }
                    Err(e) => Some(e.to_string()),
                },
                (Ext::Json, Class::Plan) => {
                    serde_json::from_slice::<crate::pipeline::Plan>(&bytes).err().map(|e| e.to_string())
                }
                (Ext::Json, _) => match serde_json::from_slice::<Timings>(&bytes) {
                    Ok(t) => match t.check() {
                        Ok(()) => {
                            timings.push(t);
                            None
                        }
                        Err(e) => Some(e),
                    },
                    Err(e) => Some(e.to_string()),
                },
            };
            if let Some(p) = problem {
                report.problems.push(format!("{name}: {p}"));
            }
        }
    }
    for t in timings {
        if let Some(key) = crate::cache::CacheKey::parse(&t.key)
            && let Some(&ms) = durations.get(&key)
            && ms != t.duration_ms
        {
            report
                .problems
                .push(format!("article {}: audio is {ms} ms, its timings say {} ms", t.key, t.duration_ms));
        }
    }
    report.temp_files = std::fs::read_dir(store.dir().join("tmp")).map(|d| d.count() as u64).unwrap_or(0);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!("90d".parse::<Age>().unwrap().0.as_secs(), 90 * 86400);
        assert_eq!("12h".parse::<Age>().unwrap().0.as_secs(), 12 * 3600);
        assert!("ten".parse::<Age>().is_err() && "5y".parse::<Age>().is_err());
    }

    #[test]
    fn verify_finds_damaged_objects() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path(), 1 << 20).unwrap();
        let good = crate::audio::encode_mp3(
            &crate::audio::Pcm { sample_rate: 22050, samples: vec![100; 22050] },
            64,
        )
        .unwrap();
        let k1 = crate::cache::CacheKey::hash(&["good"]);
        let k2 = crate::cache::CacheKey::hash(&["bad"]);
        store
            .put_blocking(
                &Name::new(Class::OnDemand, &k1, Ext::Mp3),
                crate::cache::Payload::Bytes(good.into()),
            )
            .unwrap();
        store
            .put_blocking(
                &Name::new(Class::OnDemand, &k2, Ext::Mp3),
                crate::cache::Payload::Bytes(b"\xff\xfbjunk".to_vec().into()),
            )
            .unwrap();
        let r = verify(&store);
        assert_eq!(r.checked, 2);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].contains(k2.as_str()));
    }
}
