//! Cell-sized coverage masks: text glyphs from the vendored DejaVu Sans Mono,
//! box drawing and block elements drawn by [`boxdraw`](super::boxdraw).
//!
//! Coverage is quantised to five levels (none, three quarters steps, full), so
//! a glyph's pixels take one of five colours per cell style: an exact GIF
//! palette stays small, and tiny float differences between machines cannot
//! change a pixel.

use std::collections::HashMap;

use fontdue::{Font, FontSettings};

use super::boxdraw;

/// DejaVu Sans Mono (see `assets/fonts/LICENSE.txt`).
const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
/// DejaVu Sans Mono Bold.
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono-Bold.ttf");

/// The font size, in pixels per em: cells of 9 × 18 pixels.
pub(crate) const FONT_PX: f32 = 15.0;

/// The highest coverage level (full).
pub(crate) const FULL: u8 = 4;

/// A cell's (or a wide character's two cells') coverage, one level per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mask {
    pub(crate) w: usize,
    pub(crate) h: usize,
    /// Row-major levels, 0 to [`FULL`].
    pub(crate) px: Vec<u8>,
}

impl Mask {
    pub(crate) fn new(w: usize, h: usize) -> Mask {
        Mask {
            w,
            h,
            px: vec![0; w * h],
        }
    }

    /// Sets the pixels of the rectangle `x0..x1` × `y0..y1` (clipped) to at least `level`.
    pub(crate) fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, level: u8) {
        let clamp = |v: i64, hi: usize| usize::try_from(v.max(0)).unwrap_or(0).min(hi);
        let (x0, x1) = (clamp(x0, self.w), clamp(x1, self.w));
        let (y0, y1) = (clamp(y0, self.h), clamp(y1, self.h));
        for y in y0..y1 {
            for p in &mut self.px[y * self.w + x0..y * self.w + x1] {
                *p = (*p).max(level);
            }
        }
    }

    /// Raises each pixel to `shape`'s coverage there, sampled 4 × 4 per pixel.
    pub(crate) fn shape(&mut self, inside: impl Fn(f32, f32) -> bool) {
        for y in 0..self.h {
            for x in 0..self.w {
                let mut hits = 0u32;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let fx = x as f32 + (sx as f32 + 0.5) / 4.0;
                        let fy = y as f32 + (sy as f32 + 0.5) / 4.0;
                        hits += u32::from(inside(fx, fy));
                    }
                }
                let level = u8::try_from((hits + 2) / 4).unwrap_or(FULL);
                let p = &mut self.px[y * self.w + x];
                *p = (*p).max(level);
            }
        }
    }
}

/// The two fonts, the cell size they give, and the masks made so far.
pub(crate) struct Glyphs {
    regular: Font,
    bold: Font,
    /// Cell width and height, in pixels.
    pub(crate) cell_w: usize,
    pub(crate) cell_h: usize,
    /// The baseline, in pixels from the top of the cell.
    baseline: i64,
    /// Every mask made so far, each on first use.
    masks: Vec<Mask>,
    /// Where a symbol's masks are in `masks`: `[regular, bold]`.
    index: HashMap<String, [Option<usize>; 2]>,
}

impl Glyphs {
    /// Loads the vendored fonts.
    ///
    /// # Errors
    ///
    /// Only if an embedded font cannot be parsed (a build problem).
    pub(crate) fn new() -> anyhow::Result<Glyphs> {
        let settings = FontSettings {
            scale: FONT_PX,
            ..FontSettings::default()
        };
        let load = |bytes| Font::from_bytes(bytes, settings).map_err(anyhow::Error::msg);
        let regular = load(REGULAR)?;
        let bold = load(BOLD)?;
        let lines = regular
            .horizontal_line_metrics(FONT_PX)
            .ok_or_else(|| anyhow::anyhow!("the embedded font has no horizontal metrics"))?;
        let advance = regular.metrics('M', FONT_PX).advance_width;
        Ok(Glyphs {
            regular,
            bold,
            cell_w: (advance.round() as usize).max(1),
            cell_h: ((lines.ascent - lines.descent).ceil() as usize).max(1),
            baseline: lines.ascent.round() as i64,
            masks: Vec::new(),
            index: HashMap::new(),
        })
    }

