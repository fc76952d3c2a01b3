//! The one key table: for each mode, the keys, what they do, and how the
//! help and the footer name them. [`map_key`](super::map_key),
//! [`map_replay_key`](super::map_replay_key) and
//! [`map_step_key`](super::map_step_key) look keys up here, and the help
//! overlay and the footer are generated from it, so they cannot disagree.

use crossterm::event::KeyCode;

use super::input::Action;
use crate::control::{ReplayAction, StepAction};

/// When a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The viewer, live or paused.
    View,
    /// A recording (or a paused live session travelling back).
    Replay,
    /// Step mode; `on_only` bindings act only while it is on.
    Step {
        /// Only while step mode is on (all but `s`).
        on_only: bool,
    },
    /// Shown in the help only (handled elsewhere: Ctrl-C, the mouse).
    Note,
}

/// What a binding does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    View(Action),
    Replay(ReplayAction),
    Step(StepAction),
    /// `1`–`9`: move that thread.
    StepMove,
    None,
}

/// One row of the table.
pub(crate) struct Binding {
    pub(crate) mode: Mode,
    pub(crate) keys: &'static [KeyCode],
    /// The keys as the help shows them (empty: folded into the row above).
    pub(crate) shown: &'static str,
    /// What the help says.
    pub(crate) what: &'static str,
    /// The footer's key and label, for the few most useful.
    pub(crate) footer: Option<(&'static str, &'static str)>,
    pub(crate) command: Command,
}

use Command as C;
use KeyCode as K;

const fn b(
    mode: Mode,
    keys: &'static [KeyCode],
    shown: &'static str,
    what: &'static str,
    footer: Option<(&'static str, &'static str)>,
    command: Command,
) -> Binding {
    Binding {
        mode,
        keys,
        shown,
        what,
        footer,
        command,
    }
}

const V: Mode = Mode::View;
const R: Mode = Mode::Replay;
const S: Mode = Mode::Step { on_only: true };

