//! One step string to one operation: verbs, lock and var names, durations, numbers.
//!
//! Errors here are bare messages; the caller prefixes the step's position.

use std::collections::HashMap;
use std::time::Duration;

use super::pos::{Plain, Quoted, name_list};
use super::{LockDecl, MAX_REPEAT, Op, VarDecl};
use crate::event::LockKind;

/// The longest step string accepted, in bytes: name lookup for `wait` is quadratic in it.
pub(super) const MAX_STEP_LEN: usize = 4096;

/// The longest `sleep` or `work`.
const MAX_DURATION: Duration = Duration::from_secs(3600);

/// What one step string says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Parsed {
    /// An operation (never [`Op::Repeat`]).
    Op(Op),
    /// `repeat N`: opens a block.
    Repeat(u32),
    /// `end`: closes the innermost block.
    End,
}

/// Declared names, looked up with whitespace runs collapsed to one space.
pub(super) struct Names<'a> {
    locks: &'a [LockDecl],
    vars: &'a [VarDecl],
    lock_index: HashMap<String, usize>,
    var_index: HashMap<String, usize>,
    /// Every thread's name (after `count` copies) to its index, for `join`.
    thread_index: HashMap<String, usize>,
    thread_names: Vec<String>,
}

/// The key a name is looked up by: words separated by single spaces.
pub(super) fn normalize(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl<'a> Names<'a> {
    /// Indexes the declarations; they must have distinct non-empty normalised names.
    pub fn new(locks: &'a [LockDecl], vars: &'a [VarDecl], threads: Vec<String>) -> Self {
        let index = |names: Vec<&str>| {
            let pairs = names.into_iter().enumerate();
            pairs.map(|(i, name)| (normalize(name), i)).collect()
        };
        Names {
            locks,
            vars,
            lock_index: index(locks.iter().map(|l| l.name.as_str()).collect()),
            var_index: index(vars.iter().map(|v| v.name.as_str()).collect()),
            thread_index: index(threads.iter().map(String::as_str).collect()),
            thread_names: threads,
        }
    }

    /// `join NAME`: the index of the thread with that name.
    fn thread(&self, args: &str, step: &str) -> Result<usize, String> {
        if args.is_empty() {
            return Err("\"join\" needs a thread name".to_owned());
        }
        self.thread_index.get(args).copied().ok_or_else(|| {
            let declared = name_list(self.thread_names.iter().map(String::as_str));
            format!(
                "unknown thread {} in step {} (threads: {declared})",
                Quoted(args),
                Quoted(step)
            )
        })
    }

    fn lock(&self, name: &str) -> Option<usize> {
        self.lock_index.get(name).copied()
    }

    fn unknown_lock(&self, name: &str, step: &str) -> String {
        let declared = name_list(self.locks.iter().map(|l| l.name.as_str()));
        format!(
            "unknown lock {} in step {} (declared locks: {declared})",
            Quoted(name),
            Quoted(step)
        )
    }

    /// A declared var's index, or the error message for the step.
    pub fn var(&self, name: &str, step: &str) -> Result<usize, String> {
        self.var_index.get(name).copied().ok_or_else(|| {
            let declared = name_list(self.vars.iter().map(|v| v.name.as_str()));
            format!(
                "unknown var {} in step {} (declared vars: {declared})",
                Quoted(name),
                Quoted(step)
            )
        })
    }

    /// The lock named by `args` (already normalised), checked against `kinds`.
    fn lock_of(
        &self,
        verb: &str,
        args: &str,
        step: &str,
        kinds: &[LockKind],
    ) -> Result<usize, String> {
        if args.is_empty() {
            return Err(format!("{} needs a lock name", Quoted(verb)));
        }
        let index = self
            .lock(args)
            .ok_or_else(|| self.unknown_lock(args, step))?;
        let lock = &self.locks[index];
        if kinds.contains(&lock.kind) {
            return Ok(index);
        }
        let wanted = match kinds {
            [LockKind::RwLock] => "an rwlock",
            [LockKind::Condvar] => "a condvar",
            [LockKind::Channel] => "a channel",
            _ => "a mutex or rwlock",
        };
        Err(format!(
            "{} needs {wanted} but {} is {}",
            Quoted(verb),
            Plain(&lock.name),
            article(lock.kind)
        ))
    }

    /// `wait CV M`: splits `args` into a declared condvar and a declared mutex,
    /// preferring the longest condvar name.
    fn wait(&self, args: &str, step: &str) -> Result<Op, String> {
        const USAGE: &str = "\"wait\" needs a condvar then a held mutex";
        let splits: Vec<usize> = args.match_indices(' ').map(|(i, _)| i).collect();
        if splits.is_empty() {
            return Err(format!("{USAGE}, e.g. \"wait CV M\""));
        }
        let pair = |at: usize| (self.lock(&args[..at]), self.lock(&args[at + 1..]));
        let found = splits.iter().rev().find_map(|&at| match pair(at) {
            (Some(cv), Some(m)) => Some((cv, m)),
            _ => None,
        });
        let Some((condvar, mutex)) = found else {
            // Name the part that is not declared, trying the longest known condvar first.
            let unknown = match splits.iter().rev().find(|&&at| pair(at).0.is_some()) {
                Some(&at) => &args[at + 1..],
                None => match splits.iter().find(|&&at| pair(at).1.is_some()) {
                    Some(&at) => &args[..at],
                    None => args,
                },
            };
            return Err(self.unknown_lock(unknown, step));
        };
        let (cv, m) = (&self.locks[condvar], &self.locks[mutex]);
        if cv.kind != LockKind::Condvar || m.kind != LockKind::Mutex {
            return Err(format!(
                "{USAGE}, but {} is {} and {} is {}",
                Plain(&cv.name),
                article(cv.kind),
                Plain(&m.name),
                article(m.kind)
            ));
        }
        Ok(Op::Wait { condvar, mutex })
    }
}

fn article(kind: LockKind) -> &'static str {
    match kind {
        LockKind::Mutex => "a mutex",
        LockKind::RwLock => "an rwlock",
        LockKind::Condvar => "a condvar",
        LockKind::Channel => "a channel",
        LockKind::Barrier => "a barrier",
    }
}

