//! Typed settings shared by the CLI and the server (`config/loa.toml`).
