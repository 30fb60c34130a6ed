//! What `loa generate` reads and where each article's outputs go: files
//! and directories (the layout below each directory mirrored), URLs given
//! on the command line or in `--urls FILE`, and the articles feeds and
//! sitemaps list (written under `OUT/<host>/<slug>`). Two articles never
//! share an output, and none takes `manifest.json`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::exit;

/// Where an article comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Url(String),
}

/// One article to read and where its outputs go.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: Source,
    pub audio: PathBuf,
    pub timings: PathBuf,
}

impl Job {
    /// How the article is named in messages and the manifest.
    pub fn name(&self) -> String {
        match &self.source {
            Source::File(p) => p.display().to_string(),
            Source::Url(u) => u.clone(),
        }
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

/// The relative output path of a URL: `host/slug` (`slug` from the last
/// path segment, with a short hash of the query when there is one).
pub fn url_rel(url: &str) -> PathBuf {
    let parsed = url::Url::parse(url).ok();
    let host =
        parsed.as_ref().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| "site".into());
    let last = parsed
        .as_ref()
        .and_then(|u| u.path_segments().and_then(|mut s| s.rfind(|x| !x.is_empty()).map(str::to_string)))
        .unwrap_or_else(|| "index".into());
    let stem = last.rsplit_once('.').map_or(last.as_str(), |(s, _)| s).to_string();
    let mut slug: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') { c } else { '-' })
        .collect();
    if slug.trim_matches('-').is_empty() {
        slug = "index".into();
    }
    if let Some(q) = parsed.as_ref().and_then(|u| u.query()) {
        slug.push('-');
        slug.push_str(&crate::cache::CacheKey::hash(&[q]).to_string()[..8]);
    }
    let host: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') { c } else { '-' })
        .collect();
    PathBuf::from(host).join(format!("{slug}.html"))
}

/// Output names, kept apart.
pub struct Names {
    out: PathBuf,
    ext: String,
    /// Output stem (below `out`) → the relative path of the article that took it.
    used: HashMap<PathBuf, PathBuf>,
    inputs: HashSet<Source>,
    pub jobs: Vec<Job>,
}

impl std::hash::Hash for Source {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match self {
            Source::File(p) => p.hash(h),
            Source::Url(u) => u.hash(h),
        }
    }
}

impl Names {
    pub fn new(out: &Path, ext: &str) -> Names {
        // `manifest` is taken: its timings would overwrite manifest.json.
        let used = [(PathBuf::from("manifest"), PathBuf::new())].into_iter().collect();
        Names { out: out.to_path_buf(), ext: ext.to_string(), used, inputs: HashSet::new(), jobs: Vec::new() }
    }

    /// Add an article whose outputs mirror `rel`; the same source is added once.
    pub fn add(&mut self, source: Source, rel: &Path) {
        let key = match &source {
            Source::File(p) => Source::File(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            Source::Url(u) => Source::Url(u.clone()),
        };
        if !self.inputs.insert(key) {
            return;
        }
        let stem = output_stem(rel, &self.used);
        if stem != rel.with_extension("") {
            let name = match &source {
                Source::File(p) => p.display().to_string(),
                Source::Url(u) => u.clone(),
            };
            eprintln!(
                "note: {name} is written as {}.* to keep it apart from another output",
                self.out.join(&stem).display()
            );
        }
        self.used.insert(stem.clone(), rel.to_path_buf());
        let base = self.out.join(&stem);
        let with = |e: &str| {
            let mut s = base.clone().into_os_string();
            s.push(".");
            s.push(e);
            PathBuf::from(s)
        };
        self.jobs.push(Job { source, audio: with(&self.ext), timings: with("json") });
    }

    /// Add every article under the given files and directories (and the
    /// URLs among them).
    pub fn add_paths(&mut self, paths: &[PathBuf]) -> anyhow::Result<()> {
        for root in paths {
            if let Some(u) = root.to_str().filter(|s| crate::cli::input::is_url(s)) {
                self.add(Source::Url(u.to_string()), &url_rel(u));
            } else if root.is_dir() {
                let mut found = Vec::new();
                walk(root, &mut found)
                    .map_err(|e| exit(2, format!("cannot read {}: {e}", root.display())))?;
                for f in found {
                    let rel = f.strip_prefix(root).unwrap_or(&f).to_path_buf();
                    self.add(Source::File(f), &rel);
                }
            } else if root.is_file() {
                let name = root.file_name().map(PathBuf::from).unwrap_or_else(|| root.clone());
                self.add(Source::File(root.clone()), &name);
            } else {
                return Err(exit(2, format!("no such file or directory: {}", root.display())));
            }
        }
        Ok(())
    }
}

/// The URLs of a `--urls` file: one a line, `#` comments and blank lines
/// ignored; anything else is an error naming the line.
pub fn read_url_file(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| exit(2, format!("cannot read {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !crate::cli::input::is_url(line) {
            return Err(exit(2, format!("{}:{}: {line:?} is not an http(s) URL", path.display(), i + 1)));
        }
        out.push(line.to_string());
    }
    Ok(out)
}

/// A free output stem for the article at `rel`: its path without the
/// extension, else (when `a.txt` and `a.html` sit side by side) with the
/// extension kept, else with a numeric suffix (`a-2`, `a-3`, …).
fn output_stem(rel: &Path, used: &HashMap<PathBuf, PathBuf>) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut n = Names::new(&out, "mp3");
        n.add_paths(&paths).unwrap();
        let inputs: Vec<_> = n
            .jobs
            .iter()
            .map(|j| match &j.source {
                Source::File(p) => p.strip_prefix(d).unwrap().display().to_string(),
                Source::Url(u) => u.clone(),
            })
            .collect();
        assert_eq!(
            inputs,
            ["dir1/a.txt", "dir2/a.html", "dir2/a.txt", "dir3/manifest.txt", "dir3/sub/b.txt"]
        );
        assert_eq!(names(&n.jobs, &out), ["a.mp3", "a.html.mp3", "a-2.mp3", "manifest.txt.mp3", "sub/b.mp3"]);
        let mut all: Vec<_> = n.jobs.iter().flat_map(|j| [j.audio.clone(), j.timings.clone()]).collect();
        all.push(out.join("manifest.json"));
        let k = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), k, "every output path is distinct");
    }

    #[test]
    fn urls_get_host_and_slug_names() {
        assert_eq!(
            url_rel("https://baolangson.vn/tin-tuc/ngay-hoi-5012.html"),
            PathBuf::from("baolangson.vn/ngay-hoi-5012.html")
        );
        assert_eq!(url_rel("https://a.vn/"), PathBuf::from("a.vn/index.html"));
        let q = url_rel("http://a.vn/ChiTietTin.aspx?ID=5123");
        assert!(q.to_str().unwrap().starts_with("a.vn/ChiTietTin-"), "{q:?}");
        let out = Path::new("/o");
        let mut n = Names::new(out, "mp3");
        n.add(Source::Url("https://a.vn/x/bai".into()), &url_rel("https://a.vn/x/bai"));
        n.add(Source::Url("https://a.vn/y/bai".into()), &url_rel("https://a.vn/y/bai"));
        n.add(Source::Url("https://a.vn/x/bai".into()), &url_rel("https://a.vn/x/bai"));
        assert_eq!(names(&n.jobs, out), ["a.vn/bai.mp3", "a.vn/bai-2.mp3"]);
    }
}
