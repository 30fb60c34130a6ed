//! The integration tests, one binary with a module per area (building one
//! binary instead of twenty is most of what `scripts/test` spends).
//! The golden-file and property tests of the text stage are their own
//! binaries (`tests/golden.rs`, `tests/text_props.rs`) so text work can run
//! them alone.

mod browser_support;
mod cli_support;
mod piper_support;
mod remote_support;
mod s3_support;
mod server_support;
mod site_support;
mod trust_support;

mod audio;
mod browser_a11y;
mod browser_content;
mod browser_gaps;
mod browser_recovery;
mod browser_widget;
mod cache;
mod check;
mod cli_input;
mod cli_text;
mod feed_watch;
mod fetch;
mod generate_feed;
mod normalize_json;
mod openapi;
mod ops_config;
mod ops_docs;
mod ops_logs;
mod pages;
mod pipeline;
mod piper_phonemes;
mod piper_speech;
mod pool;
mod reliability;
mod remote_azure;
mod remote_chain;
mod remote_fpt;
mod remote_google;
mod remote_openai;
mod remote_viettel;
mod remote_voice_files;
mod s3_instances;
mod s3_metrics;
mod s3_store;
mod server_api;
mod server_concurrency;
mod server_range;
mod server_shutdown;
mod speech_cli;
mod trust_admin;
mod trust_budget;
mod trust_limits;
mod trust_policy;
mod trust_widget;
