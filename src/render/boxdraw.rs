//! Box drawing (U+2500–U+257F) and block elements (U+2580–U+259F), drawn as
//! shapes that fill their cell to its edges, so neighbouring cells join with
//! no gap — a font's glyphs for these rarely line up at every size.

use super::glyphs::{FULL, Mask};

/// Line weights, one hex digit per arm: up, right, down, left; 1 light,
/// 2 heavy, 3 double. `0xD…` are dashed lines (`0xD` + dashes + weight + axis:
/// 0 horizontal, 1 vertical), `0xA…` arcs, `0xF…` diagonals.
#[rustfmt::skip]
const LINES: [u16; 0x80] = [
    // 2500 ─ ━ │ ┃ ┄ ┅ ┆ ┇ ┈ ┉ ┊ ┋ ┌ ┍ ┎ ┏
    0x0101, 0x0202, 0x1010, 0x2020, 0xD310, 0xD320, 0xD311, 0xD321,
    0xD410, 0xD420, 0xD411, 0xD421, 0x0110, 0x0210, 0x0120, 0x0220,
    // 2510 ┐ ┑ ┒ ┓ └ ┕ ┖ ┗ ┘ ┙ ┚ ┛ ├ ┝ ┞ ┟
    0x0011, 0x0012, 0x0021, 0x0022, 0x1100, 0x1200, 0x2100, 0x2200,
    0x1001, 0x1002, 0x2001, 0x2002, 0x1110, 0x1210, 0x2110, 0x1120,
    // 2520 ┠ ┡ ┢ ┣ ┤ ┥ ┦ ┧ ┨ ┩ ┪ ┫ ┬ ┭ ┮ ┯
    0x2120, 0x2210, 0x1220, 0x2220, 0x1011, 0x1012, 0x2011, 0x1021,
    0x2021, 0x2012, 0x1022, 0x2022, 0x0111, 0x0112, 0x0211, 0x0212,
    // 2530 ┰ ┱ ┲ ┳ ┴ ┵ ┶ ┷ ┸ ┹ ┺ ┻ ┼ ┽ ┾ ┿
    0x0121, 0x0122, 0x0221, 0x0222, 0x1101, 0x1102, 0x1201, 0x1202,
    0x2101, 0x2102, 0x2201, 0x2202, 0x1111, 0x1112, 0x1211, 0x1212,
    // 2540 ╀ ╁ ╂ ╃ ╄ ╅ ╆ ╇ ╈ ╉ ╊ ╋ ╌ ╍ ╎ ╏
    0x2111, 0x1121, 0x2121, 0x2112, 0x2211, 0x1122, 0x1221, 0x2212,
    0x1222, 0x2122, 0x2221, 0x2222, 0xD210, 0xD220, 0xD211, 0xD221,
    // 2550 ═ ║ ╒ ╓ ╔ ╕ ╖ ╗ ╘ ╙ ╚ ╛ ╜ ╝ ╞ ╟
    0x0303, 0x3030, 0x0310, 0x0130, 0x0330, 0x0013, 0x0031, 0x0033,
    0x1300, 0x3100, 0x3300, 0x1003, 0x3001, 0x3003, 0x1310, 0x3130,
    // 2560 ╠ ╡ ╢ ╣ ╤ ╥ ╦ ╧ ╨ ╩ ╪ ╫ ╬ ╭ ╮ ╯
    0x3330, 0x1013, 0x3031, 0x3033, 0x0313, 0x0131, 0x0333, 0x1303,
    0x3101, 0x3303, 0x1313, 0x3131, 0x3333, 0xA011, 0xA012, 0xA013,
    // 2570 ╰ ╱ ╲ ╳ ╴ ╵ ╶ ╷ ╸ ╹ ╺ ╻ ╼ ╽ ╾ ╿
    0xA014, 0xF001, 0xF002, 0xF003, 0x0001, 0x1000, 0x0100, 0x0010,
    0x0002, 0x2000, 0x0200, 0x0020, 0x0201, 0x1020, 0x0102, 0x2010,
];

