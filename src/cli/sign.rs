//! `loa sign [FILE|-] [--voice V]`: the signature a site sends with an
//! article's text when the service runs with `server.text_input =
//! "signed"` (see `server::policy`). The key is `LOA_SIGNING_KEY`, as for
//! `loa serve`. The text is signed exactly as read (after the one input
//! path of `cli::input`: UTF-8, BOM dropped, nothing else changed; a
//! file's final newline counts), so sign exactly what the page sends.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::bad_input;
use super::input::{self, InputFormat};

#[derive(Args, Debug)]
#[command(after_help = "Example:\n  LOA_SIGNING_KEY=… loa sign article.txt --voice vi-espeak\n\
                        then send {\"text\": <the file's text>, \"voice\": \"vi-espeak\", \"signature\": <the output>}.\n\
                        Without --voice the signature is for requests that name no voice.")]
pub struct SignArgs {
    /// The text to sign: a file, or - (default) for standard input.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The voice the request will name (empty: none, the server's default).
    #[arg(long, value_name = "NAME", default_value = "")]
    pub voice: String,
}

pub fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    let key = std::env::var("LOA_SIGNING_KEY").unwrap_or_default();
    if key.trim().is_empty() {
        return Err(bad_input("LOA_SIGNING_KEY is not set; it holds the key shared with loa serve"));
    }
    if let input::Source::Url(u) = input::Source::parse(args.input.as_deref()) {
        return Err(bad_input(format!("cannot sign {u}: give the text itself (a file or -), not a URL")));
    }
    let text = input::read(args.input.as_deref(), InputFormat::Text, &crate::config::Config::default())?.text;
    let signature = crate::server::policy::sign(key.as_bytes(), &text, &args.voice);
    writeln!(std::io::stdout().lock(), "{signature}")?;
    Ok(ExitCode::SUCCESS)
}
