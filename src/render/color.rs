//! Terminal colours as pixels: a dark palette for ratatui's named, indexed
//! and RGB colours, and what a cell's style looks like once its modifiers apply.

use ratatui::buffer::Cell;
use ratatui::style::{Color, Modifier};

/// A pixel colour: red, green, blue.
pub type Rgb = [u8; 3];

/// The text colour of a cell with no colour set.
pub const DEFAULT_FG: Rgb = [204, 204, 204];
/// The background of a cell with no colour set.
pub const DEFAULT_BG: Rgb = [30, 30, 30];

/// The sixteen ANSI colours (a dark theme's: VS Code's integrated terminal).
const ANSI: [Rgb; 16] = [
    [0, 0, 0],       // black
    [205, 49, 49],   // red
    [13, 188, 121],  // green
    [229, 229, 16],  // yellow
    [36, 114, 200],  // blue
    [188, 63, 188],  // magenta
    [17, 168, 205],  // cyan
    [229, 229, 229], // gray (white)
    [102, 102, 102], // dark gray (bright black)
    [241, 76, 76],   // light red
    [35, 209, 139],  // light green
    [245, 245, 67],  // light yellow
    [59, 142, 234],  // light blue
    [214, 112, 214], // light magenta
    [41, 184, 219],  // light cyan
    [255, 255, 255], // white (bright white)
];

/// The pixel colour of `color`; `default` for [`Color::Reset`].
///
/// # Examples
///
/// ```
/// use lockscope::render::{DEFAULT_BG, rgb};
/// use ratatui::style::Color;
///
/// assert_eq!(rgb(Color::Red, DEFAULT_BG), [205, 49, 49]);
/// assert_eq!(rgb(Color::Indexed(1), DEFAULT_BG), rgb(Color::Red, DEFAULT_BG));
/// assert_eq!(rgb(Color::Rgb(1, 2, 3), DEFAULT_BG), [1, 2, 3]);
/// assert_eq!(rgb(Color::Reset, DEFAULT_BG), DEFAULT_BG);
/// ```
pub fn rgb(color: Color, default: Rgb) -> Rgb {
    match color {
        Color::Reset => default,
        Color::Black => ANSI[0],
        Color::Red => ANSI[1],
        Color::Green => ANSI[2],
        Color::Yellow => ANSI[3],
        Color::Blue => ANSI[4],
        Color::Magenta => ANSI[5],
        Color::Cyan => ANSI[6],
        Color::Gray => ANSI[7],
        Color::DarkGray => ANSI[8],
        Color::LightRed => ANSI[9],
        Color::LightGreen => ANSI[10],
        Color::LightYellow => ANSI[11],
        Color::LightBlue => ANSI[12],
        Color::LightMagenta => ANSI[13],
        Color::LightCyan => ANSI[14],
        Color::White => ANSI[15],
        Color::Rgb(r, g, b) => [r, g, b],
        Color::Indexed(i) => indexed(i),
    }
}

/// xterm's 256 colours: the ANSI sixteen, a 6×6×6 cube, 24 greys.
fn indexed(i: u8) -> Rgb {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match i {
        0..=15 => ANSI[usize::from(i)],
        16..=231 => {
            let i = usize::from(i - 16);
            [LEVELS[i / 36], LEVELS[i / 6 % 6], LEVELS[i % 6]]
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            [v, v, v]
        }
    }
}

/// `fg` mixed into `bg`: `level` quarters of `fg` (0 is `bg`, 4 is `fg`).
pub(crate) fn mix(fg: Rgb, bg: Rgb, level: u8) -> Rgb {
    let level = u16::from(level.min(4));
    let channel = |f: u8, b: u8| {
        let v = (u16::from(f) * level + u16::from(b) * (4 - level) + 2) / 4;
        u8::try_from(v).unwrap_or(u8::MAX)
    };
    [
        channel(fg[0], bg[0]),
        channel(fg[1], bg[1]),
        channel(fg[2], bg[2]),
    ]
}

/// What a cell looks like: its colours after DIM, REVERSED and HIDDEN, and
/// the modifiers the rasteriser draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Look {
    pub(crate) fg: Rgb,
    pub(crate) bg: Rgb,
    pub(crate) bold: bool,
    pub(crate) underline: bool,
    pub(crate) strike: bool,
}

impl Look {
    /// The look of `cell`.
    pub(crate) fn of(cell: &Cell) -> Look {
        let m = cell.modifier;
        let mut fg = rgb(cell.fg, DEFAULT_FG);
        let mut bg = rgb(cell.bg, DEFAULT_BG);
        if m.contains(Modifier::DIM) {
            fg = mix(fg, bg, 2);
        }
        if m.contains(Modifier::REVERSED) {
            std::mem::swap(&mut fg, &mut bg);
        }
        if m.contains(Modifier::HIDDEN) {
            fg = bg;
        }
        Look {
            fg,
            bg,
            bold: m.contains(Modifier::BOLD),
            underline: m.contains(Modifier::UNDERLINED),
            strike: m.contains(Modifier::CROSSED_OUT),
        }
    }

    /// The five colours the cell's pixels take: background, three mixes, foreground.
    pub(crate) fn ramp(self) -> [Rgb; 5] {
        [0, 1, 2, 3, 4].map(|level| mix(self.fg, self.bg, level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cube_and_the_greys() {
        assert_eq!(indexed(16), [0, 0, 0]);
        assert_eq!(indexed(196), [255, 0, 0]);
        assert_eq!(indexed(231), [255, 255, 255]);
        assert_eq!(indexed(232), [8, 8, 8]);
        assert_eq!(indexed(255), [238, 238, 238]);
    }

    #[test]
    fn mixes_run_from_background_to_foreground() {
        let (fg, bg) = ([200, 100, 0], [0, 0, 40]);
        assert_eq!(mix(fg, bg, 0), bg);
        assert_eq!(mix(fg, bg, 4), fg);
        assert_eq!(mix(fg, bg, 2), [100, 50, 20]);
    }

    #[test]
    fn modifiers_change_the_look() {
        let mut cell = Cell::default();
        cell.fg = Color::Red;
        cell.modifier = Modifier::REVERSED | Modifier::BOLD;
        let look = Look::of(&cell);
        assert_eq!((look.fg, look.bg), (DEFAULT_BG, ANSI[1]));
        assert!(look.bold);
        cell.modifier = Modifier::DIM;
        assert_eq!(Look::of(&cell).fg, mix(ANSI[1], DEFAULT_BG, 2));
    }
}
