//! Screens to an asciicast v2 recording that `asciinema play` replays: a
//! header line, then one output event per screen redrawing the rows that
//! changed, with SGR colours, on the demo's virtual timing.

use std::fmt::Write as _;
use std::io::Write;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};

use super::demo::Film;
use super::raster::symbol_width;

/// Writes `film` as asciicast v2 into `out`; returns the output events written.
///
/// # Errors
///
/// When writing fails.
pub(crate) fn encode(film: &Film, title: &str, out: &mut dyn Write) -> anyhow::Result<usize> {
    // No timestamp: the same demo gives the same file.
    writeln!(
        out,
        "{{\"version\": 2, \"width\": {}, \"height\": {}, \"title\": {}, \"env\": {{\"TERM\": \"xterm-256color\"}}}}",
        film.cols,
        film.rows,
        serde_json::to_string(title)?
    )?;
    let mut events = 0;
    let mut before: Option<&Buffer> = None;
    for shot in &film.shots {
        let mut data = String::new();
        if before.is_none() {
            // Hide the cursor, clear the screen.
            data.push_str("\x1b[?25l\x1b[0m\x1b[2J");
        }
        for y in 0..film.rows {
            let cells = row(&shot.screen, y);
            if before.is_some_and(|b| row(b, y) == cells) {
                continue;
            }
            let _ = write!(data, "\x1b[{};1H", y + 1);
            draw_row(cells, &mut data);
        }
        before = Some(&shot.screen);
        line(out, shot.at_cs, &data)?;
        events += 1;
    }
    // The end: the cursor back, at the bottom; the recording lasts until now.
    let end = format!("\x1b[0m\x1b[{};1H\x1b[?25h", film.rows);
    line(out, film.end_cs, &end)?;
    out.flush()?;
    Ok(events + 1)
}

/// `[1.50, "o", "data"]`: the time in seconds from centiseconds, exactly.
fn line(out: &mut dyn Write, cs: u32, data: &str) -> anyhow::Result<()> {
    let data = serde_json::to_string(data)?;
    writeln!(out, "[{}.{:02}, \"o\", {data}]", cs / 100, cs % 100)?;
    Ok(())
}

fn row(screen: &Buffer, y: u16) -> &[Cell] {
    let w = usize::from(screen.area.width);
    let start = usize::from(y) * w;
    screen.content.get(start..start + w).unwrap_or(&[])
}

/// One row as text and SGR sequences, starting from a reset style.
fn draw_row(cells: &[Cell], out: &mut String) {
    let mut style: Option<String> = None;
    let mut x = 0;
    while let Some(cell) = cells.get(x) {
        let sgr = sgr(cell);
        if style.as_ref() != Some(&sgr) {
            let _ = write!(out, "\x1b[{sgr}m");
            style = Some(sgr);
        }
        let symbol = cell.symbol();
        // The widgets sanitise names; a cell still never carries a control character.
        if symbol.chars().any(char::is_control) {
            out.push('?');
        } else {
            out.push_str(symbol);
        }
        x += symbol_width(symbol);
    }
    out.push_str("\x1b[0m");
}

/// The SGR parameters for a cell: reset, then its modifiers and colours.
fn sgr(cell: &Cell) -> String {
    let mut p = String::from("0");
    for (m, code) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::SLOW_BLINK, "5"),
        (Modifier::REVERSED, "7"),
        (Modifier::HIDDEN, "8"),
        (Modifier::CROSSED_OUT, "9"),
    ] {
        if cell.modifier.contains(m) {
            p.push(';');
            p.push_str(code);
        }
    }
    color(&mut p, cell.fg, 30);
    color(&mut p, cell.bg, 40);
    p
}

/// Appends the SGR for `c` as a foreground (`base` 30) or background (40).
fn color(p: &mut String, c: Color, base: u8) {
    let named = |i: u8| if i < 8 { base + i } else { base + 60 + i - 8 };
    let code = match c {
        Color::Reset => return,
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => named(8),
        Color::LightRed => named(9),
        Color::LightGreen => named(10),
        Color::LightYellow => named(11),
        Color::LightBlue => named(12),
        Color::LightMagenta => named(13),
        Color::LightCyan => named(14),
        Color::White => named(15),
        Color::Indexed(i) => {
            let _ = write!(p, ";{};5;{i}", base + 8);
            return;
        }
        Color::Rgb(r, g, b) => {
            let _ = write!(p, ";{};2;{r};{g};{b}", base + 8);
            return;
        }
    };
    let _ = write!(p, ";{code}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn rows_carry_their_colours_and_wide_characters_once() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 5, 1));
        buf.set_string(
            0,
            0,
            "a锁b",
            Style::new().fg(Color::Red).bg(Color::Indexed(17)),
        );
        buf[(3, 0)]
            .set_symbol("\u{1b}")
            .set_style(Style::reset().add_modifier(Modifier::BOLD));
        let mut out = String::new();
        draw_row(row(&buf, 0), &mut out);
        assert_eq!(out, "\x1b[0;31;48;5;17ma锁\x1b[0;1m?\x1b[0m \x1b[0m");
    }

    #[test]
    fn colours_use_the_16_256_and_rgb_forms() {
        let mut cell = Cell::default();
        cell.fg = Color::LightCyan;
        cell.bg = Color::Rgb(1, 2, 3);
        assert_eq!(sgr(&cell), "0;96;48;2;1;2;3");
        cell.fg = Color::DarkGray;
        cell.bg = Color::Reset;
        assert_eq!(sgr(&cell), "0;90");
    }
}
