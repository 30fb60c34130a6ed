//! `loa generate`: pre-generate audio for every article under some paths,
//! into the same cache the server reads, with a progress bar, a summary and
//! `manifest.json`. One failing article is reported; the rest continue.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::jobs::{Job, Names, Source};
use super::{
    GenerateArgs, Pending, RenderCopyError, engine, exit, human_ms, load_config, render_and_commit, runtime,
};
use crate::cache::{CacheKey, Ext};
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::pipeline::{Engine, Plan};

/// One line of `manifest.json`.
#[derive(Debug, Serialize)]
struct Entry {
    input: String,
    /// Where a URL's article was found (after redirects).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    audio: Option<String>,
    timings: Option<String>,
    key: Option<String>,
    sentences: usize,
    duration_ms: u64,
    from_cache: bool,
    synthesized: usize,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct Manifest {
    voice: String,
    format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
    articles: usize,
    failed: usize,
    entries: Vec<Entry>,
}

/// `--shard I/N`: this machine's share of the articles. An article belongs
/// to the shard its key (the hash of everything that determines its audio)
/// falls in, so the split depends on neither the order nor the paths the
/// machines see, and one article given twice lands once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    index: u64,
    count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("{s:?}: expected I/N with 1 ≤ I ≤ N, e.g. 2/3");
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let (i, n): (u64, u64) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard { index: i - 1, count: n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl Shard {
    /// Whether the article with this key is ours.
    pub fn takes(&self, key: &CacheKey) -> bool {
        u64::from_str_radix(&key.as_str()[..16], 16).map_or(true, |h| h % self.count == self.index)
    }
}

fn read_article(path: &Path, config: &Config) -> Result<String, String> {
    super::super::input::article(Some(path), super::super::input::InputFormat::Auto, config)
        .map(|a| a.text)
        .map_err(|e| format!("{e:#}"))
}

/// Fetches at once per host.
struct Hosts {
    per_host: usize,
    slots: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl Hosts {
    fn slot(&self, url: &str) -> Arc<tokio::sync::Semaphore> {
        let host = crate::text::html::url_host(url).unwrap_or_default();
        let mut m = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(m.entry(host).or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(self.per_host))))
    }
}

/// The article's text (and, for a URL, where it was found).
async fn article_of(
    job: &Job,
    config: &Config,
    fetcher: &Fetcher,
    hosts: &Hosts,
) -> Result<(String, Option<String>), String> {
    match &job.source {
        Source::File(p) => {
            let (p, config) = (p.clone(), config.clone());
            tokio::task::spawn_blocking(move || read_article(&p, &config))
                .await
                .map_err(|e| e.to_string())?
                .map(|t| (t, None))
        }
        Source::Url(u) => {
            let slot = hosts.slot(u);
            let _permit = slot.acquire().await.map_err(|e| e.to_string())?;
            let a = crate::fetch::fetch_article(fetcher, u).await.map_err(|e| e.to_string())?;
            Ok((a.extracted.text, Some(a.final_url)))
        }
    }
}

/// Every article the arguments name: files, directories, URLs, `--urls`,
/// and what `--feed` / `--sitemap` list (dated `--since`, at most `--limit`).
fn collect(args: &GenerateArgs, fetcher: &Fetcher) -> anyhow::Result<Vec<Job>> {
    let mut names = Names::new(&args.out, args.format.ext());
    names.add_paths(&args.paths)?;
    if let Some(f) = &args.urls {
        for u in super::jobs::read_url_file(f)? {
            let rel = super::jobs::url_rel(&u);
            names.add(Source::Url(u), &rel);
        }
    }
    let since = match &args.since {
        None => None,
        Some(s) => Some(
            crate::sources::parse_date(s)
                .ok_or_else(|| exit(2, format!("--since {s:?} is not a date (YYYY-MM-DD or RFC 3339)")))?,
        ),
    };
    if !args.feed.is_empty() || !args.sitemap.is_empty() {
        let listed = runtime(1)?.block_on(async {
            let mut all = Vec::new();
            for f in &args.feed {
                all.extend(crate::sources::feed(fetcher, f).await?);
            }
            for s in &args.sitemap {
                all.extend(crate::sources::sitemap(fetcher, s).await?);
            }
            Ok::<_, crate::sources::SourceError>(all)
        });
        let listed = listed.map_err(|e| {
            let refused = matches!(&e, crate::sources::SourceError::Fetch(f) if f.is_refusal());
            exit(if refused { 2 } else { 1 }, e.to_string())
        })?;
        let found = listed.len();
        let chosen = crate::sources::select(listed, since, args.limit);
        eprintln!("{} articles listed, {} chosen", found, chosen.len());
        for l in chosen {
            let rel = super::jobs::url_rel(&l.url);
            names.add(Source::Url(l.url), &rel);
        }
    }
    Ok(names.jobs)
}

/// A progress callback that gives `permit` back once `n` sentences are done.
fn release_when_done(permit: tokio::sync::OwnedSemaphorePermit, n: usize) -> impl Fn(usize) + Send + Sync {
    let slot = std::sync::Mutex::new(Some(permit));
    move |done: usize| {
        if done >= n {
            drop(slot.lock().unwrap_or_else(|p| p.into_inner()).take());
        }
    }
}

async fn run_one(
    engine: &Engine,
    job: &Job,
    plan: Plan,
    sentences: Arc<AtomicUsize>,
    bar: &ProgressBar,
    slots: &Arc<tokio::sync::Semaphore>,
) -> Result<crate::pipeline::Rendered, String> {
    // One of the `--jobs` slots while sentences are being synthesized; it
    // goes to the next article once all of this one's are in (its file is
    // then finished, made durable and copied out without a slot), so the
    // synthesis workers do not wait for this article's disk writes.
    let permit = Arc::clone(slots).acquire_owned().await.map_err(|e| e.to_string())?;
    let release = release_when_done(permit, plan.len());
    let last = Arc::new(AtomicUsize::new(0));
    let bar2 = bar.clone();
    let work = crate::pipeline::Job::pregenerate().with_progress(move |done: usize| {
        let step = done.saturating_sub(last.swap(done, Ordering::Relaxed));
        let all = sentences.fetch_add(step, Ordering::Relaxed) + step;
        bar2.set_message(format!("{all} sentences"));
        release(done);
    });
    let rendered = engine.render(&plan, &work).await.map_err(|e| crate::report::chain(&e))?;
    // Both copies complete before either is renamed (see render_and_commit).
    let mut outputs = Vec::with_capacity(2);
    for (path, ext) in [(&job.audio, Ext::from(plan.format())), (&job.timings, Ext::Json)] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        outputs.push((Pending::new(path).map_err(|e| format!("{e:#}"))?, ext));
    }
    render_and_commit(engine, rendered, outputs, async || engine.render(&plan, &work).await).await.map_err(
        |e| match e {
            RenderCopyError::Render(e) => crate::report::chain(&e),
            RenderCopyError::Copy(e) => format!("{e:#}"),
        },
    )
}

