//! The `lockscope` binary: everything lives in the library, where tests reach it.

use std::process::ExitCode;

fn main() -> ExitCode {
    match lockscope::cli::main(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            // File names and anything else quoted back are the user's: no
            // escape sequence or bidi override reaches the terminal raw.
            let message = format!("{err:#}");
            let lines: Vec<String> = message.lines().map(lockscope::model::sanitize).collect();
            eprintln!("lockscope: {}", lines.join("\n"));
            lockscope::ExitStatus::Usage.into()
        }
    }
}