/// Every key, in the order the help lists them.
pub(crate) const KEYS: &[Binding] = &[
    b(
        V,
        &[K::Char('q')],
        "q",
        "quit (asks once while the program still runs)",
        Some(("q", "quit")),
        C::View(Action::Quit),
    ),
    b(Mode::Note, &[], "Ctrl-C", "quit at once", None, C::None),
    b(
        V,
        &[K::Esc],
        "Esc",
        "close help / filter / details",
        None,
        C::View(Action::Back),
    ),
    b(
        V,
        &[K::Char('?')],
        "?",
        "this help",
        Some(("?", "help")),
        C::View(Action::ToggleHelp),
    ),
    b(
        V,
        &[K::Char(' ')],
        "space",
        "pause / resume the view (recording goes on)",
        Some(("space", "pause")),
        C::View(Action::TogglePause),
    ),
    b(
        V,
        &[K::Left, K::Char('h')],
        "← →  h l",
        "scroll time",
        Some(("←→", "scroll")),
        C::View(Action::ScrollLeft),
    ),
    b(
        V,
        &[K::Right, K::Char('l')],
        "",
        "",
        None,
        C::View(Action::ScrollRight),
    ),
    b(
        V,
        &[K::Char('+'), K::Char('=')],
        "+ -",
        "zoom in / out (1µs … 10s per column)",
        Some(("+-", "zoom")),
        C::View(Action::ZoomIn),
    ),
    b(
        V,
        &[K::Char('-'), K::Char('_')],
        "",
        "",
        None,
        C::View(Action::ZoomOut),
    ),
    b(
        V,
        &[K::Char('f')],
        "f",
        "follow the newest time (once it is over, the story)",
        None,
        C::View(Action::Follow),
    ),
    b(
        V,
        &[K::Up, K::Char('k')],
        "↑ ↓  j k",
        "select a thread / move in the focused panel",
        Some(("↑↓", "select")),
        C::View(Action::Up),
    ),
    b(
        V,
        &[K::Down, K::Char('j')],
        "",
        "",
        None,
        C::View(Action::Down),
    ),
    b(
        V,
        &[K::PageUp],
        "PgUp PgDn",
        "a page up / down",
        None,
        C::View(Action::PageUp),
    ),
    b(V, &[K::PageDown], "", "", None, C::View(Action::PageDown)),
    b(
        V,
        &[K::Home, K::Char('g')],
        "Home End  g G",
        "history start / follow (timeline), first / last",
        None,
        C::View(Action::Home),
    ),
    b(
        V,
        &[K::End, K::Char('G')],
        "",
        "",
        None,
        C::View(Action::End),
    ),
    b(
        V,
        &[K::Tab],
        "Tab Shift-Tab",
        "focus next / previous panel",
        Some(("Tab", "focus")),
        C::View(Action::NextFocus),
    ),
    b(V, &[K::BackTab], "", "", None, C::View(Action::PrevFocus)),
    b(
        V,
        &[K::Enter],
        "Enter",
        "details of the selected thread or lock",
        Some(("Enter", "details")),
        C::View(Action::ToggleDetails),
    ),
    b(
        V,
        &[K::Char('/')],
        "/",
        "filter the log by thread or lock name",
        Some(("/", "filter")),
        C::View(Action::Filter),
    ),
    b(
        V,
        &[K::Char('o')],
        "o",
        "sort the lock table by the next column",
        None,
        C::View(Action::CycleSort),
    ),
    b(
        Mode::Note,
        &[],
        "mouse",
        "wheel scrolls, click selects",
        None,
        C::None,
    ),
    b(
        Mode::Step { on_only: false },
        &[K::Char('s')],
        "s",
        "step mode: threads stop before each lock operation",
        None,
        C::Step(StepAction::Toggle),
    ),
    b(
        S,
        &[
            K::Char('1'),
            K::Char('2'),
            K::Char('3'),
            K::Char('4'),
            K::Char('5'),
            K::Char('6'),
            K::Char('7'),
            K::Char('8'),
            K::Char('9'),
        ],
        "1-9  n  Enter",
        "step: move thread N (its lane) / the next / the selected one",
        None,
        C::StepMove,
    ),
    b(S, &[K::Char('n')], "", "", None, C::Step(StepAction::Next)),
    b(
        S,
        &[K::Char('c'), K::Char(' ')],
        "c  w  b",
        "step: run free / write the schedule / back",
        None,
        C::Step(StepAction::Continue),
    ),
    b(S, &[K::Char('w')], "", "", None, C::Step(StepAction::Write)),
    b(S, &[K::Char('b')], "", "", None, C::Step(StepAction::Back)),
    b(
        R,
        &[K::Char(' '), K::Char('p')],
        "replay",
        "space play · . , one event · [ ] speed · d x jump",
        None,
        C::Replay(ReplayAction::TogglePlay),
    ),
    b(
        R,
        &[K::Char('.')],
        "",
        "",
        None,
        C::Replay(ReplayAction::StepForward),
    ),
    b(
        R,
        &[K::Char(',')],
        "",
        "",
        None,
        C::Replay(ReplayAction::StepBack),
    ),
    b(
        R,
        &[K::Char('[')],
        "",
        "",
        None,
        C::Replay(ReplayAction::Slower),
    ),
    b(
        R,
        &[K::Char(']')],
        "",
        "",
        None,
        C::Replay(ReplayAction::Faster),
    ),
    b(R, &[K::Home], "", "", None, C::Replay(ReplayAction::Start)),
    b(R, &[K::End], "", "", None, C::Replay(ReplayAction::End)),
    b(
        R,
        &[K::Char('d')],
        "",
        "",
        None,
        C::Replay(ReplayAction::NextDeadlock),
    ),
    b(
        R,
        &[K::Char('x')],
        "",
        "",
        None,
        C::Replay(ReplayAction::NextContended),
    ),
];

/// The command of `code` among the bindings `mode` selects.
pub(crate) fn lookup(code: KeyCode, mode: impl Fn(Mode) -> bool) -> Option<&'static Binding> {
    KEYS.iter()
        .filter(|b| mode(b.mode))
        .find(|b| b.keys.contains(&code))
}

/// The help's rows: (keys, what they do).
pub(crate) fn help_rows() -> impl Iterator<Item = (&'static str, &'static str)> {
    KEYS.iter()
        .filter(|b| !b.shown.is_empty())
        .map(|b| (b.shown, b.what))
}

/// The footer's hints: (key, label), most useful first.
pub(crate) fn footer_hints() -> impl Iterator<Item = (&'static str, &'static str)> {
    KEYS.iter().filter_map(|b| b.footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_does_one_thing_per_mode_and_every_row_is_named() {
        for (i, a) in KEYS.iter().enumerate() {
            for b2 in &KEYS[i + 1..] {
                if a.mode == b2.mode {
                    for k in a.keys {
                        assert!(!b2.keys.contains(k), "{k:?} twice in {:?}", a.mode);
                    }
                }
            }
        }
        // A row folded into the one above has a command; a shown one says what.
        for b in KEYS {
            assert_eq!(b.shown.is_empty(), b.what.is_empty(), "{}", b.shown);
        }
        let footer: Vec<_> = footer_hints().collect();
        assert_eq!(footer[0], ("q", "quit"));
        assert!(footer.contains(&("←→", "scroll")) && footer.len() == 9);
    }
}
