//! `loa split` and `loa normalize`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct SplitArgs {
    /// Input file, or - for standard input.
    pub input: Option<PathBuf>,
}
#[derive(Args, Debug)]
pub struct NormalizeArgs {
    /// Input file, or - for standard input.
    pub input: Option<PathBuf>,
}

pub fn split(_: SplitArgs, _: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`loa split` is not implemented yet")
}
pub fn normalize(_: NormalizeArgs, _: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`loa normalize` is not implemented yet")
}
