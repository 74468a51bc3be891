//! Command line: one function per subcommand.
//!
//! Owns: argument parsing, logging setup, printing reports, exit codes. Must not: run SQL, HTTP or
//! templates directly (it calls `pipeline`).

use std::process::ExitCode;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
