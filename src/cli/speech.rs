//! `loa speak`, `loa generate`, `loa voices`, `loa cache`.
//!
//! Thin wrappers over [`loa::pipeline::Engine`](crate::pipeline::Engine):
//! they read inputs, map pipeline errors to exit codes (2 for bad input or
//! configuration, 1 for failures) and write outputs atomically (a temporary
//! file in the target directory, renamed into place), so a failed run
//! leaves nothing at the output path.

mod generate;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{Exit, Globals};
use crate::audio::Format;
use crate::cache::{Cache, CacheError, CacheKey, Class, Ext, Pruned, Stats, Storage, admin};
use crate::config::Config;
use crate::pipeline::{Engine, Job, PipelineError};

pub use generate::generate;

/// Where speak and generate keep their audio, for `--help`.
const CACHE_HELP: &str = "Audio is cached under cache.dir from the config (default: ./cache, relative to the \
                          current directory; env LOA_CACHE_DIR; --cache-dir DIR), the same cache `loa serve` \
                          reads.";

#[derive(Args, Debug)]
#[command(after_help = CACHE_HELP)]
pub struct SpeakArgs {
    /// Article to read: a .txt or .html file, an http(s) URL, or - (default) for standard input.
    #[arg(value_name = "FILE|URL|-")]
    pub input: Option<PathBuf>,
    /// Output file; its extension (.mp3 or .wav) picks the format unless --format is given.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Voice name (see `loa voices`); default from the config.
    #[arg(long)]
    pub voice: Option<String>,
    /// Also write the timings (sentence spans in ms) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub timings: Option<PathBuf>,
    /// Output format: mp3 or wav.
    #[arg(long)]
    pub format: Option<Format>,
    /// Treat the input as HTML (default: .html/.htm files and input starting with `<`).
    #[arg(long)]
    pub html: bool,
}

#[derive(Args, Debug)]
#[command(after_help = CACHE_HELP)]
pub struct GenerateArgs {
    /// Files or directories; every .txt, .html and .htm article under them is read.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Directory for the audio, timings and manifest.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Articles processed at once.
    #[arg(long, short, default_value_t = 2)]
    pub jobs: usize,
    /// Output format.
    #[arg(long, default_value = "mp3")]
    pub format: Format,
    /// Voice name (see `loa voices`); default from the config.
    #[arg(long)]
    pub voice: Option<String>,
    /// Only this machine's share, I of N (e.g. 2/3): N machines given the
    /// same inputs and the same shared store (cache.store) pre-generate
    /// the site together, each article on exactly one of them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<generate::Shard>,
}

#[derive(Args, Debug)]
pub struct VoicesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

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

/// An error with an exit code: 2 for bad input, 1 otherwise.
pub(super) fn exit(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Exit { code, message: message.into() })
}

pub(super) fn pipeline_error(e: PipelineError) -> anyhow::Error {
    exit(if e.is_bad_input() { 2 } else { 1 }, e.to_string())
}

/// The config file (or defaults), then the environment, then the global
/// `--cache-dir`/`--voices-dir` flags. A bad file or variable exits 2.
pub(super) fn load_config(globals: &Globals) -> anyhow::Result<Config> {
    let mut config = super::load_config_file(globals.config.as_deref())?;
    globals.apply(&mut config);
    Ok(config)
}

pub(super) fn engine(config: &Config) -> anyhow::Result<Engine> {
    Engine::new(config).map_err(pipeline_error)
}

/// A temporary file next to `path`, renamed onto it by [`Pending::commit`];
/// dropped uncommitted, it vanishes. Creating it first proves the
/// directory is writable before any work is done.
pub(super) struct Pending {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Pending {
    pub(super) fn new(path: &Path) -> anyhow::Result<Pending> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if path.is_dir() {
            return Err(exit(2, format!("cannot write {}: it is a directory", path.display())));
        }
        let tmp = tempfile::Builder::new()
            .prefix(".loa-tmp-")
            .tempfile_in(dir)
            .map_err(|e| exit(2, format!("cannot write {}: {e}", path.display())))?;
        Ok(Pending { tmp, path: path.to_path_buf() })
    }

