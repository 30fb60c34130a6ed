//! `loa cache`: what the audio cache holds (`stats`), making room or
//! applying a retention age (`prune`), and checking that every object is
//! whole (`verify`: MP3s parse and decode, WAVs decode, JSON parses, each
//! cached article is as long as its timings say).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use futures::TryStreamExt;

use super::Globals;
use super::speech::{exit, load_config};
use crate::cache::{Cache, CacheError, Class, DiskStore, Ext, Name, Pruned, Stats, Storage, admin};
use crate::pipeline::Timings;

#[derive(Args, Debug)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
}

#[derive(Subcommand, Debug)]
pub enum CacheAction {
    /// Objects and bytes in the cache (the object store and its local tier
    /// when `cache.store` is set).
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
        /// Target size in bytes of the disk store, or of the local tier of an
        /// object store (default: its cap, cache.max_bytes or
        /// cache.local_max_bytes).
        #[arg(long, conflicts_with = "older_than")]
        max_bytes: Option<u64>,
        /// Remove objects not read or written for this long (e.g. 90d, 12h);
        /// in an object store (`cache.store`), not written for this long.
        #[arg(long, value_name = "AGE")]
        older_than: Option<Age>,
        /// With --older-than: only these classes (gen, live, plans; repeatable).
        #[arg(long, value_name = "CLASS", requires = "older_than", value_parser = parse_class)]
        class: Vec<Class>,
    },
}

fn parse_class(s: &str) -> Result<Class, String> {
    Class::from_prefix(s).ok_or_else(|| format!("{s:?} is not one of gen, live, plans"))
}

fn print_stats(out: &mut impl Write, what: &str, stats: &Stats) -> std::io::Result<()> {
    writeln!(out, "{what}")?;
    writeln!(out, "objects: {}", stats.objects)?;
    if stats.max_bytes > 0 {
        writeln!(
            out,
            "bytes: {} ({:.1} MiB of {:.1} MiB cap)",
            stats.bytes,
            mib(stats.bytes),
            mib(stats.max_bytes)
        )?;
    } else {
        writeln!(out, "bytes: {} ({:.1} MiB)", stats.bytes, mib(stats.bytes))?;
    }
    for (class, ext, n, bytes) in &stats.by_kind {
        writeln!(out, "  {class}/ .{ext}: {n} objects, {:.1} MiB", mib(*bytes))?;
    }
    Ok(())
}

fn print_pruned(out: &mut impl Write, what: &str, p: &Pruned) -> std::io::Result<()> {
    writeln!(
        out,
        "{what}: removed {} objects ({:.1} MiB) and {} temporary files; {:.1} MiB remain",
        p.removed,
        mib(p.freed_bytes),
        p.temp_files_removed,
        mib(p.remaining_bytes)
    )
}

fn print_verified(out: &mut impl Write, what: &str, report: &Verified) -> std::io::Result<()> {
    writeln!(out, "checked {} objects in {what}", report.checked)?;
    for p in &report.problems {
        writeln!(out, "  {p}")?;
    }
    writeln!(out, "{}", if report.problems.is_empty() { "all whole" } else { "problems found" })
}

/// `loa cache stats|verify|prune`, on the disk store or on the object
/// store (`cache.store`) and its local tier.
/// JSON of a report on the object store and its local tier, or on the disk
/// store alone.
fn tiered_json<T: serde::Serialize>(
    cache: &crate::cache::Cache,
    store: Option<&T>,
    local: &T,
) -> serde_json::Result<serde_json::Value> {
    match store {
        Some(s) => Ok(serde_json::json!({ "store": cache.describe(), "objects": s, "local_tier": local })),
        None => serde_json::to_value(local),
    }
}

