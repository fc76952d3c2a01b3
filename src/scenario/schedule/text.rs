//! Reading schedule files, and quoting names for them.

use super::{HEADER, Schedule, ScheduledStep, VERSION};
use crate::scenario::pos::Quoted;
use crate::scenario::{ScenarioError, ScenarioErrorKind};

/// Schedule files larger than this are refused.
pub(super) const MAX_TEXT: usize = 16 << 20;

pub(super) fn too_large(file: &str) -> ScenarioError {
    let kind = ScenarioErrorKind::TooLarge {
        file: file.to_owned(),
        limit: MAX_TEXT,
    };
    ScenarioError::new(
        kind,
        format!("{file}:1: file too large (over {MAX_TEXT} bytes)"),
    )
}

pub(super) fn parse(file: &str, text: &str) -> Result<Schedule, ScenarioError> {
    let at = |line: usize, msg: String| {
        ScenarioError::at(file, u32::try_from(line).unwrap_or(u32::MAX), None, msg)
    };
    if text.len() > MAX_TEXT {
        return Err(too_large(file));
    }
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let (first, header) = lines
        .by_ref()
        .find(|(_, l)| !l.is_empty())
        .ok_or_else(|| at(1, "empty file: not a lockscope schedule".into()))?;
    check_header(header).map_err(|msg| at(first, msg))?;
    let mut scenario: Option<String> = None;
    let mut steps = Vec::new();
    for (n, line) in lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = split_word(line);
        if word == "scenario" {
            if scenario.is_some() {
                return Err(at(n, "a second \"scenario\" line".into()));
            }
            let (name, tail) = value(rest).map_err(|msg| at(n, format!("scenario: {msg}")))?;
            check_tail(tail).map_err(|msg| at(n, format!("scenario: {msg}")))?;
            if name.is_empty() {
                return Err(at(n, "\"scenario\" needs the scenario's name".into()));
            }
            scenario = Some(name);
            continue;
        }
        let expected = steps.len() + 1;
        if scenario.is_none() {
            let msg = "expected \"scenario NAME\" before the first step".to_string();
            return Err(at(n, msg));
        }
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            let msg = format!(
                "bad step number {} (a line is: NUMBER THREAD OPERATION # comment)",
                Quoted(word)
            );
            return Err(at(n, msg));
        }
        if word.trim_start_matches('0') != expected.to_string() {
            let msg = format!("expected step {expected}, found step {word}");
            return Err(at(n, msg));
        }
        let step = |msg: &str| at(n, format!("step {expected}: {msg}"));
        let rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            return Err(step("missing thread name"));
        }
        let (thread, rest) = thread_name(rest).map_err(|msg| step(&msg))?;
        let rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            return Err(step("missing operation"));
        }
        let (op, tail) = value(rest).map_err(|msg| step(&msg))?;
        check_tail(tail).map_err(|msg| step(&msg))?;
        if op.is_empty() {
            return Err(step("missing operation"));
        }
        steps.push(ScheduledStep { thread, op });
    }
    let scenario = scenario.ok_or_else(|| {
        at(
            text.lines().count().max(1),
            "missing \"scenario NAME\" line".into(),
        )
    })?;
    Ok(Schedule { scenario, steps })
}

fn check_header(line: &str) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["#", "lockscope", "schedule", v] if *v == VERSION => Ok(()),
        ["#", "lockscope", "schedule", v] => Err(format!(
            "unsupported schedule version {} (this lockscope reads version {VERSION})",
            Quoted(v)
        )),
        _ => Err(format!(
            "not a lockscope schedule: the first line must be {}",
            Quoted(HEADER)
        )),
    }
}

/// The first whitespace-separated word, and the rest.
fn split_word(line: &str) -> (&str, &str) {
    match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    }
}

/// A thread name: quoted, or one bare word.
fn thread_name(text: &str) -> Result<(String, &str), String> {
    if text.starts_with('"') {
        return unquote(text);
    }
    let (word, rest) = split_word(text);
    Ok((word.to_string(), rest))
}

/// A value running to the end of the line: quoted, or bare up to a `#` comment.
fn value(text: &str) -> Result<(String, &str), String> {
    let text = text.trim_start();
    if text.starts_with('"') {
        return unquote(text);
    }
    let end = text.find('#').unwrap_or(text.len());
    let words: Vec<&str> = text[..end].split_whitespace().collect();
    Ok((words.join(" "), &text[end..]))
}

/// After a value only a comment may follow.
fn check_tail(tail: &str) -> Result<(), String> {
    let tail = tail.trim_start();
    if tail.is_empty() || tail.starts_with('#') {
        Ok(())
    } else {
        Err(format!(
            "unexpected {} after the quoted name (comments start with #)",
            Quoted(tail)
        ))
    }
}

/// A double-quoted string with Rust's escapes (`\"`, `\\`, `\n`, `\u{1b}`, …),
/// as `{:?}` writes it; returns it and the text after the closing quote.
fn unquote(text: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &text[i + 1..])),
            '\\' => {
                let (_, e) = chars.next().ok_or("unterminated quoted name")?;
                out.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    '\\' | '"' | '\'' => e,
                    'u' => {
                        let mut hex = String::new();
                        if chars.next().map(|(_, c)| c) != Some('{') {
                            return Err("bad escape \\u: expected \\u{HEX}".into());
                        }
                        loop {
                            match chars.next() {
                                Some((_, '}')) => break,
                                Some((_, h)) if h.is_ascii_hexdigit() && hex.len() < 6 => {
                                    hex.push(h)
                                }
                                _ => return Err("bad escape \\u: expected \\u{HEX}".into()),
                            }
                        }
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("bad escape \\u{{{hex}}}: not a character"))?
                    }
                    other => return Err(format!("bad escape {}", Quoted(&format!("\\{other}")))),
                });
            }
            c => out.push(c),
        }
    }
    Err("unterminated quoted name".into())
}

/// A thread name as a schedule writes it: bare when it is one plain word.
pub(super) fn quote_thread(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '#' | '\\'));
    if bare {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

/// An operation or scenario name as a schedule writes it: bare unless it holds
/// a `#`, a quote, a backslash, a control character, or odd spacing.
pub(super) fn quote_value(text: &str) -> String {
    let plain = text.split_whitespace().collect::<Vec<_>>().join(" ") == text;
    let bare = !text.is_empty()
        && plain
        && text
            .chars()
            .all(|c| (c == ' ' || c.is_ascii_graphic()) && !matches!(c, '"' | '#' | '\\'));
    if bare {
        text.to_string()
    } else {
        format!("{text:?}")
    }
}