    /// The mask of `symbol` over `cells` cells (2 for a wide character).
    pub(crate) fn mask(&mut self, symbol: &str, bold: bool, cells: usize) -> &Mask {
        let slot = usize::from(bold);
        let at = match self.index.get(symbol).and_then(|m| m[slot]) {
            Some(at) => at,
            None => {
                let mask = self.make(symbol, bold, cells);
                self.masks.push(mask);
                let at = self.masks.len() - 1;
                self.index.entry(symbol.to_owned()).or_default()[slot] = Some(at);
                at
            }
        };
        &self.masks[at]
    }

    fn make(&self, symbol: &str, bold: bool, cells: usize) -> Mask {
        let (w, h) = (self.cell_w * cells.max(1), self.cell_h);
        let mut chars = symbol.chars();
        let first = chars.next().unwrap_or(' ');
        if let Some(mask) = boxdraw::draw(first, w, h) {
            return mask;
        }
        let mut mask = Mask::new(w, h);
        if symbol.chars().all(char::is_whitespace) {
            return mask;
        }
        let font = if bold { &self.bold } else { &self.regular };
        if font.lookup_glyph_index(first) == 0 {
            tofu(&mut mask);
            return mask;
        }
        // Combining marks draw over their base character.
        for c in symbol.chars().filter(|&c| font.lookup_glyph_index(c) != 0) {
            self.draw_char(font, c, &mut mask);
        }
        mask
    }

    fn draw_char(&self, font: &Font, c: char, mask: &mut Mask) {
        let (m, coverage) = font.rasterize(c, FONT_PX);
        let left = ((mask.w as f32 - m.advance_width) / 2.0).round() as i64 + i64::from(m.xmin);
        let top = self.baseline - i64::from(m.ymin) - m.height as i64;
        for gy in 0..m.height {
            for gx in 0..m.width {
                let (x, y) = (left + gx as i64, top + gy as i64);
                let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) else {
                    continue;
                };
                if x >= mask.w || y >= mask.h {
                    continue;
                }
                let level = (u16::from(coverage[gy * m.width + gx]) * 4 + 127) / 255;
                let p = &mut mask.px[y * mask.w + x];
                *p = (*p).max(u8::try_from(level).unwrap_or(FULL));
            }
        }
    }
}

/// The hollow box terminals draw for a character their font lacks.
fn tofu(mask: &mut Mask) {
    let (w, h) = (mask.w as i64, mask.h as i64);
    let (x0, x1, y0, y1) = (1, w - 1, h / 5, h - h / 5);
    mask.fill(x0, y0, x1, y0 + 1, FULL);
    mask.fill(x0, y1 - 1, x1, y1, FULL);
    mask.fill(x0, y0, x0 + 1, y1, FULL);
    mask.fill(x1 - 1, y0, x1, y1, FULL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_nine_by_eighteen() {
        let g = Glyphs::new().expect("fonts load");
        assert_eq!((g.cell_w, g.cell_h), (9, 18));
    }

    #[test]
    fn letters_have_ink_and_spaces_none() {
        let mut g = Glyphs::new().expect("fonts load");
        let a = g.mask("A", false, 1).clone();
        assert!(a.px.contains(&FULL));
        let bold = g.mask("A", true, 1).clone();
        let ink = |m: &Mask| m.px.iter().map(|&p| u32::from(p)).sum::<u32>();
        assert!(ink(&bold) > ink(&a), "bold is heavier");
        assert!(g.mask(" ", false, 1).px.iter().all(|&p| p == 0));
    }

    #[test]
    fn missing_characters_get_a_box_across_their_cells() {
        let mut g = Glyphs::new().expect("fonts load");
        let m = g.mask("锁", false, 2).clone();
        assert_eq!(m.w, 18);
        assert_eq!(m.px[(m.h / 2) * m.w + 1], FULL, "left edge of the box");
        assert_eq!(m.px[(m.h / 2) * m.w + m.w - 2], FULL, "right edge");
    }
}
