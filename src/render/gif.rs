//! Screens to an animated GIF: one global palette built exactly from the
//! cells' colours, and per frame only the rectangle that changed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use gif::{DisposalMethod, Encoder, Frame, Repeat};
use ratatui::buffer::Buffer;

use super::demo::Film;
use super::raster::{Palette, Raster, count_looks};

/// What the encoder wrote.
pub(crate) struct Encoded {
    /// GIF frames written (unchanged screens merge into the frame before).
    pub(crate) frames: usize,
    /// The image's size in pixels.
    pub(crate) width: usize,
    pub(crate) height: usize,
}

/// Encodes `film` as a looping GIF into `out`.
///
/// # Errors
///
/// When the fonts cannot be loaded, the image is too large for a GIF, or
/// writing fails.
pub(crate) fn encode(film: &Film, out: &mut dyn Write) -> anyhow::Result<Encoded> {
    let mut raster = Raster::new(film.cols, film.rows)?;
    let (w, h) = (raster.width, raster.height);
    let (gw, gh) = (u16::try_from(w)?, u16::try_from(h)?);
    let mut looks = BTreeMap::new();
    for shot in &film.shots {
        count_looks(&shot.screen, &mut looks);
    }
    let palette = Palette::new(&looks);
    let mut flat: Vec<u8> = palette.colors.iter().flatten().copied().collect();
    // One more entry, never drawn, for the pixels a frame leaves as they were.
    let transparent = u8::try_from(palette.colors.len()).ok();
    if transparent.is_some() {
        flat.extend([0, 0, 0]);
    }
    let mut encoder = Encoder::new(out, gw, gh, &flat)?;
    encoder.set_repeat(Repeat::Infinite)?;
    let (_, ch) = raster.cell_size();
    let cols = usize::from(film.cols);
    // What the viewer sees, and the next screen drawn over it.
    let mut shown = vec![0u8; w * h];
    let mut canvas = vec![0u8; w * h];
    let mut pending: Option<Frame<'static>> = None;
    let mut frames = 0;
    for (i, shot) in film.shots.iter().enumerate() {
        let end = film.shots.get(i + 1).map_or(film.end_cs, |next| next.at_cs);
        let delay = u16::try_from(end.saturating_sub(shot.at_cs)).unwrap_or(u16::MAX);
        let before = i.checked_sub(1).map(|p| &film.shots[p].screen);
        for y in 0..film.rows {
            if before.is_none_or(|b| row(b, y, cols) != row(&shot.screen, y, cols)) {
                raster.draw_row(&shot.screen, y, &palette, &mut canvas);
            }
        }
        let dirty = if i == 0 {
            // The first frame is the whole image.
            Some((0, 0, w, h))
        } else {
            changed(&shown, &canvas, w, ch)
        };
        let Some((x0, y0, x1, y1)) = dirty else {
            // Nothing visible changed: the frame before lasts longer.
            if let Some(p) = pending.as_mut() {
                p.delay = p.delay.saturating_add(delay);
            }
            continue;
        };
        let mut buffer = Vec::with_capacity((x1 - x0) * (y1 - y0));
        for y in y0..y1 {
            let (old, new) = (
                &shown[y * w + x0..y * w + x1],
                &canvas[y * w + x0..y * w + x1],
            );
            match transparent.filter(|_| i > 0) {
                Some(t) => buffer.extend(
                    old.iter()
                        .zip(new)
                        .map(|(o, n)| if o == n { t } else { *n }),
                ),
                None => buffer.extend_from_slice(new),
            }
        }
        for y in y0..y1 {
            shown[y * w + x0..y * w + x1].copy_from_slice(&canvas[y * w + x0..y * w + x1]);
        }
        let frame = Frame {
            delay,
            dispose: DisposalMethod::Keep,
            transparent: transparent.filter(|_| i > 0),
            left: u16::try_from(x0)?,
            top: u16::try_from(y0)?,
            width: u16::try_from(x1 - x0)?,
            height: u16::try_from(y1 - y0)?,
            buffer: Cow::Owned(buffer),
            ..Frame::default()
        };
        if let Some(p) = pending.replace(frame) {
            encoder.write_frame(&p)?;
            frames += 1;
        }
    }
    if let Some(p) = pending {
        encoder.write_frame(&p)?;
        frames += 1;
    }
    encoder.into_inner()?;
    Ok(Encoded {
        frames,
        width: w,
        height: h,
    })
}

/// Row `y` of a screen `cols` wide.
fn row(screen: &Buffer, y: u16, cols: usize) -> &[ratatui::buffer::Cell] {
    let start = usize::from(y) * cols;
    screen.content.get(start..start + cols).unwrap_or(&[])
}

/// The smallest rectangle `(x0, y0, x1, y1)` holding every pixel that differs,
/// looking only at bands of `band` rows (cell rows) that differ at all.
fn changed(old: &[u8], new: &[u8], w: usize, band: usize) -> Option<(usize, usize, usize, usize)> {
    let mut dirty: Option<(usize, usize, usize, usize)> = None;
    for (b, (o, n)) in old.chunks(w * band).zip(new.chunks(w * band)).enumerate() {
        if o == n {
            continue;
        }
        for (r, (o, n)) in o.chunks_exact(w).zip(n.chunks_exact(w)).enumerate() {
            let Some(x0) = o.iter().zip(n).position(|(a, b)| a != b) else {
                continue;
            };
            let x1 = w - o
                .iter()
                .rev()
                .zip(n.iter().rev())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let y = b * band + r;
            dirty = Some(match dirty {
                None => (x0, y, x1, y + 1),
                Some((a, top, c, _)) => (a.min(x0), top, c.max(x1), y + 1),
            });
        }
    }
    dirty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_changed_rectangle_is_tight() {
        let w = 8;
        let old = vec![0u8; w * 6];
        let mut new = old.clone();
        assert_eq!(changed(&old, &new, w, 2), None);
        new[w + 3] = 1;
        new[4 * w + 5] = 1;
        assert_eq!(changed(&old, &new, w, 2), Some((3, 1, 6, 5)));
    }
}