/// The mask of `c` in a `w` × `h` cell, or `None` if `c` is not drawn here.
pub(crate) fn draw(c: char, w: usize, h: usize) -> Option<Mask> {
    let code = u32::from(c);
    let mut mask = Mask::new(w, h);
    match code {
        0x2500..=0x257F => {
            let spec = LINES[usize::try_from(code - 0x2500).ok()?];
            match spec >> 12 {
                0xD => dashed(&mut mask, spec),
                0xA => arc(&mut mask, spec & 0xF),
                0xF => diagonal(&mut mask, spec & 0xF),
                _ => lines(&mut mask, spec),
            }
        }
        0x2580..=0x259F => block(&mut mask, code),
        _ => return None,
    }
    Some(mask)
}

/// Line thickness for a weight (1 light, 2 heavy), in pixels.
fn thickness(w: usize, weight: u16) -> i64 {
    let light = (w as i64 / 8).max(1);
    if weight == 2 { light * 2 + 1 } else { light }
}

/// The first pixel of a line of thickness `t` centred across `len` pixels.
/// Every cell of a row (or column) gets the same offset, so lines join.
fn centred(len: usize, t: i64) -> i64 {
    (len as i64 - t) / 2
}

/// Straight arms from the centre to the edges.
fn lines(mask: &mut Mask, spec: u16) {
    let (w, h) = (mask.w as i64, mask.h as i64);
    let arm = |shift: u16| (spec >> shift) & 0xF;
    let (up, right, down, left) = (arm(12), arm(8), arm(4), arm(0));
    // Horizontal arms reach across the vertical ones' width and back, so corners close.
    let vt = thickness(mask.w, up.max(down).min(2));
    let ht = thickness(mask.w, left.max(right).min(2));
    let (cx, cy) = (centred(mask.w, vt), centred(mask.h, ht));
    let gap = thickness(mask.w, 1) + 1;
    let light = thickness(mask.w, 1);
    let horizontal = |mask: &mut Mask, weight: u16, x0: i64, x1: i64| {
        if weight == 3 {
            let y = centred(mask.h, light);
            mask.fill(x0, y - gap, x1, y - gap + light, FULL);
            mask.fill(x0, y + gap, x1, y + gap + light, FULL);
        } else {
            let t = thickness(mask.w, weight);
            let y = centred(mask.h, t);
            mask.fill(x0, y, x1, y + t, FULL);
        }
    };
    let vertical = |mask: &mut Mask, weight: u16, y0: i64, y1: i64| {
        if weight == 3 {
            let x = centred(mask.w, light);
            mask.fill(x - gap, y0, x - gap + light, y1, FULL);
            mask.fill(x + gap, y0, x + gap + light, y1, FULL);
        } else {
            let t = thickness(mask.w, weight);
            let x = centred(mask.w, t);
            mask.fill(x, y0, x + t, y1, FULL);
        }
    };
    // Double arms meet the perpendicular pair's outer line.
    let hx = if up == 3 || down == 3 { gap } else { 0 };
    let vy = if left == 3 || right == 3 { gap } else { 0 };
    if left > 0 {
        horizontal(mask, left, 0, cx + vt + hx);
    }
    if right > 0 {
        horizontal(mask, right, cx - hx, w);
    }
    if up > 0 {
        vertical(mask, up, 0, cy + ht + vy);
    }
    if down > 0 {
        vertical(mask, down, cy - vy, h);
    }
}

/// `┄ ┈ ╌` and their heavy and vertical kin: `n` dashes per cell.
fn dashed(mask: &mut Mask, spec: u16) {
    let n = i64::from((spec >> 8) & 0xF);
    let t = thickness(mask.w, (spec >> 4) & 0xF);
    let vertical = spec & 0xF == 1;
    let len = if vertical { mask.h } else { mask.w } as i64;
    for i in 0..n {
        let (a, b) = (len * i / n, len * (i + 1) / n);
        let b = b - ((b - a) / 3).max(1);
        if vertical {
            let x = centred(mask.w, t);
            mask.fill(x, a, x + t, b, FULL);
        } else {
            let y = centred(mask.h, t);
            mask.fill(a, y, b, y + t, FULL);
        }
    }
}