    /// Copy the cached object `key.ext` into the temporary file;
    /// [`Filled::commit`] renames it.
    pub(super) async fn fill_from_cache(
        self,
        engine: &Engine,
        key: &CacheKey,
        ext: Ext,
    ) -> anyhow::Result<Filled> {
        let obj = engine
            .open(key, ext, None)
            .await
            .map_err(pipeline_error)?
            .ok_or_else(|| exit(1, format!("{key}.{} vanished from the cache", ext.as_str())))?;
        let bytes = obj.bytes().await.map_err(|e| exit(1, e.to_string()))?;
        self.fill_with(|f| std::io::Write::write_all(f, &bytes))
    }

    /// Write `bytes` and rename onto the target.
    pub(super) fn commit_bytes(self, bytes: &[u8]) -> anyhow::Result<()> {
        self.fill_with(|f| std::io::Write::write_all(f, bytes))?.commit()
    }

    fn fill_with(
        self,
        fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
    ) -> anyhow::Result<Filled> {
        let mut tmp = self.tmp;
        fill(tmp.as_file_mut()).with_context(|| format!("writing {}", self.path.display()))?;
        tmp.as_file().sync_data().ok();
        // Temporary files are created 0600; outputs are ordinary files.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        Ok(Filled { tmp, path: self.path })
    }
}

