//! TOML text to a validated [`Scenario`].

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::pos::{Plain, Quoted, Source, name_list};
use super::steps::{Names, Parsed, normalize, parse_step};
use super::{
    Expect, LockDecl, Op, Scenario, ScenarioError, ScenarioErrorKind, Step, ThreadDecl, VarDecl,
    validate,
};
use crate::event::{LockKind, Site};

/// The largest scenario text accepted, in bytes.
pub(super) const MAX_TEXT: usize = 1 << 20;
/// The deepest nesting of `repeat` blocks.
const MAX_DEPTH: usize = 32;
/// The most threads a scenario may have, after `count` copies.
const MAX_THREADS: usize = 1000;
/// The most step strings all threads may have together, after `count` copies.
const MAX_STEPS: usize = 100_000;
/// The most bytes of thread names and step strings all threads may have
/// together, after `count` copies: each copy owns its text, so without this a
/// file of 50 KiB could make 50 MiB of copies within the thread and step limits.
const MAX_COPIED: usize = 4 * MAX_TEXT;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    locks: Entries<String>,
    #[serde(default)]
    vars: Entries<i64>,
    #[serde(default)]
    expect: Entries<i64>,
    #[serde(default)]
    thread: Vec<Spanned<RawThread>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThread {
    name: Spanned<String>,
    #[serde(default)]
    steps: Vec<Spanned<String>>,
    count: Option<Spanned<u32>>,
}

/// A table's entries with the spans of keys and values, in file order.
struct Entries<V>(Vec<(Spanned<String>, Spanned<V>)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of names")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        let mut entries = deserializer.deserialize_map(EntriesVisitor(PhantomData))?;
        entries.0.sort_by_key(|(key, _)| key.span().start);
        Ok(entries)
    }
}

pub(super) fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let src = Source::new(file, text);
    if text.len() > MAX_TEXT {
        let message = format!(
            "{}:1:1: scenario file is too large (at most {} KiB)",
            src.file,
            MAX_TEXT / 1024
        );
        let kind = ScenarioErrorKind::TooLarge {
            file: src.file.to_owned(),
            limit: MAX_TEXT,
        };
        return Err(ScenarioError::new(kind, message));
    }
    let raw: RawScenario = toml::from_str(text)
        .map_err(|err| src.error(&err.span().unwrap_or_default(), err.message()))?;
    let locks = locks(&src, raw.locks)?;
    let vars = vars(&src, raw.vars)?;
    let expect = expect(&src, raw.expect, &vars)?;
    let threads = threads(&src, raw.thread, &locks, &vars)?;
    let name = raw.name.unwrap_or_else(|| {
        let stem = Path::new(file).file_stem().map(|s| s.to_string_lossy());
        stem.map_or_else(|| file.to_owned(), |s| s.into_owned())
    });
    Ok(Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        file: src.file,
        locks,
        vars,
        threads,
        expect,
    })
}

/// Checks a declared name: not empty, not the same as an earlier one once runs of
/// whitespace are collapsed (steps could not tell them apart).
fn declare(
    src: &Source<'_>,
    what: &str,
    key: &Spanned<String>,
    seen: &mut HashMap<String, String>,
) -> Result<(), ScenarioError> {
    let name = key.get_ref();
    let normalized = normalize(name);
    if normalized.is_empty() {
        return Err(src.error(&key.span(), format!("{what} name must not be empty")));
    }
    if let Some(first) = seen.get(&normalized) {
        let message = format!(
            "{what} {} has the same name as {} (runs of spaces count as one)",
            Quoted(name),
            Quoted(first)
        );
        return Err(src.error(&key.span(), message));
    }
    seen.insert(normalized, name.clone());
    Ok(())
}

fn locks(src: &Source<'_>, entries: Entries<String>) -> Result<Vec<LockDecl>, ScenarioError> {
    let mut seen = HashMap::new();
    let mut locks = Vec::with_capacity(entries.0.len());
    for (key, value) in entries.0 {
        declare(src, "lock", &key, &mut seen)?;
        let (kind, capacity) = lock_kind(value.get_ref()).map_err(|expected| {
            let message = format!(
                "unknown lock kind {} for {} (expected {expected})",
                Quoted(value.get_ref()),
                Plain(key.get_ref())
            );
            src.error(&value.span(), message)
        })?;
        locks.push(LockDecl {
            site: src.site(&key.span()),
            name: key.into_inner(),
            kind,
            capacity,
        });
    }
    Ok(locks)
}

/// The largest capacity a `"channel N"` declaration accepts (a bounded
/// channel allocates its slots up front).
pub(super) const MAX_CAPACITY: usize = 1_000_000;

