//! `loa config`: the settings a command would run with (file, then
//! environment, then the global flags), or with `--env` every environment
//! variable that sets a key. Both are derived from the config structure, so
//! they list keys added later with no change here.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use super::{Globals, failure};
use crate::config::{Config, Env, env::ALIASES};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  loa config                  # the effective settings as TOML\n  \
                        loa config --env            # LOA_SECTION_KEY for every key\n  \
                        LOA_SERVER_ADDRESS=0.0.0.0:9000 loa config")]
pub struct ConfigArgs {
    /// List the environment variables (one per key, plus the older short names).
    #[arg(long)]
    pub env: bool,
}

pub fn show(args: ConfigArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if args.env {
        let vars = Config::env_variables().map_err(|e| failure(1, e))?;
        let width = vars.iter().map(|(v, _)| v.len()).max().unwrap_or(0);
        for (var, key) in &vars {
            writeln!(out, "{var:width$}  {key}")?;
        }
        writeln!(out, "\nolder names, still read:")?;
        for (alias, key) in ALIASES {
            writeln!(out, "{alias:width$}  {key}")?;
        }
        writeln!(out, "\nLOA_CONFIG names the config file; LOA_LOG_FORMAT is text or json.")?;
        return Ok(ExitCode::SUCCESS);
    }
    let env = Env::process().map_err(|e| failure(2, e))?;
    let file = Config::locate(globals.config.as_deref(), &env);
    let mut config = Config::load_with(globals.config.as_deref(), &env).map_err(|e| failure(2, e))?;
    globals.apply(&mut config);
    match file {
        Some(f) => writeln!(out, "# config file: {}", f.display())?,
        None => writeln!(out, "# no config file (searched: {})", search_list(&env))?,
    }
    let text = toml::to_string(&config).map_err(|e| failure(1, e))?;
    write!(out, "{text}")?;
    Ok(ExitCode::SUCCESS)
}

fn search_list(env: &Env) -> String {
    Config::search_path(env).iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
