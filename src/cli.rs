//! The command line: `lockscope [run SCENARIO|FILE] [--headless] [--json]
//! [--timeout DURATION]` and `lockscope list`.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use std::path::{Path, PathBuf};

use crate::launch::{self, StepStart};
use crate::model;

mod outfile;
use crate::render::{self, DemoOptions};
use crate::scenario::{
    self, ExploreOptions, Found, Outcome, RunOptions, RunReport, Scenario, Schedule,
};
use crate::trace::{self, Trace};
use crate::tui::{ColorChoice, RunState, ViewerOptions, color_enabled};
use crate::{ExitStatus, Session};
use std::io::IsTerminal;

/// The scenario `lockscope` runs with no arguments.
pub const DEFAULT_SCENARIO: &str = "philosophers";

/// lockscope: watch threads and locks, and catch deadlocks the moment they close.
#[derive(Debug, Parser)]
#[command(name = "lockscope", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Colour in the viewer: auto (off when NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t, global = true)]
    color: ColorChoice,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in scenarios.
    List,
    /// Run a built-in scenario or a scenario file.
    Run(RunArgs),
    /// Open a recorded trace: the viewer on a terminal, or the report.
    Replay(ReplayArgs),
    /// Convert a recorded trace for other tools.
    Export(ExportArgs),
    /// Search a scenario's interleavings for a deadlock (or a failed
    /// `[expect]`), and write the shortest schedule that shows it.
    Explore(ExploreArgs),
    /// Render a demo of the viewer to an animated GIF and/or an asciicast,
    /// deterministically (simulated threads, virtual clock).
    Demo(DemoArgs),
}

#[derive(Debug, clap::Args)]
struct ExploreArgs {
    /// A built-in scenario name or a path to a .toml file.
    scenario: String,
    /// Stop after this many schedules.
    #[arg(long, default_value_t = 10_000_000)]
    max_schedules: u64,
    /// Stop after this many distinct states (bounds memory).
    #[arg(long, default_value_t = 2_000_000)]
    max_states: usize,
    /// Only deadlocks whose cycle involves these locks, e.g. "A,B": makes a
    /// potential deadlock (a lock-order cycle) real, if it can be.
    #[arg(long, value_delimiter = ',', value_name = "LOCKS")]
    locks: Option<Vec<String>>,
    /// Where to write the schedule found (default: SCENARIO.schedule).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Search every interleaving without the partial-order reduction.
    #[arg(long)]
    no_reduction: bool,
    /// Stop searching after this long, e.g. 30s (default: no limit); like the
    /// other bounds, says what was found so far and that the search is
    /// incomplete.
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Write an animated GIF here.
    #[arg(long, value_name = "FILE")]
    gif: Option<PathBuf>,
    /// Write an asciicast v2 recording here (`asciinema play FILE`).
    #[arg(long, value_name = "FILE")]
    cast: Option<PathBuf>,
    /// The scenario to show (built-in name or file).
    #[arg(long, default_value = DEFAULT_SCENARIO)]
    scenario: String,
    /// Terminal size, COLSxROWS.
    #[arg(long, default_value = "100x30", value_parser = parse_size)]
    size: (u16, u16),
    /// Length in seconds.
    #[arg(long, default_value_t = render::DEFAULT_SECONDS)]
    seconds: f64,
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// A trace file written by `run --record` or `LOCKSCOPE_RECORD`.
    file: PathBuf,
    /// Print the report a headless run prints instead of opening the viewer.
    #[arg(long)]
    headless: bool,
    /// Print the report as JSON (implies --headless).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// A trace file written by `run --record` or `LOCKSCOPE_RECORD`.
    file: PathBuf,
    /// chrome: Chrome Trace Event JSON (Perfetto, chrome://tracing);
    /// jsonl: one event per line; text: a readable log.
    #[arg(long, value_enum, default_value = "chrome")]
    format: ExportFormat,
    /// Where to write (default: stdout).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ExportFormat {
    Chrome,
    Jsonl,
    Text,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// A built-in scenario name (see `lockscope list`) or a path to a .toml file.
    scenario: String,
    /// Print a report instead of opening the viewer (the default when stdout
    /// is not a terminal).
    #[arg(long)]
    headless: bool,
    /// Print the report as JSON (implies --headless).
    #[arg(long)]
    json: bool,
    /// Give up after this long (exit status 4), e.g. 500ms, 10s.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    timeout: Duration,
    /// Record every event to this trace file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Open the viewer in step mode: every thread stops before its next lock
    /// operation and you choose which one moves (also the `s` key).
    #[arg(long)]
    step: bool,
    /// Replay a schedule (from `lockscope explore`) on the real threads, one
    /// lock operation at a time in its order, then let them run free; in the
    /// viewer, step through it with `n`.
    #[arg(long, value_name = "FILE")]
    schedule: Option<PathBuf>,
}