/// A `[locks]` value: the kind, and a channel's capacity (`None`: unbounded).
fn lock_kind(value: &str) -> Result<(LockKind, Option<usize>), String> {
    let lower = normalize(value).to_ascii_lowercase();
    let (word, arg) = lower.split_once(' ').unwrap_or((lower.as_str(), ""));
    match (word, arg) {
        ("mutex", "") => Ok((LockKind::Mutex, None)),
        ("rwlock", "") => Ok((LockKind::RwLock, None)),
        ("condvar", "") => Ok((LockKind::Condvar, None)),
        ("channel", "") => Ok((LockKind::Channel, None)),
        ("channel", n) if n.bytes().all(|b| b.is_ascii_digit()) => match n.parse::<usize>() {
            Ok(cap) if cap <= MAX_CAPACITY => Ok((LockKind::Channel, Some(cap))),
            _ => Err(format!("a channel capacity from 0 to {MAX_CAPACITY}")),
        },
        _ => Err("mutex, rwlock, condvar, channel (unbounded) or channel N \
                  (bounded, 0 for a rendezvous)"
            .to_owned()),
    }
}

fn vars(src: &Source<'_>, entries: Entries<i64>) -> Result<Vec<VarDecl>, ScenarioError> {
    let mut seen = HashMap::new();
    let mut vars = Vec::with_capacity(entries.0.len());
    for (key, value) in entries.0 {
        declare(src, "var", &key, &mut seen)?;
        vars.push(VarDecl {
            site: src.site(&key.span()),
            name: key.into_inner(),
            initial: value.into_inner(),
        });
    }
    Ok(vars)
}

fn expect(
    src: &Source<'_>,
    entries: Entries<i64>,
    vars: &[VarDecl],
) -> Result<Vec<Expect>, ScenarioError> {
    let index: HashMap<String, usize> = (vars.iter().enumerate())
        .map(|(i, var)| (normalize(&var.name), i))
        .collect();
    let mut expect: Vec<Expect> = Vec::with_capacity(entries.0.len());
    for (key, value) in entries.0 {
        let Some(&var) = index.get(&normalize(key.get_ref())) else {
            let declared = name_list(vars.iter().map(|v| v.name.as_str()));
            let message = format!(
                "unknown var {} in [expect] (declared vars: {declared})",
                Quoted(key.get_ref())
            );
            return Err(src.error(&key.span(), message));
        };
        if expect.iter().any(|e| e.var == var) {
            let message = format!("var {} is expected twice", Quoted(key.get_ref()));
            return Err(src.error(&key.span(), message));
        }
        let site = src.site(&key.span());
        expect.push(Expect {
            var,
            value: value.into_inner(),
            site,
        });
    }
    Ok(expect)
}

/// A `[[thread]]` table with its program parsed, before `count` copies are made.
struct Template {
    /// The `name` key, which messages about the program use.
    name: String,
    /// The threads' names: `name`, or `name 0` to `name N-1` with `count = N`.
    names: Vec<String>,
    site: Site,
    steps: Vec<Step>,
}

