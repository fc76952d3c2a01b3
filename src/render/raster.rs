//! Screens to pixels: each cell's background, then its glyph's coverage in
//! the cell's colours, as palette indices.

use std::collections::{BTreeMap, HashMap};

use ratatui::buffer::Buffer;
use ratatui::text::Span;

use super::color::{Look, Rgb};
use super::glyphs::{Glyphs, Mask};

/// The GIF palette: every colour the screens use, or the 256 most used.
#[derive(Clone, Debug)]
pub(crate) struct Palette {
    /// The colours, by index.
    pub(crate) colors: Vec<Rgb>,
    /// For each look, the indices of its five shades (background to foreground).
    ramps: HashMap<Look, [u8; 5]>,
}

impl Palette {
    /// A palette for cells of these looks, each with how many cells use it.
    pub(crate) fn new(looks: &BTreeMap<Look, u64>) -> Palette {
        let mut uses: BTreeMap<Rgb, u64> = BTreeMap::new();
        for (look, n) in looks {
            for c in look.ramp() {
                *uses.entry(c).or_default() += n;
            }
        }
        let mut colors: Vec<Rgb> = uses.keys().copied().collect();
        if colors.len() > 256 {
            // Rare (many RGB colours): keep the most used, map the rest to the nearest.
            let mut by_use: Vec<(u64, Rgb)> = uses.iter().map(|(&c, &n)| (n, c)).collect();
            by_use.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            colors = by_use.iter().take(256).map(|&(_, c)| c).collect();
            colors.sort_unstable();
        }
        let index = |c: Rgb| -> u8 {
            let best = match colors.binary_search(&c) {
                Ok(i) => i,
                Err(_) => nearest(&colors, c),
            };
            u8::try_from(best).unwrap_or(u8::MAX)
        };
        let ramps = looks
            .keys()
            .map(|&look| (look, look.ramp().map(index)))
            .collect();
        Palette { colors, ramps }
    }

    /// The indices of a look's five shades (the first colour's if unknown).
    fn ramp(&self, look: Look) -> [u8; 5] {
        self.ramps.get(&look).copied().unwrap_or([0; 5])
    }

    /// The index of the closest colour to `c`.
    #[cfg(test)]
    pub(crate) fn index_of(&self, c: Rgb) -> u8 {
        u8::try_from(nearest(&self.colors, c)).unwrap_or(u8::MAX)
    }
}

/// The position of the colour closest to `c` (squared RGB distance, first wins).
fn nearest(colors: &[Rgb], c: Rgb) -> usize {
    let dist = |o: &Rgb| -> u32 {
        (0..3)
            .map(|i| (i32::from(o[i]) - i32::from(c[i])).unsigned_abs().pow(2))
            .sum()
    };
    colors
        .iter()
        .enumerate()
        .min_by_key(|(i, o)| (dist(o), *i))
        .map_or(0, |(i, _)| i)
}

/// The looks of every cell of `screen`, counted into `looks`.
pub(crate) fn count_looks(screen: &Buffer, looks: &mut BTreeMap<Look, u64>) {
    for cell in &screen.content {
        *looks.entry(Look::of(cell)).or_default() += 1;
    }
}

/// How many cells a symbol takes (1 or 2), as ratatui measures it.
pub(crate) fn symbol_width(symbol: &str) -> usize {
    Span::raw(symbol).width().clamp(1, 2)
}