/// The verbs, for the "unknown step" message.
const VERBS: &str = "lock, read, write, unlock, wait, notify, notify_all, sleep, work, \
                     repeat, end, load, add, store, send, recv, join";

/// Parses one step string.
pub(super) fn parse_step(step: &str, names: &Names<'_>) -> Result<Parsed, String> {
    use LockKind::{Channel, Condvar, Mutex, RwLock};
    if step.len() > MAX_STEP_LEN {
        return Err(format!("step is too long (at most {MAX_STEP_LEN} bytes)"));
    }
    let normalized = normalize(step);
    let (verb, args) = normalized
        .split_once(' ')
        .unwrap_or((normalized.as_str(), ""));
    let lock = |kinds: &[LockKind]| names.lock_of(verb, args, step, kinds);
    let op = match verb.to_ascii_lowercase().as_str() {
        "lock" => {
            let index = lock(&[Mutex, RwLock])?;
            match names.locks[index].kind {
                RwLock => Op::Write(index),
                _ => Op::Lock(index),
            }
        }
        "read" => Op::Read(lock(&[RwLock])?),
        "write" => Op::Write(lock(&[RwLock])?),
        "unlock" => Op::Unlock(lock(&[Mutex, RwLock])?),
        "wait" => names.wait(args, step)?,
        "notify" => Op::Notify(lock(&[Condvar])?),
        "notify_all" | "notify-all" => Op::NotifyAll(lock(&[Condvar])?),
        "sleep" => Op::Sleep(parse_duration(args)?),
        "work" => Op::Work(parse_duration(args)?),
        "load" => Op::Load(names.var(args, step)?),
        "store" => Op::Store(names.var(args, step)?),
        "add" => Op::Add(parse_add(args)?),
        "send" => Op::Send(lock(&[Channel])?),
        "recv" => Op::Recv(lock(&[Channel])?),
        "join" => Op::Join(names.thread(args, step)?),
        "repeat" => return parse_repeat(args).map(Parsed::Repeat),
        "end" if args.is_empty() => return Ok(Parsed::End),
        "end" => return Err(format!("\"end\" takes nothing, found {}", Quoted(args))),
        "" => return Err("empty step".to_owned()),
        _ => return Err(format!("unknown step {} (expected {VERBS})", Quoted(step))),
    };
    Ok(Parsed::Op(op))
}

