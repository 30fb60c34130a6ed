//! `loa speak`, `loa generate`, `loa voices`, `loa cache`.
//!
//! Thin wrappers over [`loa::pipeline::Engine`](crate::pipeline::Engine):
//! they read inputs, map pipeline errors to exit codes (2 for bad input or
//! configuration, 1 for failures) and write outputs atomically (a temporary
//! file in the target directory, renamed into place), so a failed run
//! leaves nothing at the output path.

mod generate;
mod jobs;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::{Exit, Globals};
use crate::audio::Format;
use crate::cache::{CacheKey, Ext};
use crate::config::Config;
use crate::pipeline::{Engine, Job, PipelineError, Rendered};

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
    /// Files, directories (every .txt, .html and .htm article under them) or http(s) URLs.
    #[arg(required_unless_present_any = ["urls", "sitemap", "feed"], value_name = "PATH|URL")]
    pub paths: Vec<PathBuf>,
    /// A file of article URLs, one a line (# comments).
    #[arg(long, value_name = "FILE")]
    pub urls: Option<PathBuf>,
    /// A sitemap (urlset or sitemapindex, .xml or .xml.gz) whose articles to read; repeatable.
    #[arg(long, value_name = "URL")]
    pub sitemap: Vec<String>,
    /// An RSS 2.0 or Atom feed whose articles to read; repeatable.
    #[arg(long, value_name = "URL")]
    pub feed: Vec<String>,
    /// Only feed and sitemap articles dated on or after this (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// At most this many feed and sitemap articles, newest first.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Fetches at once to one site (config sources.per_host, default 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub per_host: Option<u32>,
    /// Directory for the audio, timings and manifest.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Articles synthesized at once (as many more may meanwhile be read or
    /// fetched, or be finishing their files).
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

/// An error with an exit code: 2 for bad input, 1 otherwise.
pub(super) fn exit(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Exit { code, message: message.into() })
}

