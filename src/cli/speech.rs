//! `loa speak`, `loa generate`, `loa voices`, `loa cache`.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct SpeakArgs {}
#[derive(Args, Debug)]
pub struct GenerateArgs {}
#[derive(Args, Debug)]
pub struct VoicesArgs {}
#[derive(Args, Debug)]
pub struct CacheArgs {}

pub fn speak(_: SpeakArgs, _: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`loa speak` is not implemented yet")
}
pub fn generate(_: GenerateArgs, _: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`loa generate` is not implemented yet")
}
pub fn voices(_: VoicesArgs, _: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`loa voices` is not implemented yet")
}
pub fn cache(_: CacheArgs, _: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`loa cache` is not implemented yet")
}
