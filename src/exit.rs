//! How a lockscope run ends, as one exit status for the process: the same
//! value whether the run was watched in the viewer or headless.

use std::process::ExitCode;

/// The exit status of a run.
///
/// # Examples
///
/// ```
/// use lockscope::ExitStatus;
///
/// assert_eq!(ExitStatus::Deadlock.code(), 3);
/// let code: std::process::ExitCode = ExitStatus::ExpectationFailed.into();
/// # let _ = code;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// Everything finished.
    Finished,
    /// Bad usage or bad input (a scenario, schedule or trace file).
    Usage,
    /// A deadlock: a wait-for cycle closed.
    Deadlock,
    /// The run hit its time limit (or explored threads were stuck).
    Timeout,
    /// The run finished but an `[expect]` check failed.
    ExpectationFailed,
    /// Every live thread stayed blocked with nobody left to wake it (a
    /// stall: a lost notification, a lock held by a thread that is gone).
    Stall,
    /// The viewer panicked.
    Panicked,
    /// The user quit (or the terminal closed) while the program still ran.
    Interrupted,
}

impl ExitStatus {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Finished => 0,
            ExitStatus::Usage => 2,
            ExitStatus::Deadlock => 3,
            ExitStatus::Timeout => 4,
            ExitStatus::ExpectationFailed => 5,
            ExitStatus::Stall => 6,
            ExitStatus::Panicked => 101,
            ExitStatus::Interrupted => 130,
        }
    }

    /// Ends the process with this status.
    pub fn exit(self) -> ! {
        std::process::exit(i32::from(self.code()))
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_numbers() {
        let all = [
            (ExitStatus::Finished, 0),
            (ExitStatus::Usage, 2),
            (ExitStatus::Deadlock, 3),
            (ExitStatus::Timeout, 4),
            (ExitStatus::ExpectationFailed, 5),
            (ExitStatus::Panicked, 101),
            (ExitStatus::Interrupted, 130),
        ];
        for (status, code) in all {
            assert_eq!(status.code(), code, "{status:?}");
        }
    }
}
