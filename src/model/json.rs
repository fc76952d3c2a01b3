//! JSON that is safe to print on a terminal.
//!
//! `serde_json` escapes the C0 controls (ESC among them), `"` and `\`, but
//! writes C1 controls (U+0080–U+009F; U+009B is CSI to some terminals) and
//! the invisible bidirectional controls raw. Names come from anywhere, and
//! `--json` output often lands on a terminal: these write every character
//! [`sanitize`](super::sanitize) would neutralise as a `\uXXXX` escape. The
//! output is still plain JSON, and every name reads back exactly as given.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::report::needs_escape;

/// Writes `value` as compact JSON, terminal-safe.
///
/// # Errors
///
/// As [`serde_json::to_writer`]: writing failed, or `value` cannot be
/// serialized.
///
/// # Examples
///
/// ```
/// let mut out = Vec::new();
/// lockscope::model::to_json_writer(&mut out, &"evil\u{202e}\u{9b}2J").unwrap();
/// assert_eq!(out, br#""evil\u202e\u009b2J""#);
/// let back: String = serde_json::from_slice(&out).unwrap();
/// assert_eq!(back, "evil\u{202e}\u{9b}2J");
/// ```
pub fn to_json_writer<W: Write, T: Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Safe(CompactFormatter));
    value.serialize(&mut ser)
}

/// Writes `value` as indented JSON, terminal-safe.
///
/// # Errors
///
/// As [`serde_json::to_writer_pretty`].
///
/// # Examples
///
/// ```
/// let mut out = Vec::new();
/// lockscope::model::to_json_writer_pretty(&mut out, &["\u{1b}[2J"]).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "[\n  \"\\u001b[2J\"\n]");
/// ```
pub fn to_json_writer_pretty<W: Write, T: Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Safe(PrettyFormatter::new()));
    value.serialize(&mut ser)
}

/// A formatter that escapes what a terminal must not see raw, and leaves
/// the layout to the one it wraps.
struct Safe<F>(F);

impl<F: Formatter> Formatter for Safe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                out.write_all(&fragment.as_bytes()[start..i])?;
                // Every such character is in the Basic Multilingual Plane.
                write!(out, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        out.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.begin_array(out)
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.end_array(out)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.end_array_value(out)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.begin_object(out)
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.end_object(out)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(out, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.end_object_key(out)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.begin_object_value(out)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.0.end_object_value(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pretty_layout_is_serde_jsons_own() {
        let value = serde_json::json!({"a": [1, {"b": "c"}], "d": {}});
        let mut ours = Vec::new();
        to_json_writer_pretty(&mut ours, &value).unwrap();
        assert_eq!(ours, serde_json::to_vec_pretty(&value).unwrap());
        let mut compact = Vec::new();
        to_json_writer(&mut compact, &value).unwrap();
        assert_eq!(compact, serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn every_character_sanitize_escapes_is_escaped_and_reads_back() {
        let hostile: String = (0u32..0x3000)
            .filter_map(char::from_u32)
            .filter(|&c| needs_escape(c))
            .chain("plain ünï".chars())
            .collect();
        let mut out = Vec::new();
        to_json_writer(&mut out, &hostile).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(needs_escape), "{text:?}");
        let back: String = serde_json::from_str(&text).unwrap();
        assert_eq!(back, hostile);
    }
}
