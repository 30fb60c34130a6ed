//! Command-line interface: clap subcommands, one function each.

use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
