//! The `loa` binary: parses the command line and dispatches to [`loa::cli`].

fn main() -> std::process::ExitCode {
    loa::cli::main()
}
