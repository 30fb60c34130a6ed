//! `loa serve`: the HTTP service.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct ServeArgs {}

pub fn serve(_: ServeArgs, _: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`loa serve` is not implemented yet")
}
