//! The demo: a scenario's scripted run played into the real TUI on a virtual
//! clock, a short tour of keys with a caption for each, and the screens it
//! gives — the same for every output format.
//!
//! The tour: the run plays for a few seconds (zooming out so it fits the
//! timeline) until the wait-for cycle closes and turns red; then `space`
//! pauses the view, `↓` and `Enter` open a thread's details, `Tab` moves them
//! to the lock table, `Tab` again to the wait-for graph, `?` shows the help.

use anyhow::{Context, bail};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

use super::DemoOptions;
use super::script::{self, Outcome, Script};
use crate::TransportStats;
use crate::event::Nanos;
use crate::model::{Model, format_duration, sanitize};
use crate::scenario::Scenario;
use crate::tui::{App, AppConfig, MIN_HEIGHT, MIN_WIDTH, RunState, draw};

/// Time between frames while nothing else happens, in centiseconds (10 fps).
const FRAME_CS: u32 = 10;
/// The longest the run plays before the tour starts.
const RUN_CS: u32 = 350;
/// How long the outcome's caption shows before the tour.
const OUTCOME_CS: u32 = 200;
/// The run is cut after this much virtual time or this many events.
const HORIZON: Nanos = 30_000_000_000;
const MAX_EVENTS: usize = 200_000;
/// The largest screen rendered, in cells.
const MAX_COLS: u16 = 400;
const MAX_ROWS: u16 = 150;
/// Nanoseconds per column at the TUI's zoom levels (1-2-5 steps from 1 µs to
/// 10 s, as `+` and `-` move through them), and the level a screen starts at.
const ZOOM_STEPS: usize = 22;
const DEFAULT_ZOOM: usize = 9;

/// The tour after the outcome: a key, its label, the caption, and how long
/// until the next key (centiseconds).
const TOUR: &[(KeyCode, &str, &str, u32)] = &[
    (
        KeyCode::Char(' '),
        "space",
        "pause the view: the screen holds still, recording goes on",
        150,
    ),
    (KeyCode::Down, "↓", "select the next thread", 100),
    (
        KeyCode::Enter,
        "Enter",
        "details of the thread: what it holds, what it waits for, where",
        280,
    ),
    (
        KeyCode::Tab,
        "Tab",
        "focus the lock table: the details follow the selected lock",
        180,
    ),
    (KeyCode::Down, "↓", "select the next lock", 200),
    (KeyCode::Esc, "Esc", "close the details", 80),
    (
        KeyCode::Tab,
        "Tab",
        "focus the wait-for graph: the cycle, edge by edge",
        120,
    ),
    (KeyCode::Down, "↓", "next edge", 100),
    (KeyCode::Char('?'), "?", "help: every key", 250),
    (KeyCode::Esc, "Esc", "close the help", 140),
];

/// The demo's length when nothing cuts it: the run, the outcome, the tour.
#[cfg(test)]
pub(crate) fn full_length_cs() -> u32 {
    RUN_CS + OUTCOME_CS + TOUR.iter().map(|t| t.3).sum::<u32>()
}

/// One screen and when it appears.
pub(crate) struct Shot {
    pub(crate) screen: Buffer,
    /// Centiseconds from the start.
    pub(crate) at_cs: u32,
}

/// The demo's screens, each different from the one before.
pub(crate) struct Film {
    pub(crate) cols: u16,
    pub(crate) rows: u16,
    pub(crate) shots: Vec<Shot>,
    /// When the last screen ends, in centiseconds.
    pub(crate) end_cs: u32,
    /// Lock events played.
    pub(crate) events: usize,
    /// Whether a deadlock shows.
    pub(crate) deadlock: bool,
}

/// A key pressed (or a caption alone) at a moment of the demo.
struct Cue {
    at_cs: u32,
    key: Option<KeyCode>,
    label: &'static str,
    text: String,
    until_cs: u32,
}