/// A temporary file with its full contents, waiting to be renamed onto its
/// target; dropped uncommitted, it vanishes.
pub(super) struct Filled {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Filled {
    /// Rename onto the target (atomic within one directory).
    pub(super) fn commit(self) -> anyhow::Result<()> {
        self.tmp
            .persist(&self.path)
            .map_err(|e| exit(1, format!("cannot write {}: {}", self.path.display(), e.error)))?;
        Ok(())
    }
}

/// Copy each cached object into its pending output, and only when every
/// copy is complete rename them all, back to back: a failure leaves the
/// previous outputs (or none), never new audio next to stale or missing
/// timings.
pub(super) async fn commit_copies(
    engine: &Engine,
    outputs: Vec<(Pending, CacheKey, Ext)>,
) -> anyhow::Result<()> {
    let mut filled = Vec::with_capacity(outputs.len());
    for (p, key, ext) in outputs {
        filled.push(p.fill_from_cache(engine, &key, ext).await?);
    }
    filled.into_iter().try_for_each(Filled::commit)
}

/// `2m41s` / `41.3s`.
pub(super) fn human_ms(ms: u64) -> String {
    if ms >= 60_000 {
        format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60)
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

pub(super) fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut b = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    b.enable_all().build().context("starting the async runtime")
}

pub fn speak(args: SpeakArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = load_config(globals)?;
    let format = match args.format {
        Some(f) => f,
        None => Format::from_path(&args.output).ok_or_else(|| {
            exit(
                2,
                format!("cannot tell the format of {}: use .mp3 or .wav, or --format", args.output.display()),
            )
        })?,
    };
    let format_in = if args.html { super::input::InputFormat::Html } else { super::input::InputFormat::Auto };
    let article = super::input::article(args.input.as_deref(), format_in)?;
    let text = article.text;

    let out = Pending::new(&args.output)?;
    let timings_out = args.timings.as_deref().map(Pending::new).transpose()?;
    let engine = engine(&config)?;
    let plan = engine.plan(&text, args.voice.as_deref(), format).map_err(pipeline_error)?;
    let job = Job::pregenerate();
    let rendered = runtime(1)?.block_on(async {
        let rendered = engine.render(&plan, &job).await.map_err(pipeline_error)?;
        let mut outputs = vec![(out, rendered.key.clone(), Ext::from(format))];
        outputs.extend(timings_out.map(|t| (t, rendered.key.clone(), Ext::Json)));
        commit_copies(&engine, outputs).await?;
        anyhow::Ok(rendered)
    })?;
    let n = plan.len();
    let how = if rendered.from_cache {
        "article from cache".to_string()
    } else {
        format!("{} cached, {} synthesized", n - rendered.synthesized, rendered.synthesized)
    };
    eprintln!(
        "wrote {}: {}, {n} sentences ({how}) in {:.2}s",
        args.output.display(),
        human_ms(rendered.duration_ms),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn voices(args: VoicesArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let config = load_config(globals)?;
    let engine = engine(&config)?;
    let voices = engine.voices();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&voices)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let width = voices.iter().map(|v| v.name.len()).max().unwrap_or(4).max(4);
    writeln!(out, "{:width$}  {:8}  {:9}  DESCRIPTION", "NAME", "BACKEND", "AVAILABLE")?;
    for v in &voices {
        let mark = if v.name == engine.default_voice() { " (default)" } else { "" };
        writeln!(
            out,
            "{:width$}  {:8}  {:9}  {}{mark}",
            v.name,
            v.backend,
            if v.available { "yes" } else { "no" },
            v.description
        )?;
        if let Some(p) = &v.problem {
            writeln!(out, "{:width$}  {:8}  {:9}  ↳ {p}", "", "", "")?;
        }
    }
    Ok(ExitCode::SUCCESS)
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

/// `loa cache stats|prune`, on the disk store or on the object store
/// (`cache.store`) and its local tier.
pub fn cache(args: CacheArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let config = load_config(globals)?;
    let fail = |e: CacheError| exit(if matches!(e, CacheError::Config(_)) { 2 } else { 1 }, e.to_string());
    let cache = Cache::open(&config.cache).map_err(fail)?;
    let disk = cache.disk_store().clone();
    let remote = cache.is_tiered().then(|| std::sync::Arc::clone(cache.primary()));
    let rt = runtime(2)?;
    match args.action {
        CacheAction::Stats { json } => {
            let local = disk.stats().map_err(fail)?;
            let store = match &remote {
                Some(r) => Some(rt.block_on(admin::stats(r.as_ref())).map_err(fail)?),
                None => None,
            };
            if json {
                let v = match store {
                    Some(s) => serde_json::json!({ "store": cache.describe(), "objects": s, "local_tier": local }),
                    None => serde_json::to_value(&local)?,
                };
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                if let (Some(r), Some(s)) = (&remote, &store) {
                    print_stats(&mut out, &format!("cache: {}", r.describe()), s)?;
                }
                let what = if remote.is_some() { "local tier" } else { "cache" };
                print_stats(&mut out, &format!("{what}: {}", disk.dir().display()), &local)?;
            }
        }
        CacheAction::Prune { max_bytes, older_than, class } => {
            let classes = if class.is_empty() { Class::ALL.to_vec() } else { class };
            match older_than {
                Some(age) => {
                    let cutoff = std::time::SystemTime::now() - age.0;
                    if let Some(r) = &remote {
                        let p =
                            rt.block_on(admin::prune_older_than(r.as_ref(), cutoff, &classes)).map_err(fail)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fill_renames_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let audio = dir.path().join("a.mp3");
        std::fs::write(&audio, "old audio").unwrap();
        let p = Pending::new(&audio).unwrap();
        assert!(p.fill_with(|_| Err(std::io::Error::other("disk gone"))).is_err());
        assert_eq!(std::fs::read_to_string(&audio).unwrap(), "old audio");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
        Pending::new(&audio).unwrap().commit_bytes(b"new audio").unwrap();
        assert_eq!(std::fs::read_to_string(&audio).unwrap(), "new audio");
    }

    #[test]
    fn ages() {
        assert_eq!("90d".parse::<Age>().unwrap().0.as_secs(), 90 * 86400);
        assert_eq!("12h".parse::<Age>().unwrap().0.as_secs(), 12 * 3600);
        assert!("ten".parse::<Age>().is_err() && "5y".parse::<Age>().is_err());
    }

    #[test]
    fn global_dirs_override_the_config() {
        let g = Globals {
            config: None,
            cache_dir: Some(PathBuf::from("/tmp/c")),
            voices_dir: Some(PathBuf::from("/tmp/v")),
        };
        let mut c = Config::default();
        g.apply(&mut c);
        assert_eq!(
            (c.cache.dir.as_path(), c.speech.voices_dir.as_path()),
            (Path::new("/tmp/c"), Path::new("/tmp/v"))
        );
        let mut d = Config::default();
        Globals::default().apply(&mut d);
        assert_eq!(d, Config::default());
    }
}
