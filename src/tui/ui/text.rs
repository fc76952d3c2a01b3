//! Text helpers: display widths, truncation, number and time formats.
//!
//! Widths are display columns (a CJK character or an emoji takes two), as
//! ratatui measures them, so wide names are cut without breaking the layout.

use std::borrow::Cow;

use ratatui::buffer::Buffer;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::event::{LockId, Nanos, ThreadId};
use crate::model::{Model, sanitize};

mod unique;

pub(crate) use unique::{unique, unique_list};

/// Display width of `s` in terminal columns.
pub(crate) fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to at most `max` columns, ending in `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let w = width(c.encode_utf8(&mut buf));
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// `s` cut to at most `max` columns in the middle, keeping its start and its
/// end (where names differ: `philosopher 3`, `worker-12`), joined by `…`.
pub(crate) fn middle(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max < 3 {
        return truncate(s, max);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut buf = [0u8; 4];
    let mut cw = |c: char| width(c.encode_utf8(&mut buf));
    // The end gets the larger half: numbers and suffixes tell names apart.
    let tail_room = max / 2;
    let head_room = max - 1 - tail_room;
    let mut tail = Vec::new();
    let mut used = 0;
    for &c in chars.iter().rev() {
        let w = cw(c);
        if used + w > tail_room {
            break;
        }
        used += w;
        tail.push(c);
    }
    let mut head = String::new();
    let mut used = 0;
    for &c in &chars[..chars.len() - tail.len()] {
        let w = cw(c);
        if used + w > head_room {
            break;
        }
        used += w;
        head.push(c);
    }
    head.push('…');
    head.extend(tail.iter().rev());
    Cow::Owned(head)
}

/// A source location in at most `max` columns: the file name without its
/// directories first, then cut in the middle, the `:line` always kept whole.
pub(crate) fn short_site(site: crate::event::Site, max: usize) -> String {
    let full = sanitize(&site.to_string());
    if width(&full) <= max {
        return full;
    }
    let line = format!(":{}", site.line);
    let file = sanitize(site.file);
    let name = file.rsplit(['/', '\\']).next().unwrap_or(&file);
    let room = max.saturating_sub(width(&line));
    if room == 0 {
        return truncate(&full, max).into_owned();
    }
    format!("{}{line}", middle(name, room))
}

/// Writes `s` at (`x`, `y`) in at most `max` columns (cut with `…`), if the
/// position is inside the buffer. Returns the column after the text.
pub(crate) fn put(buf: &mut Buffer, x: u16, y: u16, s: &str, max: usize, style: Style) -> u16 {
    let area = buf.area;
    if y < area.top() || y >= area.bottom() || x < area.left() || x >= area.right() {
        return x;
    }
    let max = max.min(usize::from(area.right() - x));
    buf.set_stringn(x, y, truncate(s, max), max, style).0
}

/// `s` padded with spaces (or cut) to exactly `cols` columns, right-aligned if `right`.
pub(crate) fn fit(s: &str, cols: usize, right: bool) -> String {
    let s = truncate(s, cols);
    let pad = " ".repeat(cols.saturating_sub(width(&s)));
    if right { pad + &s } else { format!("{s}{pad}") }
}

/// `s` padded (or cut in the middle, keeping both ends) to exactly `cols`
/// columns, right-aligned if `right`: for names, which differ at their ends.
pub(crate) fn fit_middle(s: &str, cols: usize, right: bool) -> String {
    let s = middle(s, cols);
    let pad = " ".repeat(cols.saturating_sub(width(&s)));
    if right { pad + &s } else { format!("{s}{pad}") }
}

/// A count that fits 7 columns whole: `999,999`, then `2.70M`, `1.20G`.
pub(crate) fn count_short(n: u64) -> String {
    match n {
        0..1_000_000 => count(n),
        1_000_000..1_000_000_000 => format!("{:.2}M", n as f64 / 1e6),
        1_000_000_000..1_000_000_000_000 => format!("{:.2}G", n as f64 / 1e9),
        _ => format!("{:.2}T", n as f64 / 1e12),
    }
}

/// Word-wraps `s` to lines of at most `cols` columns; words longer than a line are cut.
pub(crate) fn wrap(s: &str, cols: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let word = truncate(word, cols);
        if !line.is_empty() && width(&line) + 1 + width(&word) > cols {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lays out groups of spans in lines of at most `cols` columns, breaking only
/// between groups; continuation lines start with `indent` spaces. A group
/// wider than a line is cut with `…`.
pub(crate) fn wrap_groups(
    groups: Vec<Vec<Span<'static>>>,
    cols: usize,
    indent: usize,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for group in groups {
        let mut group = group;
        let gw: usize = group.iter().map(Span::width).sum();
        if used > 0 && used + gw > cols {
            lines.push(Line::from(std::mem::take(&mut line)));
            line.push(Span::raw(" ".repeat(indent)));
            used = indent;
            // A group that starts a line does not need its leading space.
            if let Some(first) = group.first_mut() {
                let trimmed = first.content.trim_start().to_owned();
                first.content = trimmed.into();
            }
        }
        for span in group {
            let room = cols.saturating_sub(used);
            let w = span.width();
            if w <= room {
                used += w;
                line.push(span);
            } else if room > 0 {
                let cut = truncate(&span.content, room).into_owned();
                used += width(&cut);
                line.push(Span::styled(cut, span.style));
            }
        }
    }
    if !line.is_empty() {
        lines.push(Line::from(line));
    }
    lines
}

/// A thread's name, safe to print.
/// The line made of `groups` (each a few spans that only mean something
/// together: a key and what it does, a symbol and its name) taken in order
/// while they fit in `cols`: what does not fit is left out whole, never cut.
pub(crate) fn whole_items(groups: Vec<Vec<Span<'static>>>, cols: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for group in groups {
        let w: usize = group.iter().map(Span::width).sum();
        if used + w > cols {
            break;
        }
        used += w;
        spans.extend(group);
    }
    Line::from(spans)
}

pub(crate) fn thread_name(model: &Model, id: ThreadId) -> String {
    sanitize(model.thread_name(id))
}

/// A lock's name, safe to print.
pub(crate) fn lock_name(model: &Model, id: LockId) -> String {
    sanitize(model.lock_name(id))
}

/// `1234567` as `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A clock reading: `60ms` under a second, then to a tenth of a second:
/// `12.3s`, `2m05.1s`, `1h02m`.
pub(crate) fn elapsed(ns: Nanos) -> String {
    let tenths = ns / 100_000_000;
    let (secs, tenth) = (tenths / 10, tenths % 10);
    match secs {
        0 => format!("{}ms", ns / 1_000_000),
        1..60 => format!("{secs}.{tenth}s"),
        60..3600 => format!("{}m{:02}.{tenth}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    #[test]
    fn truncation_counts_display_columns() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("死锁检测", 5), "死锁…");
        assert_eq!(truncate("死锁检测", 4), "死…");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(truncate("abc", 1), "…");
        assert_eq!(width(&truncate("🔒🔒🔒🔒", 7)), 7);
    }

    #[test]
    fn put_never_writes_outside_the_buffer() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 5, 1));
        assert_eq!(put(&mut buf, 2, 0, "hello", 10, Style::new()), 5);
        assert_eq!(buf, Buffer::with_lines(["  he…"]));
        assert_eq!(put(&mut buf, 9, 0, "x", 1, Style::new()), 9);
        assert_eq!(put(&mut buf, 0, 3, "x", 1, Style::new()), 0);
    }

    #[test]
    fn helpers_format_readably() {
        assert_eq!(fit("ab", 4, true), "  ab");
        assert_eq!(fit("abcdef", 4, false), "abc…");
        assert_eq!(wrap("DEADLOCK: a, b on x", 10), ["DEADLOCK:", "a, b on x"]);
        assert_eq!(wrap("", 10), [""]);
        let group = |a: &'static str, b: &'static str| vec![Span::raw(a), Span::raw(b)];
        let lines = wrap_groups(
            vec![group("left", " ─waits→ B"), group(" ─held by→ ", "right")],
            17,
            2,
        );
        let lines: Vec<String> = lines.iter().map(Line::to_string).collect();
        assert_eq!(lines, ["left ─waits→ B", "  ─held by→ right"]);
        let lines = wrap_groups(vec![group("abcdefghij", "klmnop")], 8, 2);
        assert_eq!(lines[0].to_string(), "abcdefg…");
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(100), "100");
        assert_eq!(elapsed(0), "0ms");
        assert_eq!(elapsed(60_500_000), "60ms");
        assert_eq!(elapsed(1_000_000_000), "1.0s");
        assert_eq!(elapsed(12_345_000_000), "12.3s");
        assert_eq!(elapsed(125_100_000_000), "2m05.1s");
        assert_eq!(elapsed(3_720_000_000_000), "1h02m");
    }
}