/// Plays the demo `opts` asks for.
///
/// # Errors
///
/// An unknown scenario or bad file, a size outside 60×15 to 400×150, a length
/// outside (0, 600] seconds.
pub(crate) fn film(opts: &DemoOptions) -> anyhow::Result<Film> {
    let (cols, rows) = (opts.cols, opts.rows);
    if !(MIN_WIDTH..=MAX_COLS).contains(&cols) || !(MIN_HEIGHT..=MAX_ROWS).contains(&rows) {
        bail!(
            "demo size {cols}x{rows} is out of range: from {MIN_WIDTH}x{MIN_HEIGHT} to {MAX_COLS}x{MAX_ROWS}"
        );
    }
    if !(opts.seconds > 0.0 && opts.seconds <= 600.0) {
        bail!(
            "demo length {} s is out of range: more than 0, at most 600",
            opts.seconds
        );
    }
    let total_cs = ((opts.seconds * 100.0).round() as u32).max(1);
    let scenario = Scenario::load(&opts.scenario)
        .with_context(|| format!("loading scenario {:?} for the demo", opts.scenario))?;
    let script = script::run(&scenario, HORIZON, MAX_EVENTS);
    let run_cs = RUN_CS.min(total_cs * 3 / 10).max(FRAME_CS);
    let climax = climax(&script);
    // Virtual nanoseconds per centisecond of demo: the climax lands at run_cs.
    let speed = climax.max(1_000_000).div_ceil(u64::from(run_cs));
    let cues = cues(
        &scenario,
        &script,
        opts,
        (run_cs, total_cs),
        (climax, speed),
    );
    let mut app = App::new(AppConfig {
        title: scenario.name.clone(),
        color: opts.color,
        history_spans: 1_000_000,
    });
    let mut terminal = Terminal::new(TestBackend::new(cols, rows))?;
    let mut times: Vec<u32> = (0..total_cs).step_by(FRAME_CS as usize).collect();
    times.extend(cues.iter().map(|c| c.at_cs).filter(|&t| t < total_cs));
    times.sort_unstable();
    times.dedup();
    let mut shots: Vec<Shot> = Vec::new();
    let mut played = 0;
    for &t in &times {
        let now = u64::from(t) * speed;
        let upto = played + script.events[played..].partition_point(|e| e.time <= now);
        app.ingest(&script.events[played..upto]);
        played = upto;
        let moved = u64::try_from(played).unwrap_or(u64::MAX);
        let transport = TransportStats {
            sent: moved,
            received: moved,
            ..TransportStats::default()
        };
        app.tick(now, transport);
        app.set_run_state(run_state(app.model(), &script, played));
        for cue in cues.iter().filter(|c| c.at_cs == t) {
            if let Some(code) = cue.key {
                app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
            }
        }
        terminal.draw(|frame| draw(frame, &app))?;
        let mut screen = terminal.backend().buffer().clone();
        if let Some(cue) = cues.iter().rev().find(|c| c.at_cs <= t && t < c.until_cs) {
            caption(&mut screen, cue, opts.color);
        }
        if shots.last().is_none_or(|s| s.screen != screen) {
            shots.push(Shot { screen, at_cs: t });
        }
    }
    Ok(Film {
        cols,
        rows,
        shots,
        end_cs: total_cs,
        events: played,
        deadlock: !app.model().deadlocks().is_empty(),
    })
}

/// When the run's story peaks: the first deadlock, or the end.
fn climax(script: &Script) -> Nanos {
    let mut model = Model::new();
    for ev in &script.events {
        model.apply(ev);
        if !model.deadlocks().is_empty() {
            return ev.time;
        }
    }
    script.end
}

/// What the header says, as the live viewer would know it.
fn run_state(model: &Model, script: &Script, played: usize) -> RunState {
    if model.active_deadlocks().next().is_some() {
        RunState::Deadlocked
    } else if played == script.events.len() && script.outcome == Outcome::Finished {
        RunState::Finished
    } else {
        RunState::Running
    }
}

/// The captions and keys of the demo, from the start to `total_cs`.
/// `(run_cs, total_cs)`: when the run's climax shows and when the demo ends;
/// `(climax, speed)`: the climax's virtual time and virtual nanoseconds per centisecond.
fn cues(
    scenario: &Scenario,
    script: &Script,
    opts: &DemoOptions,
    (run_cs, total_cs): (u32, u32),
    (climax, speed): (Nanos, Nanos),
) -> Vec<Cue> {
    let mut cues = vec![Cue {
        at_cs: 0,
        key: None,
        label: "",
        text: format!("lockscope demo: {}", scenario_line(scenario)),
        until_cs: 250,
    }];
    // Zoom so that the run, and the time until the pause, fit the timeline.
    let lanes = lane_columns(scenario, opts.cols);
    let shown = climax + speed * u64::from(OUTCOME_CS + FRAME_CS);
    let fit = (0..ZOOM_STEPS)
        .find(|&z| ns_per_col(z) * lanes >= shown)
        .unwrap_or(ZOOM_STEPS - 1);
    let presses = fit.abs_diff(DEFAULT_ZOOM);
    let (code, label, what) = if fit > DEFAULT_ZOOM {
        (KeyCode::Char('-'), "-", "zoom out: more time per column")
    } else {
        (KeyCode::Char('+'), "+", "zoom in: less time per column")
    };
    // After the intro has been read a moment, early enough to watch the run fit.
    let first = (run_cs / 4).min(100);
    let gap = (run_cs / 2 / u32::try_from(presses + 1).unwrap_or(1)).clamp(1, 30);
    for i in 0..presses {
        let at = first + gap * u32::try_from(i).unwrap_or(0);
        let level = if fit > DEFAULT_ZOOM {
            DEFAULT_ZOOM + i + 1
        } else {
            DEFAULT_ZOOM - i - 1
        };
        cues.push(Cue {
            at_cs: at,
            key: Some(code),
            label,
            text: format!("{what} ({}/col)", format_duration(ns_per_col(level))),
            until_cs: at + 120,
        });
    }
    let outcome = match script.outcome {
        Outcome::Deadlock => "the wait-for cycle closed: DEADLOCK, its threads and locks in red",
        Outcome::Finished => "every thread finished: no deadlock",
        Outcome::Stuck => "stuck: threads wait for a notify that never comes",
        Outcome::Cut => "still running: no deadlock so far",
    };
    cues.push(Cue {
        at_cs: run_cs,
        key: None,
        label: "",
        text: outcome.to_owned(),
        until_cs: run_cs + OUTCOME_CS,
    });
    let mut at = run_cs + OUTCOME_CS;
    for &(code, label, text, hold) in TOUR {
        cues.push(Cue {
            at_cs: at,
            key: Some(code),
            label,
            text: text.to_owned(),
            until_cs: at + hold,
        });
        at += hold;
    }
    cues.retain(|c| c.at_cs < total_cs);
    cues
}

