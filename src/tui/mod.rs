//! The live terminal UI: timeline lanes, the lock table, the wait-for graph
//! with every deadlock cycle in red.
//!
//! [`App`] holds the screen's state and a [`Model`](crate::model::Model) of
//! its own; [`draw`] renders it (a pure function of the state and the terminal
//! size); [`map_key`] turns keys into [`Action`]s. The runtime feeds events,
//! clock ticks and input, and draws when [`App::dirty`] says so.

mod actions;
mod app;
mod buffers;
mod feed;
mod input;
mod keys;
mod mouse;
mod rows;
mod story;
mod theme;
mod timeview;
mod ui;

// The terminal runtime: raw mode, alternate screen, panic hook, the event loop.
mod run;
mod term;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod screens;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_input;
#[cfg(test)]
mod tests_step;

pub use app::{App, AppConfig, Flow, Focus, RunState, SortColumn};
pub use feed::{Notice, Watched};
pub use input::{Action, map_key, map_replay_key, map_step_key};
pub use run::{ColorChoice, ViewerOptions, color_enabled, restore_default_signals, run_viewer};
pub use ui::{MIN_HEIGHT, MIN_WIDTH, ScreenLayout, draw, layout};
