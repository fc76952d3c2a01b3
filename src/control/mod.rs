//! What drives the watched threads or the watched time: step mode (threads
//! stop at the gate before each lock operation until moved) and the
//! time-travel cursor over a recording.
//!
//! Both are driven by the viewer's keys but know nothing about terminals:
//! the viewer maps keys to [`StepAction`]s and [`ReplayAction`]s and shows
//! the [`StepPanel`] and the state at the cursor.

mod replay;
mod step;

pub use replay::{Catchup, Replay, ReplayAction};
pub use step::{StepAction, StepLine, StepLineKind, StepPanel, Stepper};
