//! Chrome Trace Event JSON, as Perfetto UI and `chrome://tracing` open it.
//!
//! Process 1 ("threads") has one track per thread: a complete (`X`) slice for
//! every blocked request and condvar wait, instants for failed `try_*` calls,
//! notifications and panics. Process 2 ("locks") has one track per lock with
//! a slice per hold, named after the holder; shared holds that overlap take
//! extra tracks of the lock (`"L" (shared 2)`), so no track has overlapping
//! slices. A flow arrow (`s` → `f`) goes from the thread that released a lock
//! to the next thread that acquired it, each end bound to a zero-length
//! `release`/`acquire` slice on the thread's track. Each deadlock is a global
//! instant (`i`, `s: "g"`), each potential deadlock a process instant.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use super::Names;
use crate::event::{Blocker, Event, EventKind, LockId, LockKind, Mode, Nanos, Site, ThreadId};
use crate::model::{Model, format_deadlock};
use crate::trace::Trace;

const THREADS_PID: u32 = 1;
const LOCKS_PID: u32 = 2;
/// The most tracks one lock's overlapping shared holds spread over.
const MAX_LANES: usize = 64;

/// A timeline: a thread's, or one lane of a lock's.
///
/// Perfetto keys threads by tid alone across processes, so every track gets a
/// tid of its own (1 and 2 stand for the processes themselves), assigned in
/// order of first use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Track {
    Thread(ThreadId),
    Lock(LockId, usize),
}

const FIRST_TRACK_TID: u64 = 3;

/// Writes `trace` as Chrome Trace Event JSON (the JSON object format, with
/// `traceEvents` and `displayTimeUnit`); timestamps are microseconds.
///
/// # Errors
///
/// Any error of `out`.
///
/// # Examples
///
/// ```
/// use lockscope::event::{Event, EventKind, ThreadId};
/// use lockscope::trace::{Header, Trace, export};
///
/// let start = Event { time: 1500, thread: ThreadId(0), kind: EventKind::ThreadStart { name: "main".into() } };
/// let trace = Trace { header: Header::new("doc"), events: vec![start], damage: None, complete: true };
/// let mut out = Vec::new();
/// export::chrome(&trace, &mut out).unwrap();
/// let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
/// let names: Vec<_> = json["traceEvents"].as_array().unwrap().iter()
///     .filter(|e| e["name"] == "thread_name").map(|e| e["args"]["name"].clone()).collect();
/// assert!(names.contains(&"main".into()));
/// ```
pub fn chrome(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let other = json!({
        "program": trace.header.program,
        "started_unix_ns": trace.header.started_unix_ns,
        "format_version": trace.header.version,
        "writer": trace.header.writer,
        "events": trace.events.len(),
    });
    write!(out, "{{\"displayTimeUnit\":\"ns\",\"otherData\":")?;
    crate::model::to_json_writer(&mut out, &other)?;
    writeln!(out, ",\"traceEvents\":[")?;
    let mut export = Export {
        out: Emitter {
            out: &mut out,
            first: true,
        },
        names: Names::default(),
        model: Model::new(),
        tids: HashMap::new(),
        waits: HashMap::new(),
        blocks: HashMap::new(),
        holds: HashMap::new(),
        lanes: HashMap::new(),
        released: HashMap::new(),
        next_flow: 1,
    };
    for event in &trace.events {
        export.event(event)?;
    }
    export.finish()?;
    write!(out, "\n]}}\n")?;
    out.flush()
}

/// One trace event. Optional fields are left out when `None`.
#[derive(Serialize)]
struct ChromeEvent<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    cat: &'static str,
    ph: &'static str,
    ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    pid: u32,
    tid: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bp: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(skip_serializing_if = "Value::is_null")]
    args: Value,
}

impl<'a> ChromeEvent<'a> {
    fn new(ph: &'static str, name: &'a str, ts: Nanos, pid: u32, tid: u64) -> Self {
        ChromeEvent {
            name,
            cat: "",
            ph,
            ts: micros(ts),
            dur: None,
            pid,
            tid,
            id: None,
            bp: None,
            s: None,
            args: Value::Null,
        }
    }

