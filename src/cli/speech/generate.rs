//! `loa generate`: pre-generate audio for every article under some paths,
//! into the same cache the server reads, with a progress bar, a summary and
//! `manifest.json`. One failing article is reported; the rest continue.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::{GenerateArgs, Pending, commit_copies, engine, exit, human_ms, load_config, runtime};
use crate::cache::{CacheKey, Ext};
use crate::pipeline::{Engine, Plan};

/// One article to read and where its outputs go.
struct Job {
    input: PathBuf,
    audio: PathBuf,
    timings: PathBuf,
}

/// One line of `manifest.json`.
#[derive(Debug, Serialize)]
struct Entry {
    input: String,
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

    /// Keep our jobs; an article that cannot be read goes by its path.
    fn select(&self, jobs: Vec<Job>, plans: Vec<Result<Plan, String>>) -> (Vec<Job>, Vec<Result<Plan, String>>) {
        jobs.into_iter()
            .zip(plans)
            .filter(|(job, plan)| match plan {
                Ok(p) => self.takes(p.key()),
                Err(_) => self.takes(&CacheKey::hash(&[&job.input.to_string_lossy()])),
            })
            .unzip()
    }
}

fn is_article(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["txt", "html", "htm"].iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_article(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Every article under `paths`, with output paths mirroring the layout
/// below each given directory (`dir/a/b.txt` → `OUT/a/b.mp3`).
fn collect(paths: &[PathBuf], out: &Path, ext: &str) -> anyhow::Result<Vec<Job>> {
    let mut pairs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for root in paths {
        if root.is_dir() {
            let mut found = Vec::new();
            walk(root, &mut found).map_err(|e| exit(2, format!("cannot read {}: {e}", root.display())))?;
            for f in found {
                let rel = f.strip_prefix(root).unwrap_or(&f).to_path_buf();
                pairs.push((f, rel));
            }
        } else if root.is_file() {
            let name = root.file_name().map(PathBuf::from).unwrap_or_else(|| root.clone());
            pairs.push((root.clone(), name));
        } else {
            return Err(exit(2, format!("no such file or directory: {}", root.display())));
        }
    }
    // The same file given twice (by two paths or twice under one root) is read once.
    let mut inputs = std::collections::HashSet::new();
    // Output stem (below `out`) → the relative path of the article that took it.
    // `manifest` is taken: its timings would overwrite manifest.json.
    let mut used: std::collections::HashMap<PathBuf, PathBuf> =
        [(PathBuf::from("manifest"), PathBuf::new())].into_iter().collect();
    let mut jobs = Vec::new();
    for (input, rel) in pairs {
        let canonical = std::fs::canonicalize(&input).unwrap_or_else(|_| input.clone());
        if !inputs.insert(canonical) {
            continue;
        }
        let stem = output_stem(&rel, &used);
        if stem != rel.with_extension("") {
            eprintln!(
                "note: {} is written as {}.* to keep it apart from another output",
                input.display(),
                out.join(&stem).display()
            );
        }
        used.insert(stem.clone(), rel.clone());
        let base = out.join(&stem);
        let with = |e: &str| {
            let mut s = base.clone().into_os_string();
            s.push(".");
            s.push(e);
            PathBuf::from(s)
        };
        jobs.push(Job { input, audio: with(ext), timings: with("json") });
    }
    Ok(jobs)
}

/// A free output stem for the article at `rel`: its path without the
/// extension, else (when `a.txt` and `a.html` sit side by side) with the
/// extension kept, else with a numeric suffix (`a-2`, `a-3`, …), so two
/// different articles never share an output.
fn output_stem(rel: &Path, used: &std::collections::HashMap<PathBuf, PathBuf>) -> PathBuf {
    let stem = rel.with_extension("");
    match used.get(&stem) {
        None => return stem,
        Some(owner) if owner.extension() != rel.extension() && !used.contains_key(rel) => {
            return rel.to_path_buf();
        }
        Some(_) => {}
    }
    let mut n = 2usize;
    loop {
        let mut name = stem.clone().into_os_string();
        name.push(format!("-{n}"));
        let candidate = PathBuf::from(name);
        if !used.contains_key(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

fn read_article(path: &Path) -> Result<String, String> {
    super::super::input::article(Some(path), super::super::input::InputFormat::Auto)
        .map(|a| a.text)
        .map_err(|e| e.to_string())
}

async fn run_one(
    engine: &Engine,
    job: &Job,
    plan: Plan,
    bar: &ProgressBar,
) -> Result<crate::pipeline::Rendered, String> {
    let last = std::sync::Arc::new(AtomicUsize::new(0));
    let bar2 = bar.clone();
    let work = crate::pipeline::Job::pregenerate().with_progress(move |done: usize| {
        let before = last.swap(done, Ordering::Relaxed);
        bar2.inc(done.saturating_sub(before) as u64);
    });
    let rendered = engine.render(&plan, &work).await.map_err(|e| e.to_string())?;
    // Both copies complete before either is renamed (see commit_copies).
    let mut outputs = Vec::with_capacity(2);
    for (path, ext) in [(&job.audio, Ext::from(plan.format())), (&job.timings, Ext::Json)] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        outputs.push((Pending::new(path).map_err(|e| e.to_string())?, rendered.key.clone(), ext));
    }
    commit_copies(engine, outputs).await.map_err(|e| e.to_string())?;
    Ok(rendered)
}

pub fn generate(args: GenerateArgs, globals: &super::Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = load_config(globals)?;
    if args.jobs == 0 {
        return Err(exit(2, "--jobs must be at least 1"));
    }
    let jobs = collect(&args.paths, &args.out, args.format.ext())?;
    if jobs.is_empty() {
        return Err(exit(2, "no .txt or .html articles found under the given paths"));
    }
    let engine = engine(&config)?;
    let voice = args.voice.clone().unwrap_or_else(|| engine.default_voice().to_string());
    // An unknown voice is an error for the whole run, not for each article.
    engine.require_voice(&voice).map_err(super::pipeline_error)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| exit(2, format!("cannot create {}: {e}", args.out.display())))?;
    // Fail early, before any synthesis, when the output directory is not writable.
    let manifest_out = Pending::new(&args.out.join("manifest.json"))?;

    let mut plans = Vec::with_capacity(jobs.len());
    for job in &jobs {
        plans.push(
            read_article(&job.input)
                .and_then(|t| engine.plan(&t, Some(&voice), args.format).map_err(|e| e.to_string())),
        );
    }
    let (jobs, plans) = match args.shard {
        Some(shard) => {
            let all = jobs.len();
            let (jobs, plans) = shard.select(jobs, plans);
            eprintln!("shard {shard}: {} of {all} articles", jobs.len());
            (jobs, plans)
        }
        None => (jobs, plans),
    };
    let total: usize = plans.iter().map(|p| p.as_ref().map_or(0, |p| p.len())).sum();
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} sentences · {msg} · {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let articles_done = AtomicUsize::new(0);
    let n_jobs = jobs.len();
    bar.set_message(format!("0/{n_jobs} articles"));

    let rt = runtime(args.jobs.min(8))?;
    let results: Vec<(usize, Result<crate::pipeline::Rendered, String>, usize)> = rt.block_on(async {
        futures::stream::iter(jobs.iter().zip(plans).enumerate())
            .map(|(i, (job, plan))| {
                let (engine, bar, articles_done) = (&engine, &bar, &articles_done);
                async move {
                    let (result, n) = match plan {
                        Err(e) => (Err(e), 0),
                        Ok(plan) => {
                            let n = plan.len();
                            (run_one(engine, job, plan, bar).await, n)
                        }
                    };
                    let done = articles_done.fetch_add(1, Ordering::Relaxed) + 1;
                    bar.set_message(format!("{done}/{n_jobs} articles"));
                    if let Err(e) = &result {
                        bar.suspend(|| eprintln!("failed: {}: {e}", job.input.display()));
                    }
                    (i, result, n)
                }
            })
            .buffer_unordered(args.jobs)
            .collect()
            .await
    });
    bar.finish_and_clear();

    let mut results = results;
    results.sort_by_key(|r| r.0);
    let mut entries = Vec::with_capacity(results.len());
    let (mut failed, mut cached, mut synthesized, mut audio_ms) = (0, 0, 0, 0);
    for (i, result, n) in results {
        let job = &jobs[i];
        let input = job.input.display().to_string();
        entries.push(match result {
            Ok(r) => {
                cached += r.from_cache as usize;
                synthesized += r.synthesized;
                audio_ms += r.duration_ms;
                Entry {
                    input,
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
    let manifest =
        Manifest {
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

    fn names(jobs: &[Job], out: &Path) -> Vec<String> {
        jobs.iter().map(|j| j.audio.strip_prefix(out).unwrap().display().to_string()).collect()
    }

    #[test]
    fn clashing_names_get_distinct_outputs_and_only_the_same_file_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["dir1/a.txt", "dir2/a.txt", "dir2/a.html", "dir3/manifest.txt", "dir3/sub/b.txt"] {
            std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
            std::fs::write(d.join(f), "Một câu.\n").unwrap();
        }
        let out = d.join("out");
        let paths =
            [d.join("dir1"), d.join("dir2"), d.join("dir1/a.txt"), d.join("dir3"), d.join("dir2/a.txt")];
        let jobs = collect(&paths, &out, "mp3").unwrap();
        let inputs: Vec<_> =
            jobs.iter().map(|j| j.input.strip_prefix(d).unwrap().display().to_string()).collect();
        assert_eq!(
            inputs,
            ["dir1/a.txt", "dir2/a.html", "dir2/a.txt", "dir3/manifest.txt", "dir3/sub/b.txt"]
        );
        assert_eq!(names(&jobs, &out), ["a.mp3", "a.html.mp3", "a-2.mp3", "manifest.txt.mp3", "sub/b.mp3"]);
        let mut all: Vec<_> = jobs.iter().flat_map(|j| [j.audio.clone(), j.timings.clone()]).collect();
        all.push(out.join("manifest.json"));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "every output path is distinct");
    }
}
