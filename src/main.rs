//! The `lockscope` binary: everything lives in the library, where tests reach it.

use std::process::ExitCode;

fn main() -> ExitCode {
    match lockscope::cli::main(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("lockscope: {err:#}");
            ExitCode::from(lockscope::cli::EXIT_USAGE)
        }
    }
}