pub(super) fn pipeline_error(e: PipelineError) -> anyhow::Error {
    super::failure(if e.is_bad_input() { 2 } else { 1 }, e)
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

/// Temporary output files start with this, then the writer's process id.
const TMP_PREFIX: &str = ".loa-tmp-";

/// Remove temporary output files in `dir` left by loa processes that are
/// gone (killed mid-write); files of running processes are kept.
pub(super) fn clean_stale_outputs(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TMP_PREFIX) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new("/proc").join(p.to_string()).exists());
        if !alive && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
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
            .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
            .tempfile_in(dir)
            .map_err(|e| exit(2, format!("cannot write {}: {e}", path.display())))?;
        Ok(Pending { tmp, path: path.to_path_buf() })
    }

    /// Copy the cached object `key.ext` into the temporary file (emptied
    /// first). False, with nothing written, when the object is not in the
    /// cache: evicted since it was made (by another process under a cap).
    async fn fill_from_cache(&mut self, engine: &Engine, key: &CacheKey, ext: Ext) -> anyhow::Result<bool> {
        use std::io::Seek;
        let writing = || format!("writing {}", self.path.display());
        self.tmp.as_file().set_len(0).with_context(writing)?;
        self.tmp.as_file_mut().rewind().with_context(writing)?;
        let Some(obj) = engine.open(key, ext, None).await.map_err(pipeline_error)? else {
            return Ok(false);
        };
        // Copied by the kernel where the object is a file: a three-hour WAV
        // needs no more memory than a short one.
        let dest = self.tmp.as_file().try_clone().with_context(writing)?;
        obj.copy_to(dest).await.with_context(|| {
            format!("writing {} from cache object {key}.{}", self.path.display(), ext.as_str())
        })?;
        Ok(true)
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

/// What [`commit_copies`] did.
enum Copies {
    /// Every output was renamed onto its target.
    Committed,
    /// An object was gone from the cache (evicted by another process under
    /// a cap since the render): nothing was renamed, and here are the
    /// outputs back, to copy again after rendering again.
    Evicted(Vec<(Pending, Ext)>),
}

/// Copy each cached object `key.ext` into its pending output, and only
/// when every copy is complete rename them all, back to back: a failure
/// leaves the previous outputs (or none), never new audio next to stale or
/// missing timings.
async fn commit_copies(
    engine: &Engine,
    key: &CacheKey,
    mut outputs: Vec<(Pending, Ext)>,
) -> anyhow::Result<Copies> {
    for (p, ext) in &mut outputs {
        if !p.fill_from_cache(engine, key, *ext).await? {
            return Ok(Copies::Evicted(outputs));
        }
    }
    // The fsyncs and renames off the async workers: on a runtime of two
    // threads, two articles syncing at once would stop the reading of every
    // synthesis worker's samples.
    tokio::task::spawn_blocking(move || {
        let filled: Vec<Filled> =
            outputs.into_iter().map(|(p, _)| p.fill_with(|_| Ok(()))).collect::<anyhow::Result<_>>()?;
        filled.into_iter().try_for_each(Filled::commit)
    })
    .await
    .context("writing the outputs")??;
    Ok(Copies::Committed)
}

/// Renders of one article that `render_and_commit` tries before giving up
/// on copies evicted each time.
const RENDERS: usize = 3;

/// Copy the article `rendered` (and its timings) from the cache to
/// `outputs` (each with the extension of the object it gets). A cache
/// shared with other processes under a cap can evict the article between
/// the render and the copy: it is then rendered again with `render` (from
/// the sentence objects still cached), up to [`RENDERS`] renders in all.
/// The result counts the sentences synthesized by every render.
pub(super) async fn render_and_commit(
    engine: &Engine,
    mut rendered: Rendered,
    mut outputs: Vec<(Pending, Ext)>,
    mut render: impl AsyncFnMut() -> Result<Rendered, PipelineError>,
) -> Result<Rendered, RenderCopyError> {
    let mut synthesized = rendered.synthesized;
    for attempt in 1..=RENDERS {
        match commit_copies(engine, &rendered.key, outputs).await.map_err(RenderCopyError::Copy)? {
            Copies::Committed => {
                rendered.synthesized = synthesized;
                return Ok(rendered);
            }
            Copies::Evicted(back) if attempt < RENDERS => {
                tracing::info!(key = %rendered.key, "the article was evicted from the cache before it was copied; rendering it again");
                outputs = back;
                rendered = render().await.map_err(RenderCopyError::Render)?;
                synthesized += rendered.synthesized;
            }
            Copies::Evicted(_) => break,
        }
    }
    Err(RenderCopyError::Copy(exit(
        1,
        format!(
            "{} was evicted from the cache {RENDERS} times before it could be copied: the cache is too small \
             for the work sharing it (raise cache.max_bytes, or run fewer processes on it)",
            rendered.key
        ),
    )))
}

/// Why [`render_and_commit`] failed.
pub(super) enum RenderCopyError {
    /// A render.
    Render(PipelineError),
    /// Copying or committing the outputs.
    Copy(anyhow::Error),
}

/// Write `bytes` to `path` atomically (temporary file, then rename).
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Pending::new(path)?.commit_bytes(bytes)
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
    let article = super::input::article(args.input.as_deref(), format_in, &config)?;
    let text = article.text;

    let out = Pending::new(&args.output)?;
    let timings_out = args.timings.as_deref().map(Pending::new).transpose()?;
    let engine = engine(&config)?;
    let plan = engine.plan(&text, args.voice.as_deref(), format).map_err(pipeline_error)?;
    let job = Job::pregenerate();
    let rendered = runtime(1)?.block_on(async {
        let rendered = engine.render(&plan, &job).await.map_err(pipeline_error)?;
        let mut outputs = vec![(out, Ext::from(format))];
        outputs.extend(timings_out.map(|t| (t, Ext::Json)));
        render_and_commit(&engine, rendered, outputs, async || engine.render(&plan, &job).await)
            .await
            .map_err(|e| match e {
                RenderCopyError::Render(e) => pipeline_error(e),
                RenderCopyError::Copy(e) => e,
            })
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

    /// An engine on the offline voice (in this process) over `dir`.
    fn espeak_engine(dir: &Path) -> Engine {
        let mut config = Config::default();
        config.cache.dir = dir.join("cache");
        config.speech.voices_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("voices");
        config.speech.workers = 1;
        Engine::new(&config).unwrap()
    }

    #[tokio::test]
    async fn an_article_evicted_before_its_copy_is_rendered_again() {
        let dir = tempfile::tempdir().unwrap();
        let engine = espeak_engine(dir.path());
        let plan = engine.plan("Câu đầu.\n\nCâu sau.\n", None, crate::audio::Format::Wav).unwrap();
        let job = Job::pregenerate();
        let first = engine.render(&plan, &job).await.unwrap();
        let (wav, json) = (dir.path().join("a.wav"), dir.path().join("a.json"));
        let outputs =
            || vec![(Pending::new(&wav).unwrap(), Ext::Wav), (Pending::new(&json).unwrap(), Ext::Json)];
        // Another process evicts the article after the render; the
        // re-render reassembles it from its sentence objects.
        assert!(engine.cache().purge(&first.key, Ext::Wav).await.unwrap() > 0);
        let renders = std::cell::Cell::new(0);
        let again = render_and_commit(&engine, first.clone(), outputs(), async || {
            renders.set(renders.get() + 1);
            engine.render(&plan, &job).await
        })
        .await
        .unwrap_or_else(|_| panic!("not committed"));
        assert_eq!(
            (renders.get(), again.synthesized),
            (1, 2),
            "rendered once more, synthesizing nothing new"
        );
        let audio = std::fs::read(&wav).unwrap();
        assert_eq!(crate::audio::read_wav(&audio).unwrap().duration_ms(), first.duration_ms);
        assert!(std::fs::read_to_string(&json).unwrap().contains(first.key.as_str()));

        // Evicted after every render: a clear error, and nothing written.
        std::fs::remove_file(&wav).unwrap();
        std::fs::remove_file(&json).unwrap();
        assert!(engine.cache().purge(&first.key, Ext::Wav).await.unwrap() > 0);
        let renders = std::cell::Cell::new(0);
        let failed = render_and_commit(&engine, first.clone(), outputs(), async || {
            renders.set(renders.get() + 1);
            let r = engine.render(&plan, &job).await;
            engine.cache().purge(plan.key(), Ext::Wav).await.unwrap();
            r
        })
        .await;
        let Err(RenderCopyError::Copy(e)) = failed else { panic!("not a copy error") };
        assert!(e.to_string().contains("evicted from the cache 3 times"), "{e}");
        assert_eq!(renders.get(), RENDERS - 1);
        assert!(!wav.exists() && !json.exists(), "an output was written");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.iter().all(|n| !n.to_string_lossy().starts_with(TMP_PREFIX)), "{left:?}");
    }

    #[test]
    fn global_dirs_override_the_config() {
        let g = Globals {
            config: None,
            cache_dir: Some(PathBuf::from("/tmp/c")),
            voices_dir: Some(PathBuf::from("/tmp/v")),
            ..Globals::default()
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