fn parse_add(args: &str) -> Result<i64, String> {
    let digits = args.strip_prefix('+').unwrap_or(args);
    digits.parse().map_err(|_| {
        format!(
            "bad number {} for \"add\" (expected a whole number from {} to {})",
            Quoted(args),
            i64::MIN,
            i64::MAX
        )
    })
}

fn parse_repeat(args: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "bad repeat count {} (expected a whole number from 1 to {MAX_REPEAT})",
            Quoted(args)
        )
    };
    if args.is_empty() || !args.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match args.parse::<u32>() {
        Ok(times) if (1..=MAX_REPEAT).contains(&times) => Ok(times),
        _ => Err(bad()),
    }
}

/// Parses `10ms`, `1.5 ms`, `250us`, `250µs`, `3ns`, `2s`: a decimal number and a unit.
///
/// Digits beyond nanosecond precision are dropped.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "bad duration {} (expected a number with ns, us, ms or s, like 10ms or 1.5s)",
            Quoted(text)
        )
    };
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_len);
    let unit_ns: u128 = match unit.trim_start() {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => return Err(bad()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return Err(bad());
    }
    let too_long = || {
        format!(
            "duration {} is too long (at most {}s)",
            Quoted(text),
            MAX_DURATION.as_secs()
        )
    };
    // Leading zeros are harmless; anything else past 20 digits is far over the limit.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 20 {
        return Err(too_long());
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    // Nine fraction digits are below a nanosecond for every unit; the rest cannot matter.
    let fraction = &fraction[..fraction.len().min(9)];
    let scale = 10u128.pow(u32::try_from(fraction.len()).unwrap_or(9));
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| bad())?
    };
    let nanos = whole * unit_ns + fraction * unit_ns / scale;
    if nanos > MAX_DURATION.as_nanos() {
        return Err(too_long());
    }
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| too_long())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: f64) -> Duration {
        Duration::from_secs_f64(n / 1000.0)
    }

    #[test]
    fn durations_take_every_unit_and_decimals() {
        let ok = |t: &str| parse_duration(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(ok("10ms"), ms(10.0));
        assert_eq!(ok("10 ms"), ms(10.0));
        assert_eq!(ok("1.5ms"), ms(1.5));
        assert_eq!(ok(".5s"), ms(500.0));
        assert_eq!(ok("2.ms"), ms(2.0));
        assert_eq!(ok("2.s"), Duration::from_secs(2));
        assert_eq!(ok("250us"), Duration::from_micros(250));
        assert_eq!(ok("250µs"), Duration::from_micros(250));
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("0ms"), Duration::ZERO);
        assert_eq!(ok("0001s"), Duration::from_secs(1));
        assert_eq!(ok("1.0000000019s"), Duration::from_nanos(1_000_000_001));
        assert_eq!(ok("3600s"), Duration::from_secs(3600));
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for text in [
            "10 parsecs",
            "10",
            "ms",
            ".ms",
            "1.2.3ms",
            "-1ms",
            "1e3ms",
            "",
            "10msx",
        ] {
            let err = parse_duration(text).err().unwrap_or_default();
            let want = format!("bad duration {text:?} (expected a number with ns, us, ms or s");
            assert!(err.starts_with(&want), "{text}: {err}");
        }
        for text in [
            "3601s",
            "99999999999999999999999999999999999s",
            "1000000000ms",
        ] {
            let err = parse_duration(text).err().unwrap_or_default();
            assert!(err.contains("is too long (at most 3600s)"), "{text}: {err}");
        }
    }

    #[test]
    fn repeat_counts_are_bounded() {
        assert_eq!(parse_repeat("5"), Ok(5));
        assert_eq!(parse_repeat("1000000"), Ok(MAX_REPEAT));
        for bad in [
            "0",
            "1000001",
            "-1",
            "+3",
            "x",
            "",
            "99999999999999999999999",
        ] {
            assert!(parse_repeat(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn add_takes_signed_numbers() {
        assert_eq!(parse_add("1"), Ok(1));
        assert_eq!(parse_add("+2"), Ok(2));
        assert_eq!(parse_add("-3"), Ok(-3));
        assert_eq!(parse_add("-9223372036854775808"), Ok(i64::MIN));
        assert!(parse_add("9223372036854775808").is_err());
        assert!(parse_add("one").is_err());
        assert!(parse_add("").is_err());
    }
}
