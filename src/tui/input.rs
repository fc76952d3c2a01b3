//! Keys to [`Action`]s: small pure functions, unit-tested.
//!
//! The mapping knows nothing about the screen's state; [`App`](super::App)
//! decides what an action means where (Up moves in whichever panel has the focus).
//! While the log filter prompt is open, keys are text instead:
//! [`App::on_key`](super::App::on_key) routes them there.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::keys::{Command, Mode, lookup};
use crate::control::{ReplayAction, StepAction};

/// Something the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Quit (`q`); asks once first while the watched program still runs.
    Quit,
    /// Quit at once, whatever runs (Ctrl-C).
    Interrupt,
    /// Close the help, the filter prompt or the details, whichever is open;
    /// nothing else (`Esc`).
    Back,
    /// Pause or resume the view; events keep being recorded (space).
    TogglePause,
    /// Scroll the timeline towards older events (`←`, `h`).
    ScrollLeft,
    /// Scroll the timeline towards newer events (`→`, `l`).
    ScrollRight,
    /// Fewer nanoseconds per column (`+`, `=`).
    ZoomIn,
    /// More nanoseconds per column (`-`, `_`).
    ZoomOut,
    /// Previous row in the focused panel (`↑`, `k`).
    Up,
    /// Next row in the focused panel (`↓`, `j`).
    Down,
    /// A page up in the focused panel (PageUp).
    PageUp,
    /// A page down in the focused panel (PageDown).
    PageDown,
    /// The start: of the history in the timeline, of the list elsewhere (Home, `g`).
    Home,
    /// The end: back to following in the timeline, the last row elsewhere (End, `G`).
    End,
    /// Focus the next panel (Tab).
    NextFocus,
    /// Focus the previous panel (Shift-Tab).
    PrevFocus,
    /// Open or close the details of the selection (Enter).
    ToggleDetails,
    /// Open the log filter prompt (`/`).
    Filter,
    /// Follow the newest events in the timeline (`f`).
    Follow,
    /// Sort the lock table by the next column (`o`).
    CycleSort,
    /// Show or hide the help (`?`).
    ToggleHelp,
}

/// The action for a key press, if any.
///
/// Only presses count: release and repeat events (sent by terminals with the
/// kitty keyboard protocol) are ignored, so one press is one action.
///
/// # Examples
///
/// ```
/// use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
/// use lockscope::tui::{Action, map_key};
///
/// let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
/// assert_eq!(map_key(q), Some(Action::Quit));
/// let release = KeyEvent { kind: KeyEventKind::Release, ..q };
/// assert_eq!(map_key(release), None);
/// ```
pub fn map_key(key: KeyEvent) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c' | 'C') => Some(Action::Interrupt),
            _ => None,
        };
    }
    if key.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    match lookup(key.code, |m| m == Mode::View)?.command {
        Command::View(action) => Some(action),
        _ => None,
    }
}

/// What a key does while the filter prompt is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PromptKey {
    /// Type a character.
    Insert(char),
    /// Delete the last character.
    Backspace,
    /// Apply the filter.
    Apply,
    /// Close the prompt, keeping the previous filter.
    Cancel,
    /// Quit lockscope (Ctrl-C works everywhere).
    Quit,
}

/// The prompt's meaning of a key press, if any (presses only, like [`map_key`]).
pub(crate) fn map_prompt_key(key: KeyEvent) -> Option<PromptKey> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c' | 'C') => Some(PromptKey::Quit),
            KeyCode::Char('u' | 'U') => Some(PromptKey::Cancel),
            _ => None,
        };
    }
    match key.code {
        KeyCode::Char(c) if !c.is_control() => Some(PromptKey::Insert(c)),
        KeyCode::Backspace => Some(PromptKey::Backspace),
        KeyCode::Enter => Some(PromptKey::Apply),
        KeyCode::Esc => Some(PromptKey::Cancel),
        _ => None,
    }
}

/// The replay keys; everything else goes to the viewer.
pub fn map_replay_key(key: KeyEvent) -> Option<ReplayAction> {
    if key.kind != KeyEventKind::Press || key.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    match lookup(key.code, |m| m == Mode::Replay)?.command {
        Command::Replay(action) => Some(action),
        _ => None,
    }
}

