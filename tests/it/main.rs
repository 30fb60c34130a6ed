//! The integration tests, one binary with a module per area (building one
//! binary instead of twenty is most of what `scripts/test` spends).
//! The golden-file and property tests of the text stage are their own
//! binaries (`tests/golden.rs`, `tests/text_props.rs`) so text work can run
//! them alone.

mod remote_support;
mod s3_support;
mod server_support;

mod audio;
mod cache;
mod cli_input;
mod cli_text;
mod pipeline;
mod remote_azure;
mod remote_chain;
mod remote_fpt;
mod remote_google;
mod remote_openai;
mod remote_viettel;
mod remote_voice_files;
mod s3_instances;
mod s3_store;
mod server_api;
mod server_browser;
mod server_concurrency;
mod server_range;
mod server_shutdown;
mod speech_cli;