fn threads(
    src: &Source<'_>,
    raw: Vec<Spanned<RawThread>>,
    locks: &[LockDecl],
    vars: &[VarDecl],
) -> Result<Vec<ThreadDecl>, ScenarioError> {
    if raw.is_empty() {
        return Err(src.error_at_start("no threads: add a [[thread]] table with a name and steps"));
    }
    let names = Names::new(locks, vars, thread_names(&raw));
    let mut first_seen: HashMap<String, u32> = HashMap::new();
    let (mut thread_count, mut step_count, mut copied) = (0usize, 0usize, 0usize);
    let mut templates = Vec::with_capacity(raw.len());
    for table in raw {
        let site = src.site(&table.span());
        let thread = table.into_inner();
        let (name, name_span) = (thread.name.get_ref(), thread.name.span());
        if name.is_empty() {
            return Err(src.error(&name_span, "thread name must not be empty"));
        }
        if name.contains('\0') {
            let message = format!(
                "thread name {} must not contain a NUL character (\\0)",
                Quoted(name)
            );
            return Err(src.error(&name_span, message));
        }
        let n = match &thread.count {
            None => 1,
            Some(count) if *count.get_ref() == 0 => {
                return Err(src.error(&count.span(), "count must be at least 1"));
            }
            Some(count) => {
                let n = usize::try_from(*count.get_ref()).unwrap_or(usize::MAX);
                if n > MAX_THREADS {
                    let message = format!("too many threads (at most {MAX_THREADS})");
                    return Err(src.error(&count.span(), message));
                }
                n
            }
        };
        thread_count += n;
        step_count = step_count.saturating_add(n.saturating_mul(thread.steps.len()));
        if thread_count > MAX_THREADS || step_count > MAX_STEPS {
            let message = format!(
                "scenario is too big (at most {MAX_THREADS} threads and {MAX_STEPS} steps, \
                 counting each copy made by count)"
            );
            return Err(src.error(&name_span, message));
        }
        // Each copy's name has up to 4 more bytes (" 999").
        let text: usize = thread.steps.iter().map(|step| step.get_ref().len()).sum();
        copied = copied.saturating_add(n.saturating_mul(name.len() + 4 + text));
        if copied > MAX_COPIED {
            let message = format!(
                "scenario is too big (at most {} MiB of thread names and steps, \
                 counting each copy made by count)",
                MAX_COPIED >> 20
            );
            return Err(src.error(&name_span, message));
        }
        let copies = match thread.count {
            None => vec![name.clone()],
            Some(_) => (0..n).map(|i| format!("{name} {i}")).collect(),
        };
        for copy in &copies {
            if let Some(line) = first_seen.get(copy) {
                let message = format!(
                    "duplicate thread name {} (first at line {line})",
                    Quoted(copy)
                );
                return Err(src.error(&name_span, message));
            }
            first_seen.insert(copy.clone(), src.site(&name_span).line);
        }
        let steps = program(src, &names, &thread.steps)?;
        templates.push(Template {
            name: name.clone(),
            names: copies,
            site,
            steps,
        });
    }
    let programs = templates.iter().map(|t| (t.name.as_str(), &t.steps[..]));
    validate::check(locks, programs)?;
    let joins = templates
        .iter()
        .flat_map(|t| t.names.iter().map(|n| (n.as_str(), &t.steps[..])));
    validate::joins(joins)?;
    let threads = templates.into_iter().flat_map(|template| {
        let Template {
            names, site, steps, ..
        } = template;
        names.into_iter().map(move |name| ThreadDecl {
            name,
            steps: steps.clone(),
            site,
        })
    });
    Ok(threads.collect())
}

/// Every thread's name after `count` copies, for `join` steps to look up
/// (checked for size and duplicates by [`threads`]; stops past its limits on
/// threads and copied bytes, where [`threads`] fails anyway).
fn thread_names(raw: &[Spanned<RawThread>]) -> Vec<String> {
    let mut names = Vec::new();
    let mut bytes = 0usize;
    for table in raw {
        let thread = table.get_ref();
        let name = thread.name.get_ref();
        let n = thread.count.as_ref().map_or(1, |count| {
            usize::try_from(*count.get_ref()).unwrap_or(usize::MAX)
        });
        bytes = bytes.saturating_add(n.saturating_mul(name.len() + 4));
        if n > MAX_THREADS - names.len().min(MAX_THREADS) || bytes > MAX_COPIED {
            break;
        }
        match &thread.count {
            None => names.push(name.clone()),
            Some(_) => names.extend((0..n).map(|i| format!("{name} {i}"))),
        }
    }
    names
}

/// A `repeat N` whose `end` has not been seen yet.
struct Open {
    times: u32,
    step: Spanned<String>,
    body: Vec<Step>,
}

/// Parses one thread's step strings into a tree of steps.
fn program(
    src: &Source<'_>,
    names: &Names<'_>,
    raw: &[Spanned<String>],
) -> Result<Vec<Step>, ScenarioError> {
    let mut root = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    for step in raw {
        let (text, span) = (step.get_ref(), step.span());
        match parse_step(text, names).map_err(|message| src.error(&span, message))? {
            Parsed::Op(op) => {
                let body = open.last_mut().map_or(&mut root, |o| &mut o.body);
                body.push(Step {
                    op,
                    site: src.site(&span),
                    text: text.clone(),
                });
            }
            Parsed::Repeat(times) => {
                if open.len() >= MAX_DEPTH {
                    let message =
                        format!("repeat blocks are nested too deeply (at most {MAX_DEPTH})");
                    return Err(src.error(&span, message));
                }
                let (step, body) = (step.clone(), Vec::new());
                open.push(Open { times, step, body });
            }
            Parsed::End => {
                let Some(block) = open.pop() else {
                    return Err(src.error(&span, "\"end\" without \"repeat\""));
                };
                let site = src.site(&block.step.span());
                let body = open.last_mut().map_or(&mut root, |o| &mut o.body);
                body.push(Step {
                    op: Op::Repeat {
                        times: block.times,
                        body: block.body,
                    },
                    site,
                    text: block.step.into_inner(),
                });
            }
        }
    }
    if let Some(block) = open.last() {
        return Err(src.error(&block.step.span(), "\"repeat\" without \"end\""));
    }
    Ok(root)
}
