//! `loa completions SHELL` and `loa man`: a shell completion script and the
//! manual page, both generated from the clap definition of the command line
//! (clap_complete, clap_mangen), so they never drift from `--help`.
//!
//! The top page adds what `--help` cannot show: FILES (where the config,
//! voices and cache are looked for), ENVIRONMENT (the `LOA_SECTION_KEY`
//! rule) and EXIT STATUS.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory};
use roff::{Roff, bold, italic, roman};

use super::{Cli, bad_input};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  loa completions bash > /etc/bash_completion.d/loa\n  \
                        loa completions zsh > ~/.zfunc/_loa\n  \
                        loa completions fish > ~/.config/fish/completions/loa.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  loa man | man -l -\n  loa man --out /usr/local/share/man/man1")]
pub struct ManArgs {
    /// Write loa.1 and one loa-COMMAND.1 per subcommand into this directory
    /// instead of printing loa.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "loa", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let pages = pages()?;
    match args.out {
        None => {
            let (_, top) = pages.first().context("no man page")?;
            std::io::stdout().lock().write_all(top)?;
        }
        Some(dir) => {
            if !dir.is_dir() {
                return Err(bad_input(format!("{} is not a directory", dir.display())));
            }
            for (name, page) in &pages {
                write_atomically(&dir.join(name), page)?;
            }
            eprintln!("wrote {} man pages to {}", pages.len(), dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// (file name, roff) for `loa` first, then every subcommand.
fn pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    let top = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    top.render(&mut page)?;
    page.extend(extra_sections().render().into_bytes());
    out.push((top.get_filename(), page));
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let man = clap_mangen::Man::new(sub.clone());
            let mut page = Vec::new();
            man.render(&mut page)?;
            out.push((man.get_filename(), page));
            walk(sub, out)?;
        }
        Ok(())
    }
    walk(&cmd, &mut out)?;
    Ok(out)
}

fn extra_sections() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["FILES"]);
    for (path, what) in [
        (
            "./config/loa.toml, ~/.config/loa/loa.toml, /etc/loa/loa.toml",
            "the config file, the first that exists (--config or LOA_CONFIG name another)",
        ),
        (
            "./voices, ~/.config/loa/voices, /etc/loa/voices",
            "voice files (*.toml), the first directory that exists; without one, the built-in vi-espeak voice",
        ),
        (
            "$XDG_CACHE_HOME/loa (~/.cache/loa)",
            "the audio cache, unless cache.dir or --cache-dir says otherwise",
        ),
    ] {
        r.control("TP", []).text([bold(path)]).text([roman(what)]);
    }
    r.control("SH", ["ENVIRONMENT"]);
    r.text([
        roman("Every config key "),
        italic("section.key"),
        roman(" is set by "),
        bold("LOA_SECTION_KEY"),
        roman(" (nested tables too: server.limits.burst is LOA_SERVER_LIMITS_BURST); lists are comma-separated. "),
        roman("Environment variables override the file and flags override both. "),
        bold("loa config --env"),
        roman(" lists them all. Older names still read: LOA_ADDRESS, LOA_CORS_ORIGINS, LOA_MAX_TEXT_CHARS, "),
        roman("LOA_SYNTHESIS_CONCURRENCY, LOA_VOICE, LOA_VOICES_DIR, LOA_DIALECT."),
    ]);
    for (var, what) in [
        ("LOA_CONFIG", "the config file to read"),
        ("LOA_LOG_FORMAT", "text (the default) or json: one JSON object per log line"),
        ("RUST_LOG", "log level and filters, e.g. debug or loa=debug"),
        ("NO_COLOR", "no colour in log lines even on a terminal"),
    ] {
        r.control("TP", []).text([bold(var)]).text([roman(what)]);
    }
    r.control("SH", ["EXIT STATUS"]);
    r.text([roman("0 on success (also when the reader of the output goes away, as with head); 1 on failure; 2 for bad input or configuration; 3 for loa normalize --explain --strict when something will not read well.")]);
    r
}

/// Write `bytes` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Readable by everyone, like any installed man page.
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