    /// A complete slice from `start` to `end` (clamped to zero length).
    fn slice(
        name: &'a str,
        cat: &'static str,
        start: Nanos,
        end: Nanos,
        pid: u32,
        tid: u64,
    ) -> Self {
        ChromeEvent {
            cat,
            dur: Some(micros(end.saturating_sub(start))),
            ..ChromeEvent::new("X", name, start, pid, tid)
        }
    }

    fn args(self, args: Value) -> Self {
        ChromeEvent { args, ..self }
    }
}

fn micros(ns: Nanos) -> f64 {
    ns as f64 / 1000.0
}

/// Writes comma-separated events, one per line.
struct Emitter<'w, W: Write> {
    out: &'w mut W,
    first: bool,
}

impl<W: Write> Emitter<'_, W> {
    fn emit(&mut self, event: &ChromeEvent<'_>) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        crate::model::to_json_writer(&mut *self.out, event).map_err(io::Error::from)
    }
}

/// A blocked request or condvar wait in progress.
struct Wait {
    since: Nanos,
    /// The lock requested, or the condvar waited on.
    on: LockId,
    mode: Mode,
    site: Site,
    cond: bool,
}

/// A hold in progress.
struct Hold {
    since: Nanos,
    lane: usize,
    mode: Mode,
    site: Site,
}

struct Export<'w, W: Write> {
    out: Emitter<'w, W>,
    names: Names,
    model: Model,
    /// Every track used so far, with its tid.
    tids: HashMap<Track, u64>,
    waits: HashMap<ThreadId, Wait>,
    /// Joins in progress: since when, which thread, where.
    blocks: HashMap<ThreadId, (Nanos, Blocker, Site)>,
    holds: HashMap<(LockId, ThreadId), Vec<Hold>>,
    /// Per lock, which of its tracks are busy.
    lanes: HashMap<LockId, Vec<bool>>,
    /// Per lock, its last release not yet followed by an acquisition.
    released: HashMap<LockId, (ThreadId, Nanos)>,
    next_flow: u64,
}