/// Parses the command line and runs it. Returns the process exit status.
///
/// # Errors
///
/// Bad input (an unreadable or invalid scenario) is an error; the caller
/// prints it and exits with status 2.
pub fn main(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return Ok(if err.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Finished
            }
            .into());
        }
    };
    match cli.command {
        None => run(
            RunArgs {
                scenario: DEFAULT_SCENARIO.into(),
                headless: false,
                json: false,
                timeout: Duration::from_secs(60),
                record: None,
                schedule: None,
                step: false,
            },
            cli.color,
        ),
        Some(Command::List) => list(),
        Some(Command::Run(args)) => run(args, cli.color),
        Some(Command::Replay(args)) => replay(args, cli.color),
        Some(Command::Export(args)) => export(args),
        Some(Command::Demo(args)) => demo(args, cli.color),
        Some(Command::Explore(args)) => explore(args),
    }
}

fn list() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let written = scenario::builtins().iter().try_for_each(|builtin| {
        let description = builtin
            .scenario()
            .map(|s| s.description)
            .unwrap_or_else(|err| format!("(does not load: {err})"));
        writeln!(out, "{:<22} {}", builtin.name, description)
    });
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs, color: ColorChoice) -> anyhow::Result<ExitCode> {
    // As for a program under `lockscope::init()`.
    let stall_grace = crate::launch::stall_grace_from_env()?;
    let scenario = Scenario::load(&args.scenario)?;
    let schedule = match &args.schedule {
        Some(path) => Some(Schedule::read(path)?),
        None => None,
    };
    if !args.headless && !args.json && std::io::stdout().is_terminal() {
        let options = ViewerOptions::new(scenario.name.clone(), color_enabled(color));
        // A schedule in the viewer is stepped through with `n`.
        let mut step = match &schedule {
            Some(schedule) => {
                let threads = scenario::validate(schedule, &scenario)?;
                let plan = threads
                    .iter()
                    .map(|&t| scenario.threads[t].name.clone())
                    .collect();
                Some(StepStart { plan, auto: false })
            }
            None => args.step.then(StepStart::default),
        };
        loop {
            let mut builder = Session::builder().name(scenario.name.clone());
            if let Some(path) = &args.record {
                builder = builder.record(path);
            }
            if let Some(grace) = stall_grace {
                builder = builder.stall_grace(grace);
            }
            let end = launch::watch_scenario(&scenario, builder, &options, step.take())?;
            match end.restart {
                // Step mode's `b`: a fresh run, replaying all but the last step.
                Some(plan) => step = Some(StepStart { plan, auto: true }),
                None => {
                    // The report stays on the restored terminal, as headless prints it.
                    for report in &end.reports {
                        eprintln!("{report}");
                    }
                    // The same status as headless for the same outcome.
                    let failed = end.expectations.iter().any(|e| !e.held());
                    return Ok(match end.state {
                        RunState::Deadlocked => ExitStatus::Deadlock,
                        RunState::Finished if failed => ExitStatus::ExpectationFailed,
                        RunState::Finished => ExitStatus::Finished,
                        RunState::TimedOut => ExitStatus::Timeout,
                        RunState::Running if end.stalled => ExitStatus::Stall,
                        // Quit while its threads still ran, as for a program.
                        RunState::Running => ExitStatus::Interrupted,
                    }
                    .into());
                }
            }
        }
    }
    let options = RunOptions {
        timeout: Some(args.timeout),
        record: args.record.clone(),
        stall_grace,
    };
    let report = match &schedule {
        Some(schedule) => scenario::replay(&scenario, schedule, &options)?,
        None => scenario::run(&scenario, &options)?,
    };
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        model::to_json_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write_text(&mut out, &report)
    };
    finish_output(written.and_then(|()| out.flush()))?;
    if let Some(path) = &args.record {
        eprintln!(
            "lockscope: recorded {} events to {}",
            report.summary.events,
            shown(path)
        );
    }
    Ok(report.exit_status().into())
}

