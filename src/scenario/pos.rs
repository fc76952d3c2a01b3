//! Byte offsets to `FILE:LINE:COLUMN`, for sites and error messages.

use std::cell::Cell;
use std::fmt;
use std::ops::Range;

use super::ScenarioError;
use crate::event::Site;

/// The file being parsed: turns byte spans into sites and positioned errors.
pub(super) struct Source<'a> {
    /// The interned display name.
    pub file: &'static str,
    text: &'a str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// The last position computed, `(offset, line index, column)`: steps are looked up
    /// in file order, so counting on from here keeps long one-line arrays linear.
    last: Cell<(usize, usize, u32)>,
}

impl<'a> Source<'a> {
    pub fn new(file: &str, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            file: crate::event::intern(file),
            text,
            line_starts,
            last: Cell::new((0, 0, 1)),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let (last_offset, last_line, last_col) = self.last.get();
        let (from, col) = if last_line == line && last_offset <= offset {
            (last_offset, last_col)
        } else {
            (start, 1)
        };
        let chars = self
            .text
            .get(from..offset)
            .map_or(0, |between| between.chars().count());
        let col = col.saturating_add(u32::try_from(chars).unwrap_or(u32::MAX));
        self.last.set((offset, line, col));
        (u32::try_from(line + 1).unwrap_or(u32::MAX), col)
    }

    /// The site of the start of a span.
    pub fn site(&self, span: &Range<usize>) -> Site {
        let (line, column) = self.line_col(span.start);
        Site {
            file: self.file,
            line,
            column,
        }
    }

    /// An error at the start of a span: `FILE:LINE:COL: message`.
    pub fn error(&self, span: &Range<usize>, message: impl fmt::Display) -> ScenarioError {
        let (line, column) = self.line_col(span.start);
        ScenarioError::at(self.file, line, Some(column), message)
    }

    /// An error about the file as a whole, reported at its first character.
    pub fn error_at_start(&self, message: impl fmt::Display) -> ScenarioError {
        self.error(&(0..0), message)
    }
}

/// A name for a message: as written, but with control characters and bidi
/// overrides escaped (as [`crate::model::sanitize`] does), so an error message
/// never carries terminal escape sequences or reorders itself.
pub(super) struct Plain<'a>(pub &'a str);

impl fmt::Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::model::sanitize(self.0))
    }
}

/// A name for a message in double quotes, escaped like [`Plain`] (and `"` too).
pub(super) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// `A, B, C` (at most ten names, then `…`), or `none` when empty.
pub(super) fn name_list<'n>(names: impl Iterator<Item = &'n str>) -> String {
    const SHOWN: usize = 10;
    let mut out = String::new();
    for (i, name) in names.enumerate() {
        if i == SHOWN {
            out.push_str(", …");
            break;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&Plain(name).to_string());
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_restart_on_each_line() {
        let text = "ab\nµµx\n\nlast";
        let source = Source::new("t.toml", text);
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(1), (1, 2));
        let x = text.find('x').unwrap_or_default();
        assert_eq!(source.line_col(x), (2, 3));
        assert_eq!(source.line_col(3), (2, 1));
        assert_eq!(source.line_col(text.len()), (4, 5));
        assert_eq!(source.line_col(usize::MAX), (4, 5));
        assert_eq!(source.line_col(8), (2, 4));
        assert_eq!(source.line_col(9), (3, 1));
    }

    #[test]
    fn names_in_messages_have_control_characters_escaped() {
        assert_eq!(Plain("fork 1\u{1b}[2J").to_string(), "fork 1\\u{1b}[2J");
        assert_eq!(Quoted("a\"b\n").to_string(), "\"a\\\"b\\n\"");
        assert_eq!(name_list(["A", "B"].into_iter()), "A, B");
        assert_eq!(name_list(std::iter::empty()), "none");
    }
}
