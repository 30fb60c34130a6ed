//! `loa phonemes`: the phoneme ids a piper voice gives a text, computed the
//! way Piper's own phonemizer (`piper-tts`) computes them, so the two can
//! be compared line by line. Needs the voice's model config and eSpeak NG
//! 1.52, not the model or ONNX Runtime.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::Globals;
use super::speech::{exit, load_config};
use crate::tts::{BackendSpec, VoiceRegistry, factory::parse_voice, piper::PhonemeSentence};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    loa normalize article.txt | loa phonemes --voice vi-piper --lines\n  \
    echo 'Xin chào.' | loa phonemes --voice vi-piper --symbols")]
pub struct PhonemesArgs {
    /// A voice with the piper backend (see `loa voices`).
    #[arg(long)]
    pub voice: String,
    /// Exactly one output line per input line (each line is one text for
    /// Piper, trimmed; its sentences' ids joined). Default: the whole input
    /// is one text and each Piper sentence gets a line.
    #[arg(long)]
    pub lines: bool,
    /// Print the phonemes (the IPA of each sentence) instead of their ids.
    #[arg(long)]
    pub symbols: bool,
    /// Input file, or - (the default) for standard input.
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
}

pub fn phonemes(args: PhonemesArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let config = load_config(globals)?;
    let voices = VoiceRegistry::load(&config.speech.voices_dir).map_err(|e| exit(2, e.to_string()))?;
    let voice = voices.require(&args.voice).map_err(|e| exit(2, e.to_string()))?;
    let not_piper =
        || exit(2, format!("voice {} is not a piper voice ({} backend)", voice.name, voice.backend_type));
    let path = voice.path.as_ref().filter(|_| voice.backend_type == "piper").ok_or_else(not_piper)?;
    let text =
        std::fs::read_to_string(path).map_err(|e| exit(2, format!("cannot read {}: {e}", path.display())))?;
    let BackendSpec::Piper(spec) = parse_voice(&text, path).map_err(|e| exit(2, e.to_string()))?.backend
    else {
        return Err(not_piper());
    };
    let base = path.parent().unwrap_or(std::path::Path::new("."));
    let phonemizer = spec.phonemizer(base).map_err(|e| exit(2, format!("voice {}: {e}", voice.name)))?;
    // Plain text, as Piper reads it (no HTML extraction).
    let input = super::input::read(args.input.as_deref(), super::input::InputFormat::Text, &config)?.text;
    let show = |s: &PhonemeSentence| -> String {
        if args.symbols {
            s.phonemes.concat()
        } else {
            s.ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.lines {
        for (n, line) in input.lines().enumerate() {
            let sentences =
                phonemizer.sentences(line.trim()).map_err(|e| exit(2, format!("line {}: {e}", n + 1)))?;
            let shown: Vec<String> = sentences.iter().map(show).collect();
            writeln!(out, "{}", shown.join(" "))?;
        }
    } else {
        for s in phonemizer.sentences(&input).map_err(|e| exit(2, e))? {
            writeln!(out, "{}", show(&s))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