pub fn generate(args: GenerateArgs, globals: &super::Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = load_config(globals)?;
    if args.jobs == 0 {
        return Err(exit(2, "--jobs must be at least 1"));
    }
    let mut sources = config.sources.clone();
    if let Some(n) = args.per_host {
        sources.per_host = n as usize;
    }
    let fetcher = Fetcher::new(&sources, false, Some(&config.cache.dir.join("pages")))
        .map_err(super::super::input::fetch_error)?;
    // Files are checked before anything is fetched or synthesized.
    if !args.paths.is_empty() {
        let mut probe = Names::new(&args.out, args.format.ext());
        probe.add_paths(&args.paths)?;
    }
    let engine = engine(&config)?;
    let voice = args.voice.clone().unwrap_or_else(|| engine.default_voice().to_string());
    // An unknown voice is an error for the whole run, not for each article.
    engine.require_voice(&voice).map_err(super::pipeline_error)?;
    let jobs = collect(&args, &fetcher)?;
    if jobs.is_empty() {
        return Err(exit(2, "no articles: no .txt or .html files under the given paths, and no URLs"));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| exit(2, format!("cannot create {}: {e}", args.out.display())))?;
    // Temporary outputs of an earlier run that was killed go first.
    let dirs: std::collections::BTreeSet<&Path> = jobs
        .iter()
        .flat_map(|j| [j.audio.parent(), j.timings.parent()])
        .flatten()
        .chain([args.out.as_path()])
        .collect();
    let stale: usize = dirs.into_iter().map(super::clean_stale_outputs).sum();
    if stale > 0 {
        eprintln!("removed {stale} temporary file(s) left by an interrupted run");
    }
    // Fail early, before any synthesis, when the output directory is not writable.
    let manifest_out = Pending::new(&args.out.join("manifest.json"))?;

    let n_jobs = jobs.len();
    let bar = ProgressBar::with_draw_target(Some(n_jobs as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} articles · {msg} · {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let sentences_done = Arc::new(AtomicUsize::new(0));
    bar.set_message("0 sentences");
    let hosts = Hosts { per_host: sources.per_host, slots: Default::default() };

    let slots = Arc::new(tokio::sync::Semaphore::new(args.jobs));
    let rt = runtime(args.jobs.clamp(2, 8))?;
    // None: another shard's article.
    type Outcome = (usize, Option<Result<crate::pipeline::Rendered, String>>, usize, Option<String>);
    let results: Vec<Outcome> = rt.block_on(async {
        futures::stream::iter(jobs.iter().enumerate())
            .map(|(i, job)| {
                let (engine, bar, done, voice, config, fetcher, hosts, slots) =
                    (&engine, &bar, &sentences_done, &voice, &config, &fetcher, &hosts, &slots);
                async move {
                    // With --shard, an article is ours by its key; one that
                    // cannot be read or planned goes by its name.
                    let ours = |key: &CacheKey| args.shard.is_none_or(|s| s.takes(key));
                    let by_name = || ours(&CacheKey::hash(&[&job.name()]));
                    let (result, n, url) = match article_of(job, config, fetcher, hosts).await {
                        Err(e) => (by_name().then_some(Err(e)), 0, None),
                        Ok((text, url)) => match engine.plan(&text, Some(voice), args.format) {
                            Err(e) => (by_name().then(|| Err(crate::report::chain(&e))), 0, url),
                            Ok(plan) if !ours(plan.key()) => (None, 0, url),
                            Ok(plan) => {
                                let n = plan.len();
                                let r = run_one(engine, job, plan, Arc::clone(done), bar, slots).await;
                                (Some(r), n, url)
                            }
                        },
                    };
                    bar.inc(1);
                    if let Some(Err(e)) = &result {
                        bar.suspend(|| eprintln!("failed: {}: {e}", job.name()));
                    }
                    (i, result, n, url)
                }
            })
            // Twice `--jobs` articles at once: `--jobs` synthesizing (the
            // slots), the others read, planned or finishing their files.
            .buffer_unordered(args.jobs.saturating_mul(2))
            .collect()
            .await
    });
    bar.finish_and_clear();

    let mut results = results;
    results.sort_by_key(|r| r.0);
    let mut entries = Vec::with_capacity(results.len());
    let (mut failed, mut cached, mut synthesized, mut audio_ms) = (0, 0, 0, 0);
    let all = results.len();
    let results: Vec<_> =
        results.into_iter().filter_map(|(i, r, n, url)| r.map(|r| (i, r, n, url))).collect();
    let n_jobs = results.len();
    if let Some(shard) = args.shard {
        eprintln!("shard {shard}: {n_jobs} of {all} articles");
    }
    for (i, result, n, url) in results {
        let job = &jobs[i];
        let input = job.name();
        entries.push(match result {
            Ok(r) => {
                cached += r.from_cache as usize;
                synthesized += r.synthesized;
                audio_ms += r.duration_ms;
                Entry {
                    input,
                    url,
                    audio: Some(job.audio.display().to_string()),
                    timings: Some(job.timings.display().to_string()),
                    key: Some(r.key.to_string()),
                    sentences: n,
                    duration_ms: r.duration_ms,
                    from_cache: r.from_cache,
                    synthesized: r.synthesized,
                    error: None,
                }
            }
            Err(e) => {
                failed += 1;
                Entry {
                    input,
                    url,
                    audio: None,
                    timings: None,
                    key: None,
                    sentences: n,
                    duration_ms: 0,
                    from_cache: false,
                    synthesized: 0,
                    error: Some(e),
                }
            }
        });
    }
    let manifest = Manifest {
        voice,
        format: args.format.ext().to_string(),
        shard: args.shard.map(|s| s.to_string()),
        articles: entries.len(),
        failed,
        entries,
    };
    manifest_out.commit_bytes(&serde_json::to_vec_pretty(&manifest)?)?;
    eprintln!(
        "generated {} of {} articles ({} from cache), {} of audio, {} sentences synthesized, in {:.1}s; manifest: {}",
        n_jobs - failed,
        n_jobs,
        cached,
        human_ms(audio_ms),
        synthesized,
        started.elapsed().as_secs_f64(),
        args.out.join("manifest.json").display()
    );
    if failed > 0 {
        eprintln!("{failed} article(s) failed; see the messages above and manifest.json");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_given_back_once_every_sentence_is_in() {
        let slots = Arc::new(tokio::sync::Semaphore::new(1));
        let release = release_when_done(Arc::clone(&slots).try_acquire_owned().unwrap(), 3);
        for done in [0, 1, 2] {
            release(done);
            assert_eq!(slots.available_permits(), 0, "still synthesizing after {done} of 3");
        }
        release(3);
        assert_eq!(slots.available_permits(), 1, "the next article may start");
        release(3);
        assert_eq!(slots.available_permits(), 1, "given back once");
        // Dropped without finishing (an error): given back too.
        let release = release_when_done(Arc::clone(&slots).try_acquire_owned().unwrap(), 5);
        assert_eq!(slots.available_permits(), 0);
        drop(release);
        assert_eq!(slots.available_permits(), 1);
    }

    #[test]
    fn shards_parse_and_split_every_key_exactly_once() {
        for bad in ["0/3", "4/3", "1", "a/b", "1/0", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let shards: Vec<Shard> = (1..=3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        assert_eq!(shards[1].to_string(), "2/3");
        let mut per = [0usize; 3];
        for n in 0..300 {
            let key = CacheKey::hash(&[&n.to_string()]);
            let owners: Vec<usize> = (0..3).filter(|&i| shards[i].takes(&key)).collect();
            assert_eq!(owners.len(), 1, "key {n} has one owner");
            per[owners[0]] += 1;
        }
        assert!(per.iter().all(|&c| c > 60), "roughly even: {per:?}");
    }
}