/// Step-mode keys: `s` always; the others only while step mode is on.
pub fn map_step_key(key: KeyEvent, on: bool) -> Option<StepAction> {
    if key.kind != KeyEventKind::Press || key.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    let binding = lookup(key.code, |m| match m {
        Mode::Step { on_only } => on || !on_only,
        _ => false,
    })?;
    match (binding.command, key.code) {
        (Command::StepMove, KeyCode::Char(c)) => {
            c.to_digit(10).map(|d| StepAction::Move(d as usize))
        }
        (Command::Step(action), _) => Some(action),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ch(c: char) -> Option<Action> {
        map_key(press(KeyCode::Char(c)))
    }

    #[test]
    fn every_key_maps_to_its_action() {
        use Action::*;
        let cases = [
            (KeyCode::Char('q'), Quit),
            (KeyCode::Esc, Back),
            (KeyCode::Char(' '), TogglePause),
            (KeyCode::Left, ScrollLeft),
            (KeyCode::Char('h'), ScrollLeft),
            (KeyCode::Right, ScrollRight),
            (KeyCode::Char('l'), ScrollRight),
            (KeyCode::Char('+'), ZoomIn),
            (KeyCode::Char('='), ZoomIn),
            (KeyCode::Char('-'), ZoomOut),
            (KeyCode::Char('_'), ZoomOut),
            (KeyCode::Up, Up),
            (KeyCode::Char('k'), Up),
            (KeyCode::Down, Down),
            (KeyCode::Char('j'), Down),
            (KeyCode::PageUp, PageUp),
            (KeyCode::PageDown, PageDown),
            (KeyCode::Home, Home),
            (KeyCode::Char('g'), Home),
            (KeyCode::End, End),
            (KeyCode::Char('G'), End),
            (KeyCode::Tab, NextFocus),
            (KeyCode::BackTab, PrevFocus),
            (KeyCode::Enter, ToggleDetails),
            (KeyCode::Char('/'), Filter),
            (KeyCode::Char('f'), Follow),
            (KeyCode::Char('o'), CycleSort),
            (KeyCode::Char('?'), ToggleHelp),
        ];
        for (code, action) in cases {
            assert_eq!(map_key(press(code)), Some(action), "{code:?}");
        }
    }

    #[test]
    fn shifted_symbols_still_map() {
        // Terminals report `+`, `?` and `G` with SHIFT held.
        for (c, action) in [
            ('+', Action::ZoomIn),
            ('?', Action::ToggleHelp),
            ('G', Action::End),
        ] {
            let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT);
            assert_eq!(map_key(key), Some(action));
        }
    }

    #[test]
    fn ctrl_c_quits_and_other_chords_do_nothing() {
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert_eq!(map_key(ctrl('c')), Some(Action::Interrupt));
        assert_eq!(map_key(ctrl('q')), None);
        assert_eq!(map_key(ctrl('l')), None);
        let alt = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
        assert_eq!(map_key(alt), None);
    }

    #[test]
    fn release_and_repeat_are_ignored() {
        for kind in [KeyEventKind::Release, KeyEventKind::Repeat] {
            let key = KeyEvent {
                kind,
                ..press(KeyCode::Char('q'))
            };
            assert_eq!(map_key(key), None);
            assert_eq!(map_prompt_key(key), None);
        }
    }

    #[test]
    fn unbound_keys_and_reserved_step_keys_map_to_nothing() {
        // s, b, n, w and digits are step mode's, taken before the app sees them.
        for c in ['s', 'b', 'n', 'w', 'x', '1'] {
            assert_eq!(ch(c), None, "{c}");
        }
        assert_eq!(map_key(press(KeyCode::F(1))), None);
        assert_eq!(map_key(press(KeyCode::Backspace)), None);
    }

    #[test]
    fn the_prompt_takes_text() {
        let p = |code| map_prompt_key(press(code));
        assert_eq!(p(KeyCode::Char('q')), Some(PromptKey::Insert('q')));
        assert_eq!(p(KeyCode::Char(' ')), Some(PromptKey::Insert(' ')));
        assert_eq!(p(KeyCode::Char('é')), Some(PromptKey::Insert('é')));
        assert_eq!(p(KeyCode::Backspace), Some(PromptKey::Backspace));
        assert_eq!(p(KeyCode::Enter), Some(PromptKey::Apply));
        assert_eq!(p(KeyCode::Esc), Some(PromptKey::Cancel));
        assert_eq!(p(KeyCode::Left), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map_prompt_key(ctrl_c), Some(PromptKey::Quit));
    }

    #[test]
    fn the_help_names_every_action() {
        let help: String = super::super::keys::help_rows()
            .map(|(k, _)| k)
            .collect::<Vec<_>>()
            .join(" ");
        for key in [
            "q", "Esc", "space", "←", "h", "+", "f", "↑", "j", "PgUp", "Home", "Tab", "Enter", "/",
            "o", "?",
        ] {
            assert!(help.contains(key), "{key} missing from help");
        }
    }
    #[test]
    fn keys_map_to_replay_actions() {
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(map_replay_key(key(' ')), Some(ReplayAction::TogglePlay));
        assert_eq!(map_replay_key(key(',')), Some(ReplayAction::StepBack));
        assert_eq!(map_replay_key(key('d')), Some(ReplayAction::NextDeadlock));
        assert_eq!(map_replay_key(key('q')), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map_replay_key(ctrl_c), None);
    }

    #[test]
    fn step_keys_only_act_in_step_mode_but_s() {
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(map_step_key(key('s'), false), Some(StepAction::Toggle));
        assert_eq!(map_step_key(key('3'), false), None);
        assert_eq!(map_step_key(key('3'), true), Some(StepAction::Move(3)));
        assert_eq!(map_step_key(key('n'), true), Some(StepAction::Next));
        assert_eq!(map_step_key(key('c'), true), Some(StepAction::Continue));
        assert_eq!(map_step_key(key(' '), true), Some(StepAction::Continue));
        assert_eq!(map_step_key(key(' '), false), None, "space pauses the view");
        assert_eq!(map_step_key(key('w'), true), Some(StepAction::Write));
        assert_eq!(map_step_key(key('b'), true), Some(StepAction::Back));
        assert_eq!(map_step_key(key('q'), true), None);
    }
}
