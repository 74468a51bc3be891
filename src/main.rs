//! The `feedwright` binary: parse the command line, call the library, map the outcome to an exit
//! code. No logic lives here.

use std::process::ExitCode;

fn main() -> ExitCode {
    feedwright::cli::main()
}