/// `╭ ╮ ╯ ╰`: a quarter circle joining two arms.
fn arc(mask: &mut Mask, which: u16) {
    let t = thickness(mask.w, 1);
    let (w, h) = (mask.w as f32, mask.h as f32);
    // The centres of the vertical and horizontal lines.
    let lx = centred(mask.w, t) as f32 + t as f32 / 2.0;
    let ly = centred(mask.h, t) as f32 + t as f32 / 2.0;
    let r = lx.min(ly).min(w - lx).min(h - ly);
    // The arc's centre sits in the quadrant the arms go to.
    let (right, down) = match which {
        1 => (true, true),   // ╭
        2 => (false, true),  // ╮
        3 => (false, false), // ╯
        _ => (true, false),  // ╰
    };
    let ccx = if right { lx + r } else { lx - r };
    let ccy = if down { ly + r } else { ly - r };
    let half = t as f32 / 2.0;
    mask.shape(|x, y| {
        let in_x = if right { x <= ccx } else { x >= ccx };
        let in_y = if down { y <= ccy } else { y >= ccy };
        let d = ((x - ccx).powi(2) + (y - ccy).powi(2)).sqrt();
        in_x && in_y && (d - r).abs() <= half
    });
    let (x0, x1) = if right {
        (ccx as i64, mask.w as i64)
    } else {
        (0, ccx.ceil() as i64)
    };
    let y = centred(mask.h, t);
    mask.fill(x0, y, x1, y + t, FULL);
    let (y0, y1) = if down {
        (ccy as i64, mask.h as i64)
    } else {
        (0, ccy.ceil() as i64)
    };
    let x = centred(mask.w, t);
    mask.fill(x, y0, x + t, y1, FULL);
}

/// `╱ ╲ ╳`: corner-to-corner lines.
fn diagonal(mask: &mut Mask, which: u16) {
    let (w, h) = (mask.w as f32, mask.h as f32);
    let half = thickness(mask.w, 1) as f32 * 0.7;
    let len = (w * w + h * h).sqrt();
    // Distance from the line through (0, h) and (w, 0), or (0, 0) and (w, h).
    let rising = move |x: f32, y: f32| ((h * x + w * y - w * h) / len).abs() <= half;
    let falling = move |x: f32, y: f32| ((h * x - w * y) / len).abs() <= half;
    mask.shape(|x, y| (which & 1 != 0 && rising(x, y)) || (which & 2 != 0 && falling(x, y)));
}

