//! Demos: lockscope's own TUI rendered off-screen into an animated GIF or an
//! asciicast, with no outside tool and the same bytes on every machine.
//!
//! A scenario runs in the pure simulator on a virtual clock (each thread's
//! `sleep` and `work` steps time its lock operations); its events play into
//! the real [`App`](crate::tui::App), which [`draw`](crate::tui::draw) renders
//! into ratatui's `TestBackend` — the same widgets as the live screen. A short
//! tour presses keys through the same key map, with a caption for each. For a
//! GIF, each cell is rasterised with the vendored DejaVu Sans Mono (box drawing
//! and block elements are drawn as shapes, so they join), the colours form one
//! exact palette, and each frame stores only what changed.
//!
//! Nothing reads a clock, spawns a thread or depends on a hash order, and the
//! glyph rasteriser runs without SIMD with its coverage quantised: the same
//! options give a byte-identical file.

mod boxdraw;
mod cast;
mod color;
mod demo;
mod gif;
mod glyphs;
mod raster;
mod script;

use std::io::{self, Write};

pub use color::{DEFAULT_BG, DEFAULT_FG, Rgb, rgb};

/// The command that regenerates the repository's `demo.gif` (its options are
/// [`DemoOptions::default`]).
pub const DEMO_GIF_COMMAND: &str = "cargo run --release -- demo --gif demo.gif";

/// The demo's full length in seconds: the run, the deadlock, the tour of keys.
pub const DEFAULT_SECONDS: f64 = 21.5;

/// What to render.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    /// A built-in scenario's name or a scenario file's path.
    pub scenario: String,
    /// The screen's width in cells (60 to 400).
    pub cols: u16,
    /// The screen's height in cells (15 to 150).
    pub rows: u16,
    /// The demo's length in seconds (at most 600); a shorter demo cuts the
    /// tour short, a longer one holds the last screen.
    pub seconds: f64,
    /// Colours (`false` draws what `NO_COLOR` shows).
    pub color: bool,
}

impl Default for DemoOptions {
    /// The repository's `demo.gif`: philosophers, 100×30, the full tour, in colour.
    fn default() -> Self {
        DemoOptions {
            scenario: crate::scenario::DEFAULT_SCENARIO.to_owned(),
            cols: 100,
            rows: 30,
            seconds: DEFAULT_SECONDS,
            color: true,
        }
    }
}

/// What a render produced.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoStats {
    /// GIF frames, or asciicast output events.
    pub frames: usize,
    /// The image's width in pixels (GIF), or the screen's in cells (asciicast).
    pub width: u32,
    /// The image's height in pixels (GIF), or the screen's in cells (asciicast).
    pub height: u32,
    /// A cell's width in pixels (GIF), or 1 (asciicast).
    pub cell_width: u32,
    /// A cell's height in pixels (GIF), or 1 (asciicast).
    pub cell_height: u32,
    /// The length in seconds.
    pub seconds: f64,
    /// Bytes written.
    pub bytes: u64,
    /// Lock events played into the screen.
    pub events: usize,
    /// Whether the demo shows a deadlock.
    pub deadlock: bool,
}

/// Renders the demo as a looping animated GIF into `out`.
///
/// # Errors
///
/// An unknown scenario or a bad scenario file, a size or length out of range
/// (see [`DemoOptions`]), or a failed write.
///
/// # Examples
///
/// ```
/// use lockscope::render::{DemoOptions, render_gif};
///
/// let opts = DemoOptions { scenario: "abba".into(), cols: 60, rows: 15, seconds: 2.0, color: true };
/// let mut gif = Vec::new();
/// let stats = render_gif(&opts, &mut gif)?;
/// assert!(gif.starts_with(b"GIF89a"));
/// assert_eq!(stats.width, 60 * stats.cell_width);
/// assert!(stats.deadlock);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn render_gif(opts: &DemoOptions, out: &mut dyn Write) -> anyhow::Result<DemoStats> {
    let film = demo::film(opts)?;
    let mut out = Counting {
        inner: out,
        bytes: 0,
    };
    let encoded = gif::encode(&film, &mut out)?;
    let cell = |px: usize, cells: u16| u32::try_from(px / usize::from(cells).max(1));
    Ok(DemoStats {
        frames: encoded.frames,
        width: u32::try_from(encoded.width)?,
        height: u32::try_from(encoded.height)?,
        cell_width: cell(encoded.width, film.cols)?,
        cell_height: cell(encoded.height, film.rows)?,
        seconds: f64::from(film.end_cs) / 100.0,
        bytes: out.bytes,
        events: film.events,
        deadlock: film.deadlock,
    })
}

/// Renders the demo as an asciicast v2 recording into `out`.
///
/// # Errors
///
/// As [`render_gif`].
///
/// # Examples
///
/// ```
/// use lockscope::render::{DemoOptions, render_cast};
///
/// let opts = DemoOptions { scenario: "abba".into(), cols: 60, rows: 15, seconds: 2.0, color: true };
/// let mut cast = Vec::new();
/// render_cast(&opts, &mut cast)?;
/// let header = String::from_utf8(cast)?.lines().next().unwrap_or_default().to_owned();
/// assert!(header.starts_with(r#"{"version": 2, "width": 60, "height": 15"#));
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn render_cast(opts: &DemoOptions, out: &mut dyn Write) -> anyhow::Result<DemoStats> {
    let film = demo::film(opts)?;
    let mut out = Counting {
        inner: out,
        bytes: 0,
    };
    let title = format!("lockscope demo: {}", crate::model::sanitize(&opts.scenario));
    let frames = cast::encode(&film, &title, &mut out)?;
    Ok(DemoStats {
        frames,
        width: u32::from(film.cols),
        height: u32::from(film.rows),
        cell_width: 1,
        cell_height: 1,
        seconds: f64::from(film.end_cs) / 100.0,
        bytes: out.bytes,
        events: film.events,
        deadlock: film.deadlock,
    })
}

/// A writer that counts the bytes through it.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_length_is_the_whole_tour() {
        assert_eq!(
            (DEFAULT_SECONDS * 100.0).round() as u32,
            demo::full_length_cs()
        );
    }
}
