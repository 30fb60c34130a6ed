//! `loa check PAGE|URL…`: what loa will read on each page, for
//! accessibility testers, as one self-contained HTML report (or `--json`):
//! the article sentence by sentence with its spoken form, every rewritten
//! token with its rule, the tokens that will not read well, what was
//! skipped and why, and with `--audio` a player per sentence (MP3 inlined).
//! `--strict` exits 3 when a token will not read well or a page has no text.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use clap::Args;
use serde::Serialize;

use super::input::{self, InputFormat};
use super::speech::{engine, load_config, pipeline_error, runtime};
use crate::audio::Format;
use crate::text::html::{Extracted, Skipped};
use crate::text::{Normalizer, Rewrite};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  loa check page.html --out report.html\n  \
                        loa check https://example.gov.vn/tin/1.html --audio --out report.html\n  \
                        loa check --json a.html b.html | jq '.[].skipped'")]
pub struct CheckArgs {
    /// Pages to check: .html files, http(s) URLs, or text files.
    #[arg(required = true, value_name = "PAGE|URL")]
    pub inputs: Vec<PathBuf>,
    /// Where to write the HTML report (default: loa-check.html).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the same data as JSON on standard output instead.
    #[arg(long)]
    pub json: bool,
    /// Synthesize every sentence and put a player beside it.
    #[arg(long)]
    pub audio: bool,
    /// Exit with status 3 if a token will not read well or a page has no text.
    #[arg(long)]
    pub strict: bool,
    /// Voice for --audio (see `loa voices`).
    #[arg(long)]
    pub voice: Option<String>,
}

#[derive(Debug, Serialize)]
struct SentenceReport {
    index: usize,
    text: String,
    spoken: String,
    rewrites: Vec<Rewrite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_base64: Option<String>,
}

#[derive(Debug, Serialize)]
struct PageReport {
    input: String,
    html: bool,
    found: Option<crate::text::html::Found>,
    title: Option<String>,
    encoding: Option<String>,
    warnings: Vec<String>,
    sentences: Vec<SentenceReport>,
    skipped: Vec<Skipped>,
    doubtful: Vec<Rewrite>,
    error: Option<String>,
}

fn check_one(arg: &std::path::Path, config: &crate::config::Config, norm: &Normalizer) -> PageReport {
    let name = arg.display().to_string();
    let mut page = PageReport {
        input: name,
        html: false,
        found: None,
        title: None,
        encoding: None,
        warnings: vec![],
        sentences: vec![],
        skipped: vec![],
        doubtful: vec![],
        error: None,
    };
    let inp = match input::read(Some(arg), InputFormat::Auto, config) {
        Ok(i) => i,
        Err(e) => {
            page.error = Some(e.to_string());
            return page;
        }
    };
    page.input = inp.name.clone();
    page.encoding = inp.encoding.clone();
    let text = if inp.html {
        let ex: Extracted = inp.extract();
        page.html = true;
        page.found = Some(ex.found);
        page.title = ex.title;
        page.warnings = ex.warnings;
        page.skipped = ex.skipped;
        ex.text
    } else {
        inp.text
    };
    for (index, s) in norm.sentences(&text).into_iter().enumerate() {
        let rewrites = norm.explain(&s.text);
        page.doubtful.extend(rewrites.iter().filter(|r| r.doubtful).cloned());
        page.sentences.push(SentenceReport {
            index,
            text: s.text,
            spoken: s.spoken,
            rewrites,
            audio_base64: None,
        });
    }
    page
}