/// A reader that stopped reading (`| head`) is not an error: the exit status
/// still tells how the run ended. Any other write error is.
fn finish_output(written: std::io::Result<()>) -> anyhow::Result<()> {
    match written {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("standard output: cannot write: {err}"))
        }
        _ => Ok(()),
    }
}

/// A file name for a message: no escape sequence or bidi override raw.
fn shown(path: &Path) -> String {
    model::sanitize(&path.display().to_string())
}

/// Reads a trace, saying on stderr what a damaged tail cost.
fn load_trace(file: &Path) -> anyhow::Result<Trace> {
    let trace = trace::read(file)?;
    if let Some(damage) = &trace.damage {
        eprintln!(
            "lockscope: {}: read {} events; {damage}",
            shown(file),
            trace.events.len()
        );
    }
    Ok(trace)
}

fn replay(args: ReplayArgs, color: ColorChoice) -> anyhow::Result<ExitCode> {
    let trace = load_trace(&args.file)?;
    if !args.headless && !args.json && std::io::stdout().is_terminal() {
        let title = format!("replay of {}", trace.header.program);
        let options = ViewerOptions::new(title, color_enabled(color));
        launch::watch_trace(trace.events, &options)?;
        return Ok(ExitCode::SUCCESS);
    }
    let summary = trace::replay_summary(&trace);
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        model::to_json_writer_pretty(&mut out, &summary)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        writeln!(out, "{}", model::format_summary(&summary))
    };
    finish_output(written.and_then(|()| out.flush()))?;
    // The same status a live run would have ended with.
    Ok(if !summary.deadlocks.is_empty() {
        ExitStatus::Deadlock
    } else if !summary.stalls.is_empty() {
        ExitStatus::Stall
    } else {
        ExitStatus::Finished
    }
    .into())
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let trace = load_trace(&args.file)?;
    let write = |out: &mut dyn Write| match args.format {
        ExportFormat::Chrome => trace::export::chrome(&trace, out),
        ExportFormat::Jsonl => trace::export::jsonl(&trace, out),
        ExportFormat::Text => trace::export::text(&trace, out),
    };
    match &args.output {
        Some(path) => {
            outfile::write_file(path, |out| Ok(write(out)?))?;
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = write(&mut out);
            finish_output(written.and_then(|()| out.flush()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn explore(args: ExploreArgs) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::load(&args.scenario)?;
    let options = ExploreOptions {
        max_schedules: args.max_schedules,
        max_states: args.max_states,
        target_locks: args.locks,
        check_expectations: true,
        reduce: !args.no_reduction,
        timeout: args.timeout,
    };
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let report = scenario::explore(&scenario, &options, &mut |p| {
        if stderr_is_terminal {
            eprint!(
                "\rexploring {}: {} states, {} schedules, depth {}, {:.1}s   ",
                model::sanitize(&scenario.name),
                p.states,
                p.schedules,
                p.depth,
                p.elapsed.as_secs_f64()
            );
        }
    })?;
    if stderr_is_terminal {
        eprintln!();
    }
    let mut out = std::io::stdout().lock();
    let mut written = write!(out, "{}", scenario::format_report(&report, &scenario));
    let schedule = match &report.outcome {
        Found::Deadlock { schedule, .. }
        | Found::ExpectationViolated { schedule, .. }
        | Found::Stuck { schedule, .. } => Some(schedule),
        Found::Exhausted | Found::BoundReached { .. } => None,
    };
    if let Some(schedule) = schedule {
        let path = args
            .out
            .unwrap_or_else(|| PathBuf::from(format!("{}.schedule", scenario.name)));
        // Written whatever became of stdout (`explore abba | head -1`).
        outfile::write_file(&path, |file| {
            Ok(file.write_all(schedule.to_text(&scenario).as_bytes())?)
        })?;
        written = written.and_then(|()| writeln!(out, "schedule written to {}", shown(&path)));
    }
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(match report.outcome {
        Found::Deadlock { .. } => ExitStatus::Deadlock,
        Found::ExpectationViolated { .. } => ExitStatus::ExpectationFailed,
        Found::Stuck { .. } => ExitStatus::Timeout,
        Found::Exhausted | Found::BoundReached { .. } => ExitStatus::Finished,
    }
    .into())
}

fn demo(args: DemoArgs, color: ColorChoice) -> anyhow::Result<ExitCode> {
    if args.gif.is_none() && args.cast.is_none() {
        anyhow::bail!("demo needs --gif FILE and/or --cast FILE");
    }
    let options = DemoOptions {
        scenario: args.scenario,
        cols: args.size.0,
        rows: args.size.1,
        seconds: args.seconds,
        // Not NO_COLOR: the same command must give the same file everywhere.
        color: color != ColorChoice::Never,
    };
    let outputs = [
        (
            args.gif,
            render::render_gif as fn(&DemoOptions, &mut dyn Write) -> _,
        ),
        (args.cast, render::render_cast),
    ];
    for (path, render) in outputs {
        let Some(path) = path else { continue };
        let Some(stats) = outfile::write_file(&path, |out| render(&options, out))? else {
            continue;
        };
        eprintln!(
            "lockscope: wrote {} ({} frames, {:.1} s, {} bytes)",
            shown(&path),
            stats.frames,
            stats.seconds,
            stats.bytes
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `100x30`.
fn parse_size(text: &str) -> Result<(u16, u16), String> {
    let (cols, rows) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("bad size {text:?} (expected COLSxROWS, like 100x30)"))?;
    let parse = |n: &str| {
        n.trim()
            .parse::<u16>()
            .map_err(|_| format!("bad size {text:?} (expected COLSxROWS, like 100x30)"))
    };
    Ok((parse(cols)?, parse(rows)?))
}

fn write_text(out: &mut impl Write, report: &RunReport) -> std::io::Result<()> {
    let name = model::sanitize(&report.scenario);
    let elapsed = model::format_duration(report.elapsed_ns);
    match report.outcome {
        Outcome::Finished => writeln!(out, "scenario {name}: finished in {elapsed}")?,
        Outcome::Deadlock => writeln!(out, "scenario {name}: DEADLOCK after {elapsed}")?,
        Outcome::Timeout => writeln!(out, "scenario {name}: timed out after {elapsed}")?,
        Outcome::Stall => writeln!(out, "scenario {name}: STALL after {elapsed}")?,
    }
    for e in &report.expectations {
        let var = model::sanitize(&e.var);
        let (expected, actual) = (e.expected, e.actual);
        if e.held() {
            writeln!(out, "\nexpect {var} = {expected}: ok")?;
            continue;
        }
        let why = if e.overflowed {
            "an add overflowed the 64-bit range".to_string()
        } else if let Some(lost) = expected.checked_sub(actual).filter(|&n| n > 0) {
            format!("{lost} updates lost to a race")
        } else {
            "more than expected".to_string()
        };
        writeln!(
            out,
            "\nexpect {var} = {expected}: FAILED, got {actual} ({why})"
        )?;
    }
    writeln!(out, "\n{}", model::format_summary(&report.summary))
}

/// Parses `10ms`, `1.5s`, `250us`, `42ns`.
///
/// # Errors
///
/// Says what was expected when `text` is not a number with a unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        _ => {
            return Err(format!(
                "bad duration {text:?} (expected a number with ns, us, ms, s or m)"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("bad duration {text:?} (expected a number with ns, us, ms, s or m)")
    })?;
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| format!("duration {text:?} is out of range"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10ms").unwrap(), Duration::from_millis(10));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        assert!(
            parse_duration("10")
                .unwrap_err()
                .contains("expected a number")
        );
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("1e999s").is_err());
    }

    #[test]
    fn bad_usage_is_status_2() {
        let code = main(["lockscope", "frobnicate"].map(OsString::from)).unwrap();
        assert_eq!(code, ExitCode::from(ExitStatus::Usage));
    }
}