/// Block elements: eighths, halves, quadrants and shades.
fn block(mask: &mut Mask, code: u32) {
    let (w, h) = (mask.w as i64, mask.h as i64);
    let eighth_h = |n: i64| (h * n + 4) / 8;
    let eighth_w = |n: i64| (w * n + 4) / 8;
    let (hw, hh) = (w / 2, h / 2);
    let quads = |mask: &mut Mask, ul: bool, ur: bool, ll: bool, lr: bool| {
        for (on, x0, y0, x1, y1) in [
            (ul, 0, 0, hw, hh),
            (ur, hw, 0, w, hh),
            (ll, 0, hh, hw, h),
            (lr, hw, hh, w, h),
        ] {
            if on {
                mask.fill(x0, y0, x1, y1, FULL);
            }
        }
    };
    match code {
        0x2580 => mask.fill(0, 0, w, hh, FULL),
        0x2581..=0x2588 => {
            let n = i64::from(code - 0x2580);
            mask.fill(0, h - eighth_h(n), w, h, FULL);
        }
        0x2589..=0x258F => {
            let n = 8 - i64::from(code - 0x2588);
            mask.fill(0, 0, eighth_w(n), h, FULL);
        }
        0x2590 => mask.fill(hw, 0, w, h, FULL),
        0x2591..=0x2593 => {
            let level = u8::try_from(code - 0x2590).unwrap_or(FULL);
            mask.fill(0, 0, w, h, level);
        }
        0x2594 => mask.fill(0, 0, w, eighth_h(1), FULL),
        0x2595 => mask.fill(w - eighth_w(1), 0, w, h, FULL),
        0x2596 => quads(mask, false, false, true, false),
        0x2597 => quads(mask, false, false, false, true),
        0x2598 => quads(mask, true, false, false, false),
        0x2599 => quads(mask, true, false, true, true),
        0x259A => quads(mask, true, false, false, true),
        0x259B => quads(mask, true, true, true, false),
        0x259C => quads(mask, true, true, false, true),
        0x259D => quads(mask, false, true, false, false),
        0x259E => quads(mask, false, true, true, false),
        _ => quads(mask, false, true, true, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 9;
    const H: usize = 18;

    fn m(c: char) -> Mask {
        draw(c, W, H).expect("drawn here")
    }

    fn at(mask: &Mask, x: usize, y: usize) -> u8 {
        mask.px[y * mask.w + x]
    }

    /// Rows (or columns) where the mask touches an edge.
    fn edge(mask: &Mask, side: char) -> Vec<usize> {
        match side {
            'l' => (0..mask.h).filter(|&y| at(mask, 0, y) == FULL).collect(),
            'r' => (0..mask.h)
                .filter(|&y| at(mask, mask.w - 1, y) == FULL)
                .collect(),
            't' => (0..mask.w).filter(|&x| at(mask, x, 0) == FULL).collect(),
            _ => (0..mask.w)
                .filter(|&x| at(mask, x, mask.h - 1) == FULL)
                .collect(),
        }
    }

    #[test]
    fn neighbours_meet_at_the_same_pixels() {
        let h = edge(&m('─'), 'r');
        assert!(!h.is_empty());
        for c in ['┌', '└', '┬', '┴', '┼', '├', '╶', '╰', '╭'] {
            assert_eq!(edge(&m(c), 'r'), h, "{c} right edge");
        }
        for c in ['┐', '┘', '┬', '┴', '┼', '┤', '╴', '╮', '╯'] {
            assert_eq!(edge(&m(c), 'l'), h, "{c} left edge");
        }
        let v = edge(&m('│'), 'b');
        for c in ['┌', '┐', '┬', '├', '┤', '┼', '╷', '╭', '╮'] {
            assert_eq!(edge(&m(c), 'b'), v, "{c} bottom edge");
        }
        for c in ['└', '┘', '┴', '├', '┤', '┼', '╵', '╰', '╯'] {
            assert_eq!(edge(&m(c), 't'), v, "{c} top edge");
        }
    }

    #[test]
    fn corners_are_closed() {
        let c = m('┌');
        let v = edge(&c, 'b')[0];
        let h = edge(&c, 'r')[0];
        assert_eq!(at(&c, v, h), FULL, "the corner pixel");
        assert!(edge(&c, 'l').is_empty() && edge(&c, 't').is_empty());
    }

    #[test]
    fn blocks_fill_their_part_of_the_cell() {
        assert!(m('█').px.iter().all(|&p| p == FULL));
        assert!(m('▒').px.iter().all(|&p| p == 2));
        assert!(m('░').px.iter().all(|&p| p == 1));
        let lower = m('▄');
        assert_eq!(at(&lower, 0, 0), 0);
        assert_eq!(at(&lower, 0, H - 1), FULL);
        let half: usize = lower.px.iter().filter(|&&p| p == FULL).count();
        assert_eq!(half, W * H / 2);
        let q = m('▚');
        assert_eq!((at(&q, 0, 0), at(&q, W - 1, 0)), (FULL, 0));
        assert_eq!((at(&q, 0, H - 1), at(&q, W - 1, H - 1)), (0, FULL));
    }

    #[test]
    fn heavy_and_double_lines_are_wider() {
        let ink = |c| m(c).px.iter().filter(|&&p| p == FULL).count();
        assert!(ink('━') > ink('─'));
        assert!(ink('═') == 2 * ink('─'));
        assert!(ink('┄') < ink('─'));
    }

    #[test]
    fn every_code_point_draws_something() {
        for code in 0x2500..=0x259F {
            let c = char::from_u32(code).expect("valid");
            assert!(m(c).px.iter().any(|&p| p > 0), "{c} U+{code:04X}");
        }
        assert!(draw('a', W, H).is_none());
    }
}
