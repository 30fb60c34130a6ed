//! loa reads Vietnamese articles aloud.
//!
//! The pipeline is one module per stage: [`text`] turns an article into
//! sentences and each sentence into the words a news reader says; [`tts`]
//! turns spoken text into PCM through a pluggable [`tts::Backend`]; [`audio`]
//! joins, levels and encodes PCM; [`cache`] stores the results by content;
//! [`pipeline`] ties the stages together for the CLI and the HTTP
//! [`server`]; [`fetch`] reads pages, feeds and sitemaps by URL, safely;
//! [`config`] holds the typed settings they share; [`report`] puts an
//! error and its causes on one line.

pub mod audio;
pub mod cache;
pub mod cli;
pub mod config;
pub mod fetch;
pub mod pipeline;
pub mod report;
pub mod server;
pub mod sources;
pub mod text;
pub mod tts;
