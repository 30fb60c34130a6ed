//! `loa split` and `loa normalize`: the text front end on the command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

pub use super::input::InputFormat;

use crate::text::{Dialect, Normalizer, Rewrite, Rule, Sentence};

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Input file, http(s) URL, or - (the default) for standard input.
    #[arg(value_name = "FILE|URL|-")]
    pub input: Option<PathBuf>,
    /// Input format.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub format: InputFormat,
    /// Cut sentences longer than this many bytes at ; , or a space.
    #[arg(long, value_name = "BYTES")]
    pub max_sentence_bytes: Option<usize>,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  loa split article.txt\n  curl -s https://… | loa split --format html -")]
pub struct SplitArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    North,
    South,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  loa normalize article.txt            # one spoken sentence per line\n  \
    echo 'Ngày 21/01 đạt 3,31%' | loa normalize --lines\n  \
    loa normalize --explain --strict article.txt   # what is rewritten, and what will not read well\n  \
    loa normalize --lexicon my-words.tsv --dialect south article.txt"
)]
pub struct NormalizeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Exactly one output line per input line (no sentence splitting).
    #[arg(long, conflicts_with = "json")]
    pub lines: bool,
    /// Show each rewritten token, the rule that fired and what will be said,
    /// then the tokens that will not be read well.
    #[arg(long)]
    pub explain: bool,
    /// With --explain: exit with status 3 if any token will not be read well.
    #[arg(long, requires = "explain")]
    pub strict: bool,
    /// Print sentences as JSON (text, spoken, byte span, paragraph start, and each
    /// rewritten token with its rule and the tokens that will not be read well).
    #[arg(long)]
    pub json: bool,
    /// Spoken-word profile (south: ngàn, lẻ).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Extra lexicon file (TSV: KEY<TAB>SPOKEN, or KIND<TAB>KEY<TAB>SPOKEN); repeatable; overrides built-ins.
    #[arg(long, value_name = "FILE")]
    pub lexicon: Vec<PathBuf>,
}

/// One sentence of `normalize --json`: the sentence (text, spoken, span,
/// paragraph start), every rewritten token with its rule, and the tokens
/// that will not be read well (what `--explain` prints).
#[derive(serde::Serialize)]
struct JsonSentence {
    #[serde(flatten)]
    sentence: Sentence,
    rewrites: Vec<Rewrite>,
    will_not_read_well: Vec<Doubtful>,
}

/// A token that will not be read well, and why.
#[derive(serde::Serialize)]
struct Doubtful {
    written: String,
    rule: Rule,
    spoken: String,
    reason: &'static str,
}

impl From<&Rewrite> for Doubtful {
    fn from(r: &Rewrite) -> Self {
        let reason =
            if r.rule == Rule::Unreadable { "stray symbol, not read" } else { "unknown acronym, spelled" };
        Doubtful { written: r.written.clone(), rule: r.rule, spoken: r.spoken.clone(), reason }
    }
}

fn normalizer(config: Option<&Path>, args: &NormalizeArgs) -> anyhow::Result<Normalizer> {
    let mut cfg = super::load_config_file(config)?.text;
    if let Some(d) = args.dialect {
        cfg.dialect = match d {
            DialectArg::North => Dialect::North,
            DialectArg::South => Dialect::South,
        };
    }
    cfg.lexicons.extend(args.lexicon.iter().cloned());
    if let Some(m) = args.input.max_sentence_bytes {
        cfg.max_sentence_bytes = m;
    }
    Normalizer::with_lexicon_files((&cfg).into(), &cfg.lexicons).map_err(|e| super::failure(2, e))
}

/// `normalize --lines` on every core: windows of lines are cut into one
/// contiguous chunk per thread, each normalized into its own buffer, and the
/// buffers written in order, so memory stays bounded by the window.
fn lines_in_parallel(norm: &Normalizer, text: &str, out: &mut impl Write) -> std::io::Result<()> {
    const WINDOW: usize = 1 << 15;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
    lines_in_windows(norm, text, out, WINDOW, threads)
}