/// `name: description`, made safe to print.
fn scenario_line(scenario: &Scenario) -> String {
    let name = sanitize(&scenario.name);
    match scenario.description.as_str() {
        "" => name,
        d => format!("{name}: {}", sanitize(d)),
    }
}

/// Nanoseconds per column at zoom level `z`: 1, 2, 5, 10, … µs.
fn ns_per_col(z: usize) -> Nanos {
    let decade = 1_000 * 10u64.pow(u32::try_from(z / 3).unwrap_or(0));
    decade * [1, 2, 5][z % 3]
}

/// How many columns of time the timeline shows on a screen `cols` wide.
fn lane_columns(scenario: &Scenario, cols: u16) -> Nanos {
    let inner = usize::from(cols).saturating_sub(2);
    let longest = scenario
        .threads
        .iter()
        .map(|t| ratatui::text::Span::raw(sanitize(&t.name)).width())
        .max()
        .unwrap_or(0);
    let name_w = longest.clamp(4, 18).min(inner / 4).max(1);
    Nanos::try_from(inner.saturating_sub(name_w + 2).max(1)).unwrap_or(1)
}

/// Writes the caption over the bottom row: the key in a badge, then what it does.
fn caption(screen: &mut Buffer, cue: &Cue, color: bool) {
    let area = screen.area;
    let y = area.bottom().saturating_sub(1);
    let (bar, key) = if color {
        (
            Style::new().fg(Color::White).bg(Color::Rgb(38, 79, 120)),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        )
    } else {
        (
            Style::new().add_modifier(Modifier::REVERSED),
            Style::new().add_modifier(Modifier::BOLD),
        )
    };
    let width = usize::from(area.width);
    for x in area.left()..area.right() {
        if let Some(cell) = screen.cell_mut((x, y)) {
            cell.reset();
            cell.set_style(bar);
        }
    }
    let mut x = area.x + 1;
    if cue.key.is_some() {
        let badge = format!(" key {} ", cue.label);
        let (end, _) = screen.set_stringn(x, y, &badge, width, key);
        x = end + 1;
    } else {
        let (end, _) = screen.set_stringn(x, y, "▶", width, bar.add_modifier(Modifier::BOLD));
        x = end + 1;
    }
    let room = usize::from(area.right().saturating_sub(x + 1));
    screen.set_stringn(x, y, &cue.text, room, bar);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zoom_ladder_matches_the_tui() {
        assert_eq!(ns_per_col(0), 1_000);
        assert_eq!(ns_per_col(DEFAULT_ZOOM), 1_000_000);
        assert_eq!(ns_per_col(10), 2_000_000);
        assert_eq!(ns_per_col(11), 5_000_000);
        assert_eq!(ns_per_col(ZOOM_STEPS - 1), 10_000_000_000);
    }

    #[test]
    fn bad_sizes_and_lengths_are_refused() {
        let ok = DemoOptions::default();
        for opts in [
            DemoOptions {
                cols: 20,
                ..ok.clone()
            },
            DemoOptions {
                rows: 1000,
                ..ok.clone()
            },
            DemoOptions {
                seconds: 0.0,
                ..ok.clone()
            },
            DemoOptions {
                seconds: f64::NAN,
                ..ok.clone()
            },
        ] {
            assert!(film(&opts).is_err(), "{opts:?}");
        }
        let unknown = DemoOptions {
            scenario: "no-such-scenario".into(),
            ..ok
        };
        let err = film(&unknown).err().expect("unknown scenario");
        assert!(format!("{err:#}").contains("no-such-scenario"), "{err:#}");
    }
}