fn add_audio(
    pages: &mut [PageReport],
    config: &crate::config::Config,
    voice: Option<&str>,
) -> anyhow::Result<()> {
    let engine = engine(config)?;
    let rt = runtime(2)?;
    for page in pages.iter_mut().filter(|p| !p.sentences.is_empty()) {
        let text: String = page.sentences.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n\n");
        let plan = engine.plan(&text, voice, Format::Mp3).map_err(pipeline_error)?;
        for (i, s) in page.sentences.iter_mut().enumerate().take(plan.len()) {
            let bytes = rt.block_on(async {
                let audio = engine.sentence(&plan, i, &crate::pipeline::Job::default()).await?;
                let object = engine.open(&audio.key, crate::cache::Ext::from(Format::Mp3), None).await?;
                match object {
                    Some(o) => Ok(Some(o.bytes().await.map_err(crate::pipeline::PipelineError::from)?)),
                    None => Ok::<_, crate::pipeline::PipelineError>(None),
                }
            });
            if let Some(b) = bytes.map_err(pipeline_error)? {
                s.audio_base64 = Some(base64::engine::general_purpose::STANDARD.encode(b));
            }
        }
    }
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b}\
h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:2px solid #0b5cad;word-break:break-all}\
h3{font-size:1.05rem;margin-top:1.5rem}table{border-collapse:collapse;width:100%;margin:.5rem 0}\
th,td{border:1px solid #ccd;padding:.35rem .5rem;vertical-align:top;text-align:left}th{background:#eef3fa}\
td.n{width:2.5rem;color:#555}.spoken{color:#0b5cad}.rw{font-size:.85rem;color:#444;margin-top:.25rem}\
.rw code{background:#f3f3f3;padding:0 .25rem}.bad{background:#fff3cd}.meta{color:#444}\
.warn{background:#fdecea;padding:.25rem .5rem}audio{width:14rem;height:2rem}.why{white-space:nowrap}";

fn report_html(pages: &[PageReport]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>loa check</title>\
         <style>{STYLE}</style></head><body><h1>loa check: what will be read aloud</h1>\
         <p class=\"meta\">{} page(s). For each: the article sentence by sentence (as written, then as spoken), \
         the rewritten tokens with their rules, the tokens that will not read well, and what was not read and why.</p>",
        pages.len()
    );
    for p in pages {
        let _ = write!(h, "<h2>{}</h2>", esc(&p.input));
        if let Some(e) = &p.error {
            let _ = write!(h, "<p class=\"warn\">Error: {}</p>", esc(e));
            continue;
        }
        let found = p.found.map(|f| format!("{f:?}")).unwrap_or_else(|| "plain text".into());
        let _ = write!(
            h,
            "<p class=\"meta\">Title (not read): {} · article found by: {} · encoding: {} · {} sentences · {} parts skipped</p>",
            esc(p.title.as_deref().unwrap_or("—")),
            esc(&found),
            esc(p.encoding.as_deref().unwrap_or("UTF-8")),
            p.sentences.len(),
            p.skipped.len()
        );
        for w in &p.warnings {
            let _ = write!(h, "<p class=\"warn\">{}</p>", esc(w));
        }
        if p.sentences.is_empty() {
            h.push_str("<p class=\"warn\">Nothing will be read on this page.</p>");
        }
        h.push_str("<h3>Read aloud</h3><table><tr><th>#</th><th>Sentence, and what is said</th>");
        let audio = p.sentences.iter().any(|s| s.audio_base64.is_some());
        if audio {
            h.push_str("<th>Audio</th>");
        }
        h.push_str("</tr>");
        for s in &p.sentences {
            let bad = s.rewrites.iter().any(|r| r.doubtful);
            let _ = write!(
                h,
                "<tr{}><td class=\"n\">{}</td><td>{}<div class=\"spoken\">{}</div>",
                if bad { " class=\"bad\"" } else { "" },
                s.index + 1,
                esc(&s.text),
                esc(&s.spoken)
            );
            if !s.rewrites.is_empty() {
                h.push_str("<div class=\"rw\">");
                for r in &s.rewrites {
                    let said = if r.spoken.is_empty() { "(silent)" } else { r.spoken.as_str() };
                    let _ = write!(
                        h,
                        "<code>{}</code> → {} <i>({})</i>; ",
                        esc(&r.written),
                        esc(said),
                        esc(r.rule.name())
                    );
                }
                h.push_str("</div>");
            }
            h.push_str("</td>");
            if let Some(b) = &s.audio_base64 {
                let _ = write!(
                    h,
                    "<td><audio controls preload=\"none\" src=\"data:audio/mpeg;base64,{b}\"></audio></td>"
                );
            } else if audio {
                h.push_str("<td></td>");
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
        if !p.doubtful.is_empty() {
            h.push_str("<h3>Will not read well</h3><ul>");
            for r in &p.doubtful {
                let what = if r.rule == crate::text::Rule::Unreadable {
                    "stray symbol, not read".to_string()
                } else {
                    format!("unknown acronym, spelled: {}", r.spoken)
                };
                let _ = write!(h, "<li><code>{}</code>: {}</li>", esc(&r.written), esc(&what));
            }
            h.push_str("</ul>");
        }
        if !p.skipped.is_empty() {
            h.push_str("<h3>Not read</h3><table><tr><th>Why</th><th>Text</th></tr>");
            for s in &p.skipped {
                let detail = if s.detail.is_empty() { String::new() } else { format!(" ({})", s.detail) };
                let _ = write!(
                    h,
                    "<tr><td class=\"why\">{}{}</td><td>{}</td></tr>",
                    esc(s.reason.describe()),
                    esc(&detail),
                    esc(&s.text)
                );
            }
            h.push_str("</table>");
        }
    }
    h.push_str("</body></html>\n");
    h
}

pub fn check(args: CheckArgs, globals: &super::Globals) -> anyhow::Result<ExitCode> {
    let config = load_config(globals)?;
    let norm = Normalizer::with_lexicon_files((&config.text).into(), &config.text.lexicons)
        .map_err(|e| super::bad_input(e.to_string()))?;
    let mut pages: Vec<PageReport> = args.inputs.iter().map(|a| check_one(a, &config, &norm)).collect();
    if args.audio {
        add_audio(&mut pages, &config, args.voice.as_deref())?;
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &pages)?;
        std::io::Write::write_all(&mut out, b"\n")?;
    } else {
        let path = args.out.clone().unwrap_or_else(|| PathBuf::from("loa-check.html"));
        super::speech::write_atomically(&path, report_html(&pages).as_bytes())?;
        eprintln!("wrote {} ({} pages)", path.display(), pages.len());
    }
    let errors = pages.iter().filter(|p| p.error.is_some()).count();
    let bad = pages.iter().any(|p| !p.doubtful.is_empty() || p.sentences.is_empty());
    if errors == pages.len() {
        return Ok(ExitCode::from(2));
    }
    if args.strict && bad {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