/// [`lines_in_parallel`] with its window (lines) and thread count given.
fn lines_in_windows(
    norm: &Normalizer,
    text: &str,
    out: &mut impl Write,
    window_lines: usize,
    threads: usize,
) -> std::io::Result<()> {
    let lines: Vec<&str> = text.lines().collect();
    let one = |chunk: &[&str]| {
        let mut buf = String::with_capacity(chunk.len() * 96);
        for line in chunk {
            norm.normalize_into(line, &mut buf);
            buf.push('\n');
        }
        buf
    };
    for window in lines.chunks(window_lines.max(1)) {
        if threads == 1 || window.len() < 256 {
            out.write_all(one(window).as_bytes())?;
            continue;
        }
        let per = window.len().div_ceil(threads);
        let parts: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = window.chunks(per).map(|c| s.spawn(move || one(c))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
        });
        for part in parts {
            out.write_all(part.as_bytes())?;
        }
    }
    Ok(())
}

fn article_text(input: &InputArgs, config: Option<&Path>) -> anyhow::Result<String> {
    let config = super::load_config_file(config)?;
    Ok(super::input::article(input.input.as_deref(), input.format, &config)?.text)
}

pub fn split(args: SplitArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut cfg = super::load_config_file(config)?.text;
    if let Some(m) = args.input.max_sentence_bytes {
        cfg.max_sentence_bytes = m;
    }
    let norm =
        Normalizer::with_lexicon_files((&cfg).into(), &cfg.lexicons).map_err(|e| super::failure(2, e))?;
    let text = article_text(&args.input, config)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for piece in norm.split(&text) {
        let sentence: Vec<&str> = text[piece.span].split_whitespace().collect();
        writeln!(out, "{}", sentence.join(" "))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn normalize(args: NormalizeArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let norm = normalizer(config, &args)?;
    let text = article_text(&args.input, config)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if args.lines && !args.explain {
        lines_in_parallel(&norm, &text, &mut out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let units: Vec<&str> = if args.lines {
        text.lines().collect()
    } else {
        norm.split(&text).into_iter().map(|p| &text[p.span]).collect()
    };
    if args.json {
        let sentences: Vec<JsonSentence> = norm
            .sentences(&text)
            .into_iter()
            .map(|sentence| {
                let rewrites = norm.explain(&sentence.text);
                let will_not_read_well = rewrites.iter().filter(|r| r.doubtful).map(Doubtful::from).collect();
                JsonSentence { sentence, rewrites, will_not_read_well }
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &sentences)?;
        writeln!(out)?;
    } else if args.explain {
        let mut doubtful = Vec::new();
        for unit in &units {
            if unit.trim().is_empty() {
                continue;
            }
            writeln!(out, "» {}", unit.split_whitespace().collect::<Vec<_>>().join(" "))?;
            writeln!(out, "  = {}", norm.normalize(unit))?;
            for r in norm.explain(unit) {
                let spoken = if r.spoken.is_empty() { "(silent)" } else { r.spoken.as_str() };
                writeln!(out, "    {:<24} {:<20} {spoken}", r.written, r.rule)?;
                if r.doubtful {
                    doubtful.push(r);
                }
            }
        }
        writeln!(out)?;
        if doubtful.is_empty() {
            writeln!(out, "Every token will be read.")?;
        } else {
            writeln!(out, "Will not be read well ({}):", doubtful.len())?;
            for r in &doubtful {
                if r.rule == Rule::Unreadable {
                    writeln!(out, "    {:<24} stray symbol, not read", r.written)?;
                } else {
                    writeln!(out, "    {:<24} unknown acronym, spelled: {}", r.written, r.spoken)?;
                }
            }
        }
        out.flush()?;
        if args.strict && !doubtful.is_empty() {
            return Ok(ExitCode::from(3));
        }
    } else {
        for unit in units {
            writeln!(out, "{}", norm.normalize(unit))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_lines_are_the_sequential_ones_in_order() {
        let norm = Normalizer::with_lexicon_files(Default::default(), &[]).unwrap();
        let golden = include_str!("../../tests/golden/normalize-news.tsv");
        let inputs: Vec<&str> =
            golden.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split('\t').nth(1)).collect();
        assert!(inputs.len() > 50);
        // More lines than two windows (of 1024 lines here, 32768 in use:
        // the same code, a smaller input), with empty lines among them, on
        // 3 threads (uneven chunks).
        let text: String = (0..2 * 1024 + 500)
            .map(|i| if i % 97 == 0 { "\n".to_string() } else { format!("{}\n", inputs[i % inputs.len()]) })
            .collect();
        let mut parallel = Vec::new();
        lines_in_windows(&norm, &text, &mut parallel, 1024, 3).unwrap();
        let sequential: String = text.lines().map(|l| norm.normalize(l) + "\n").collect();
        assert_eq!(String::from_utf8(parallel).unwrap(), sequential);
    }
}