impl<W: Write> Export<'_, W> {
    fn event(&mut self, ev: &Event) -> io::Result<()> {
        self.names.learn(ev);
        let t = ev.time;
        let tid = self.tid(Track::Thread(ev.thread));
        match &ev.kind {
            EventKind::Request {
                lock, mode, site, ..
            } => {
                let wait = Wait {
                    since: t,
                    on: *lock,
                    mode: *mode,
                    site: *site,
                    cond: false,
                };
                self.waits.insert(ev.thread, wait);
            }
            EventKind::Acquired {
                lock, mode, site, ..
            } => {
                self.end_wait(ev.thread, *lock, t, "acquired")?;
                self.acquire(ev.thread, *lock, *mode, *site, t)?;
            }
            EventKind::TimedOut { lock, .. } => self.end_wait(ev.thread, *lock, t, "timed_out")?,
            EventKind::Released { lock, mode, .. } => self.release(ev.thread, *lock, *mode, t)?,
            EventKind::CondWait {
                condvar,
                mutex,
                site,
                ..
            } => {
                self.release(ev.thread, *mutex, Mode::Exclusive, t)?;
                let wait = Wait {
                    since: t,
                    on: *condvar,
                    mode: Mode::Exclusive,
                    site: *site,
                    cond: true,
                };
                self.waits.insert(ev.thread, wait);
            }
            EventKind::CondWake {
                condvar,
                mutex,
                timed_out,
                ..
            } => {
                let outcome = if *timed_out { "timed_out" } else { "notified" };
                self.end_wait(ev.thread, *condvar, t, outcome)?;
                self.acquire(ev.thread, *mutex, Mode::Exclusive, Site::UNKNOWN, t)?;
            }
            EventKind::TryFailed { lock, mode, site } => {
                let name = format!("try {} failed", self.names.lock(*lock));
                let args = json!({"lock": self.names.lock(*lock), "mode": mode, "site": site});
                self.instant(&name, t, tid, args)?;
            }
            EventKind::Notify {
                condvar,
                all,
                woken,
                site,
            } => {
                let name = format!("notify {}", self.names.lock(*condvar));
                let args = json!({"condvar": self.names.lock(*condvar), "all": all, "woken": woken, "site": site});
                self.instant(&name, t, tid, args)?;
            }
            EventKind::ThreadPanic { message } => {
                self.instant("panic", t, tid, json!({ "message": message }))?;
            }
            EventKind::ThreadExit => self.instant("exit", t, tid, Value::Null)?,
            EventKind::LockCreated { lock, kind, .. } if *kind != LockKind::Condvar => {
                self.lanes.entry(*lock).or_insert_with(|| vec![false]);
                self.tid(Track::Lock(*lock, 0));
            }
            EventKind::ThreadStart { .. }
            | EventKind::LockCreated { .. }
            | EventKind::Handle { .. }
            | EventKind::ChannelWake { .. }
            | EventKind::BarrierTrip { .. } => {}
            EventKind::Block { on, site, .. } => {
                self.blocks.insert(ev.thread, (t, *on, *site));
            }
            EventKind::Unblock { on, .. } => {
                if let Some((since, b, site)) = self.blocks.remove(&ev.thread)
                    && b == *on
                {
                    let (name, args) = match b {
                        Blocker::Join(target) => {
                            let target = self.names.thread(target);
                            (
                                format!("join {target}"),
                                json!({"thread": target, "site": site}),
                            )
                        }
                        Blocker::Recv(c) | Blocker::Send(c) => {
                            let channel = self.names.lock(c);
                            let name = format!("{} {channel}", b.name());
                            (name, json!({"channel": channel, "site": site}))
                        }
                        Blocker::Barrier { barrier, parties } => {
                            let barrier = self.names.lock(barrier);
                            let name = format!("barrier {barrier}");
                            let args =
                                json!({"barrier": barrier, "parties": parties, "site": site});
                            (name, args)
                        }
                    };
                    let slice = ChromeEvent::slice(&name, b.name(), since, t, THREADS_PID, tid);
                    self.out.emit(&slice.args(args))?;
                }
            }
        }
        self.analyse(ev)
    }

    /// Runs the model to find the deadlocks and potential deadlocks this event closes.
    fn analyse(&mut self, ev: &Event) -> io::Result<()> {
        let change = self.model.apply(ev);
        if change.deadlock
            && let Some(d) = self.model.deadlocks().last()
        {
            let mut cycle: Vec<String> = d
                .threads()
                .map(|t| self.model.thread_name(t).to_owned())
                .collect();
            let locks: Vec<String> = d
                .locks()
                .map(|l| self.model.lock_name(l).to_owned())
                .collect();
            let threads = cycle.clone();
            cycle.extend(cycle.first().cloned());
            let name = format!("deadlock: {}", cycle.join(" -> "));
            let args = json!({
                "threads": threads,
                "locks": locks,
                "report": format_deadlock(&self.model, d),
            });
            let event = ChromeEvent {
                s: Some("g"),
                cat: "deadlock",
                ..ChromeEvent::new("i", &name, d.detected_at, THREADS_PID, THREADS_PID.into())
            };
            self.out.emit(&event.args(args))?;
        }
        if change.potential
            && let Some(p) = self.model.potential_deadlocks().last()
        {
            let mut cycle: Vec<String> = p
                .locks()
                .map(|l| self.model.lock_name(l).to_owned())
                .collect();
            cycle.extend(cycle.first().cloned());
            let name = format!("potential deadlock: {}", cycle.join(" -> "));
            let event = ChromeEvent {
                s: Some("p"),
                cat: "potential_deadlock",
                ..ChromeEvent::new("i", &name, p.detected_at, THREADS_PID, THREADS_PID.into())
            };
            self.out.emit(&event.args(json!({ "locks": cycle })))?;
        }
        Ok(())
    }

    /// The tid of `track`, assigned on first use.
    fn tid(&mut self, track: Track) -> u64 {
        let next = FIRST_TRACK_TID + self.tids.len() as u64;
        *self.tids.entry(track).or_insert(next)
    }

    fn instant(&mut self, name: &str, t: Nanos, tid: u64, args: Value) -> io::Result<()> {
        let event = ChromeEvent {
            s: Some("t"),
            ..ChromeEvent::new("i", name, t, THREADS_PID, tid)
        };
        self.out.emit(&event.args(args))
    }

    /// Ends `thread`'s wait for `on` (a lock or condvar), if it has one.
    fn end_wait(
        &mut self,
        thread: ThreadId,
        on: LockId,
        t: Nanos,
        outcome: &str,
    ) -> io::Result<()> {
        if self.waits.get(&thread).is_none_or(|w| w.on != on) {
            return Ok(());
        }
        if let Some(wait) = self.waits.remove(&thread) {
            self.wait_slice(thread, &wait, t, json!(outcome))?;
        }
        Ok(())
    }

    fn wait_slice(
        &mut self,
        thread: ThreadId,
        wait: &Wait,
        end: Nanos,
        outcome: Value,
    ) -> io::Result<()> {
        let on = self.names.lock(wait.on);
        let (name, cat) = if wait.cond {
            (format!("wait on {on}"), "cond_wait")
        } else {
            (format!("wait for {on}"), "wait")
        };
        let args = json!({"lock": on, "mode": wait.mode, "site": wait.site, "outcome": outcome});
        let tid = self.tid(Track::Thread(thread));
        let slice = ChromeEvent::slice(&name, cat, wait.since, end, THREADS_PID, tid);
        self.out.emit(&slice.args(args))
    }

    fn acquire(
        &mut self,
        thread: ThreadId,
        lock: LockId,
        mode: Mode,
        site: Site,
        t: Nanos,
    ) -> io::Result<()> {
        let lanes = self.lanes.entry(lock).or_insert_with(|| vec![false]);
        let lane = match lanes.iter().position(|busy| !busy) {
            Some(free) => free,
            None if lanes.len() < MAX_LANES => {
                lanes.push(false);
                lanes.len() - 1
            }
            None => lanes.len() - 1,
        };
        lanes[lane] = true;
        self.holds.entry((lock, thread)).or_default().push(Hold {
            since: t,
            lane,
            mode,
            site,
        });
        if let Some((from, released_at)) = self.released.remove(&lock)
            && from != thread
        {
            self.flow(lock, from, released_at, thread, t)?;
        }
        Ok(())
    }

    fn release(&mut self, thread: ThreadId, lock: LockId, mode: Mode, t: Nanos) -> io::Result<()> {
        self.released.insert(lock, (thread, t));
        let Some(stack) = self.holds.get_mut(&(lock, thread)) else {
            return Ok(());
        };
        let Some(pos) = stack
            .iter()
            .rposition(|h| h.mode == mode)
            .or(stack.len().checked_sub(1))
        else {
            return Ok(());
        };
        let hold = stack.remove(pos);
        self.hold_slice(thread, lock, &hold, t, false)
    }

    fn hold_slice(
        &mut self,
        thread: ThreadId,
        lock: LockId,
        hold: &Hold,
        end: Nanos,
        unfinished: bool,
    ) -> io::Result<()> {
        if let Some(busy) = self.lanes.get_mut(&lock).and_then(|l| l.get_mut(hold.lane)) {
            *busy = false;
        }
        let holder = self.names.thread(thread);
        let name = match hold.mode {
            Mode::Exclusive => holder.to_string(),
            Mode::Shared => format!("{holder} (read)"),
            Mode::Upgradable => format!("{holder} (upgradable read)"),
        };
        let mut args = json!({"thread": holder, "mode": hold.mode, "site": hold.site});
        if unfinished {
            args["unfinished"] = json!(true);
        }
        let tid = self.tid(Track::Lock(lock, hold.lane));
        let slice = ChromeEvent::slice(&name, "hold", hold.since, end, LOCKS_PID, tid);
        self.out.emit(&slice.args(args))
    }

    /// An arrow from `from`'s release of `lock` to `to`'s acquisition.
    fn flow(
        &mut self,
        lock: LockId,
        from: ThreadId,
        released: Nanos,
        to: ThreadId,
        acquired: Nanos,
    ) -> io::Result<()> {
        let id = self.next_flow;
        self.next_flow += 1;
        let name = self.names.lock(lock).into_owned();
        // A clock that disagrees across cores must not make the arrow go back.
        let acquired = acquired.max(released);
        let (from, to) = (self.tid(Track::Thread(from)), self.tid(Track::Thread(to)));
        let release = format!("release {name}");
        let acquire = format!("acquire {name}");
        self.out.emit(&ChromeEvent::slice(
            &release,
            "handoff",
            released,
            released,
            THREADS_PID,
            from,
        ))?;
        self.out.emit(&ChromeEvent {
            cat: "handoff",
            id: Some(id),
            ..ChromeEvent::new("s", &name, released, THREADS_PID, from)
        })?;
        self.out.emit(&ChromeEvent::slice(
            &acquire,
            "handoff",
            acquired,
            acquired,
            THREADS_PID,
            to,
        ))?;
        self.out.emit(&ChromeEvent {
            cat: "handoff",
            id: Some(id),
            bp: Some("e"),
            ..ChromeEvent::new("f", &name, acquired, THREADS_PID, to)
        })
    }

    /// Closes what is still open at the end (a deadlock's waits and holds)
    /// and names every track.
    fn finish(&mut self) -> io::Result<()> {
        let end = self.model.last_time();
        let mut waits: Vec<(ThreadId, Wait)> = self.waits.drain().collect();
        waits.sort_by_key(|(t, _)| *t);
        for (thread, wait) in waits {
            self.wait_slice(thread, &wait, end, json!("unfinished"))?;
        }
        let mut holds: Vec<((LockId, ThreadId), Vec<Hold>)> = self.holds.drain().collect();
        holds.sort_by_key(|(key, _)| *key);
        for ((lock, thread), stack) in holds {
            for hold in stack {
                self.hold_slice(thread, lock, &hold, end, true)?;
            }
        }
        for (pid, name) in [(THREADS_PID, "threads"), (LOCKS_PID, "locks")] {
            let tid = u64::from(pid);
            self.metadata("process_name", pid, tid, json!({ "name": name }))?;
            self.metadata("process_sort_index", pid, tid, json!({ "sort_index": pid }))?;
        }
        let mut tracks: Vec<(Track, u64)> = self.tids.iter().map(|(k, v)| (*k, *v)).collect();
        tracks.sort_unstable();
        for (rank, (track, tid)) in tracks.into_iter().enumerate() {
            let (pid, name) = match track {
                Track::Thread(thread) => (THREADS_PID, self.names.thread(thread).into_owned()),
                Track::Lock(lock, 0) => (LOCKS_PID, self.names.lock(lock).into_owned()),
                Track::Lock(lock, lane) => {
                    let name = format!("{} (shared {})", self.names.lock(lock), lane + 1);
                    (LOCKS_PID, name)
                }
            };
            self.metadata("thread_name", pid, tid, json!({ "name": name }))?;
            self.metadata("thread_sort_index", pid, tid, json!({ "sort_index": rank }))?;
        }
        Ok(())
    }

    fn metadata(&mut self, name: &str, pid: u32, tid: u64, args: Value) -> io::Result<()> {
        let event = ChromeEvent::new("M", name, 0, pid, tid).args(args);
        self.out.emit(&ChromeEvent { ts: 0.0, ..event })
    }
}