/// Draws screens of `cols` × `rows` cells into indexed pixels.
pub(crate) struct Raster {
    glyphs: Glyphs,
    cols: usize,
    /// The image's size in pixels.
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl Raster {
    /// A rasteriser for screens of `cols` × `rows` cells.
    ///
    /// # Errors
    ///
    /// When the embedded fonts cannot be loaded.
    pub(crate) fn new(cols: u16, rows: u16) -> anyhow::Result<Raster> {
        let glyphs = Glyphs::new()?;
        Ok(Raster {
            width: usize::from(cols) * glyphs.cell_w,
            height: usize::from(rows) * glyphs.cell_h,
            cols: usize::from(cols),
            glyphs,
        })
    }

    /// The size of a cell in pixels.
    pub(crate) fn cell_size(&self) -> (usize, usize) {
        (self.glyphs.cell_w, self.glyphs.cell_h)
    }

    /// Draws row `y` of `screen` into `canvas` (`width` × `height` indices).
    pub(crate) fn draw_row(
        &mut self,
        screen: &Buffer,
        y: u16,
        palette: &Palette,
        canvas: &mut [u8],
    ) {
        let (cw, ch) = self.cell_size();
        let top = usize::from(y) * ch;
        let mut x = 0;
        while x < self.cols {
            let Some(cell) = screen.cell((u16::try_from(x).unwrap_or(u16::MAX), y)) else {
                break;
            };
            let span = symbol_width(cell.symbol()).min(self.cols - x);
            let look = Look::of(cell);
            let ramp = palette.ramp(look);
            let mask = self.glyphs.mask(cell.symbol(), look.bold, span);
            paint(canvas, self.width, x * cw, top, mask, ramp);
            let line = |canvas: &mut [u8], row: usize| {
                let start = (top + row.min(ch - 1)) * self.width + x * cw;
                canvas[start..start + span * cw].fill(ramp[4]);
            };
            if look.underline {
                line(canvas, ch - 3);
            }
            if look.strike {
                line(canvas, ch / 2);
            }
            x += span;
        }
    }
}

/// Paints `mask` at (`left`, `top`) in the shades `ramp`, background included.
fn paint(canvas: &mut [u8], width: usize, left: usize, top: usize, mask: &Mask, ramp: [u8; 5]) {
    for (my, row) in mask.px.chunks_exact(mask.w).enumerate() {
        let start = (top + my) * width + left;
        let Some(out) = canvas.get_mut(start..start + mask.w) else {
            return;
        };
        for (o, &level) in out.iter_mut().zip(row) {
            *o = ramp[usize::from(level.min(4))];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

    use crate::render::color::{DEFAULT_BG, rgb};

    fn screen() -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 2));
        buf.set_string(0, 0, "┌─锁─┐", Style::new().fg(Color::Red));
        buf.set_string(0, 1, "█▒ ab", Style::new().fg(Color::Green).bg(Color::Blue));
        buf
    }

    fn draw(buf: &Buffer) -> (Raster, Palette, Vec<u8>) {
        let mut looks = BTreeMap::new();
        count_looks(buf, &mut looks);
        let palette = Palette::new(&looks);
        let mut raster = Raster::new(buf.area.width, buf.area.height).expect("fonts");
        let mut canvas = vec![0; raster.width * raster.height];
        for y in 0..buf.area.height {
            raster.draw_row(buf, y, &palette, &mut canvas);
        }
        (raster, palette, canvas)
    }

    #[test]
    fn cells_take_their_colours_and_wide_characters_two_cells() {
        let buf = screen();
        let (raster, palette, canvas) = draw(&buf);
        let (cw, ch) = raster.cell_size();
        assert_eq!((raster.width, raster.height), (6 * cw, 2 * ch));
        let color = |x: usize, y: usize| palette.colors[usize::from(canvas[y * raster.width + x])];
        let red = rgb(Color::Red, DEFAULT_BG);
        // The horizontal line runs unbroken from the corner through the next cell.
        let line_y = (0..ch).find(|&y| color(cw - 1, y) == red).expect("a line");
        assert!((cw / 2..2 * cw).all(|x| color(x, line_y) == red));
        // After the wide character (cells 2-3), the line goes on in cell 4.
        assert_eq!(color(4 * cw, line_y), red);
        // A full block is solid green; the shade is a mix of green and blue.
        assert_eq!(color(cw / 2, ch + ch / 2), rgb(Color::Green, DEFAULT_BG));
        let shade = color(cw + cw / 2, ch + ch / 2);
        assert_ne!(shade, rgb(Color::Green, DEFAULT_BG));
        assert_ne!(shade, rgb(Color::Blue, DEFAULT_BG));
    }

    #[test]
    fn a_palette_never_exceeds_256_colours() {
        let mut looks = BTreeMap::new();
        for i in 0..200u8 {
            let mut cell = ratatui::buffer::Cell::default();
            cell.fg = Color::Rgb(i, 255 - i, i / 2);
            *looks.entry(Look::of(&cell)).or_default() += u64::from(i);
        }
        let palette = Palette::new(&looks);
        assert_eq!(palette.colors.len(), 256);
        assert_eq!(
            palette.colors[usize::from(palette.index_of([30, 30, 30]))],
            [30, 30, 30]
        );
    }
}
