//! Every style the screen uses, in one place, with and without colour.
//!
//! Colour is never the only carrier of meaning: each state also has a symbol
//! (timeline cells) or a modifier (bold, underline, reverse), so the screen
//! reads on a monochrome terminal, under `NO_COLOR`, and to colour-blind users.
//! With colour off, [`Theme`] strips every colour from every style it hands
//! out, so no widget can leak one by accident.

use ratatui::style::{Color, Modifier, Style};

/// Timeline symbol of a running thread (not blocked, holding nothing).
pub(crate) const SYM_RUNNING: &str = "─";
/// Timeline symbol of a thread holding at least one lock.
pub(crate) const SYM_HOLDING: &str = "█";
/// Timeline symbol of a thread waiting on a condvar.
pub(crate) const SYM_CONDWAIT: &str = "░";
/// Timeline symbol of a thread blocked on a lock.
pub(crate) const SYM_WAITING: &str = "▒";
/// Timeline symbol: stopped at the step gate, waiting to be moved.
pub(crate) const SYM_PARKED: &str = "┄";
/// Timeline symbol: waiting in a deadlock cycle (a wait that never ends).
pub(crate) const SYM_DEADLOCKED: &str = "▓";
/// Timeline symbol of a thread blocked on another thread (a join).
pub(crate) const SYM_BLOCKED: &str = "▚";
/// Timeline symbol of a panicked thread.
pub(crate) const SYM_PANICKED: &str = "✗";
/// Timeline symbol before a thread starts and after it finishes.
pub(crate) const SYM_NONE: &str = " ";

/// The palette: colours when allowed, modifiers always.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Theme {
    color: bool,
}

impl Theme {
    /// A theme with colour (`true`) or monochrome (`false`, for `NO_COLOR`).
    pub(crate) fn new(color: bool) -> Self {
        Theme { color }
    }

    /// `style` as given in colour mode; without its colours in monochrome mode.
    fn paint(self, style: Style) -> Style {
        if self.color {
            style
        } else {
            Style {
                fg: None,
                bg: None,
                underline_color: None,
                ..style
            }
        }
    }

    /// `colored` in colour mode, `mono` (modifiers only) otherwise.
    fn pick(self, colored: Style, mono: Style) -> Style {
        if self.color {
            colored
        } else {
            self.paint(mono)
        }
    }

    /// Plain text.
    pub(crate) fn text(self) -> Style {
        Style::new()
    }

    /// Secondary text: units, sites, hints.
    pub(crate) fn dim(self) -> Style {
        self.pick(
            Style::new().fg(Color::DarkGray),
            Style::new().add_modifier(Modifier::DIM),
        )
    }

    /// Emphasis that needs no colour.
    pub(crate) fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// A panel's border: brighter when the panel has the focus.
    pub(crate) fn border(self, focused: bool) -> Style {
        if focused {
            self.pick(
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                Style::new().add_modifier(Modifier::BOLD),
            )
        } else {
            self.dim()
        }
    }

    /// A panel's title.
    pub(crate) fn title(self, focused: bool) -> Style {
        if focused {
            self.pick(
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )
        } else {
            self.bold()
        }
    }

    /// The selected row of a list: reversed when its panel has the focus.
    pub(crate) fn selected(self, focused: bool) -> Style {
        if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// Threads, locks and edges of an actual deadlock.
    pub(crate) fn deadlock(self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )
    }

    /// The `DEADLOCK:` banner.
    pub(crate) fn banner(self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
    }

    /// Potential deadlocks and other warnings.
    pub(crate) fn warning(self) -> Style {
        self.pick(
            Style::new().fg(Color::Yellow),
            Style::new().add_modifier(Modifier::ITALIC),
        )
    }

    /// Good news: `dropped 0`, a finished run.
    pub(crate) fn good(self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// A key name in the footer and the help.
    pub(crate) fn key(self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Timeline cell: running.
    pub(crate) fn running(self) -> Style {
        self.dim()
    }

    /// Timeline cell: holding a lock (also the lock-held colour elsewhere).
    pub(crate) fn holding(self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// Timeline cell: waiting on a condvar.
    pub(crate) fn cond_wait(self) -> Style {
        self.pick(Style::new().fg(Color::Blue), Style::new())
    }

    /// Timeline cell: blocked on a lock, as any healthy contention is (amber,
    /// not the deadlock red: a convoy is not an alarm).
    pub(crate) fn waiting(self) -> Style {
        self.pick(Style::new().fg(Color::Yellow), Style::new())
    }

    /// Timeline cell: stopped at the step gate (the user moves it).
    pub(crate) fn parked(self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Timeline cell: blocked for good, in a deadlock cycle.
    pub(crate) fn deadlocked(self) -> Style {
        self.deadlock()
    }

    /// Timeline cell: panicked.
    pub(crate) fn panicked(self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// A lock name written inside a run of cells of the state styled `cell`.
    pub(crate) fn label_on(self, cell: Style) -> Style {
        match cell.fg {
            Some(bg) if self.color => Style::new()
                .fg(Color::Black)
                .bg(bg)
                .add_modifier(Modifier::BOLD),
            _ => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monochrome_styles_carry_no_colour() {
        let mono = Theme::new(false);
        let all = [
            mono.dim(),
            mono.border(true),
            mono.title(true),
            mono.deadlock(),
            mono.banner(),
            mono.warning(),
            mono.good(),
            mono.key(),
            mono.holding(),
            mono.cond_wait(),
            mono.waiting(),
            mono.panicked(),
            mono.label_on(mono.holding()),
        ];
        for s in all {
            assert_eq!((s.fg, s.bg, s.underline_color), (None, None, None), "{s:?}");
        }
        assert!(mono.deadlock().add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn colour_styles_use_red_for_deadlocks() {
        let c = Theme::new(true);
        assert_eq!(c.deadlock().fg, Some(Color::Red));
        assert_eq!(c.deadlocked().fg, Some(Color::Red));
        assert_ne!(c.waiting().fg, c.deadlocked().fg, "waiting is not alarming");
        assert_eq!(c.label_on(c.holding()).bg, Some(Color::Green));
    }
}