pub fn cache(args: CacheArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let config = load_config(globals)?;
    let fail = |e: CacheError| exit(if matches!(e, CacheError::Config(_)) { 2 } else { 1 }, e.to_string());
    let cache = Cache::open(&config.cache).map_err(fail)?;
    let disk = cache.disk_store().clone();
    let remote = cache.is_tiered().then(|| std::sync::Arc::clone(cache.primary()));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match args.action {
        CacheAction::Stats { json } => {
            let local = disk.stats().map_err(fail)?;
            let store = match &remote {
                Some(r) => Some(rt.block_on(admin::stats(r.as_ref())).map_err(fail)?),
                None => None,
            };
            if json {
                let v = tiered_json(&cache, store.as_ref(), &local)?;
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                if let (Some(r), Some(s)) = (&remote, &store) {
                    print_stats(&mut out, &format!("cache: {}", r.describe()), s)?;
                }
                let what = if remote.is_some() { "local tier" } else { "cache" };
                print_stats(&mut out, &format!("{what}: {}", disk.dir().display()), &local)?;
            }
        }
        CacheAction::Verify { json } => {
            let store = remote.as_ref().map(|r| rt.block_on(verify_store(r.as_ref())));
            let mut local = rt.block_on(verify_store(&disk));
            local.temp_files = temp_files(&disk);
            let bad = !local.problems.is_empty() || store.as_ref().is_some_and(|s| !s.problems.is_empty());
            if json {
                let v = tiered_json(&cache, store.as_ref(), &local)?;
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                if let (Some(r), Some(s)) = (&remote, &store) {
                    print_verified(&mut out, &r.describe(), s)?;
                }
                let what = if remote.is_some() { "the local tier " } else { "" };
                print_verified(&mut out, &format!("{what}{}", disk.dir().display()), &local)?;
            }
            if bad {
                return Ok(ExitCode::from(1));
            }
        }
        CacheAction::Prune { max_bytes, older_than, class } => {
            let classes = if class.is_empty() { Class::ALL.to_vec() } else { class };
            match older_than {
                Some(age) => {
                    let cutoff = std::time::SystemTime::now() - age.0;
                    if let Some(r) = &remote {
                        let p = rt
                            .block_on(admin::prune_older_than(r.as_ref(), cutoff, &classes))
                            .map_err(fail)?;
                        print_pruned(&mut out, &r.describe(), &p)?;
                    }
                    let p = if classes.len() == Class::ALL.len() {
                        disk.prune_older_than(cutoff).map_err(fail)?
                    } else {
                        rt.block_on(admin::prune_older_than(&disk, cutoff, &classes)).map_err(fail)?
                    };
                    print_pruned(&mut out, &disk.describe(), &p)?;
                }
                None => {
                    let target = max_bytes.unwrap_or(disk.max_bytes());
                    print_pruned(&mut out, &disk.describe(), &disk.prune_to(target).map_err(fail)?)?;
                }
            }
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

/// Check every object of a disk store (blocking).
#[cfg(test)]
fn verify(store: &DiskStore) -> Verified {
    let mut report = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt.block_on(verify_store(store)),
        Err(e) => Verified { problems: vec![format!("cannot start a runtime: {e}")], ..Verified::default() },
    };
    report.temp_files = temp_files(store);
    report
}

fn temp_files(store: &DiskStore) -> u64 {
    std::fs::read_dir(store.dir().join("tmp")).map(|d| d.count() as u64).unwrap_or(0)
}

/// Check every object of any store (objects are listed as a stream and
/// read one at a time).
pub async fn verify_store(store: &dyn Storage) -> Verified {
    let mut report = Verified::default();
    let mut durations = std::collections::HashMap::new();
    let mut timings = Vec::new();
    for class in Class::ALL {
        let mut listing = store.list_stream(class);
        loop {
            let meta = match listing.try_next().await {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    report.problems.push(format!("{}: {e}", class.prefix()));
                    break;
                }
            };
            report.checked += 1;
            let name: &Name = &meta.name;
            let bytes = match store.get(name, None).await {
                Ok(Some(obj)) => match obj.bytes().await {
                    Ok(b) => b,
                    Err(e) => {
                        report.problems.push(format!("{name}: {e}"));
                        continue;
                    }
                },
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
