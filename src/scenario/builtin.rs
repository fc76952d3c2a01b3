//! The scenarios embedded in the binary, and loading by name or path.

use std::io;

use super::parse::MAX_TEXT;
use super::pos::Quoted;
use super::{Scenario, ScenarioError, ScenarioErrorKind};

/// The name of the scenario `lockscope` opens without arguments.
pub const DEFAULT_SCENARIO: &str = "philosophers";

/// A scenario embedded in the binary from `assets/scenarios/NAME.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Builtin {
    /// The name to load it by, e.g. `"abba"`.
    pub name: &'static str,
    /// The TOML text.
    pub source: &'static str,
}

impl Builtin {
    /// The file name its sites and messages show: `NAME.toml`.
    ///
    /// # Examples
    ///
    /// ```
    /// let abba = lockscope::scenario::builtins().iter().find(|b| b.name == "abba");
    /// assert_eq!(abba.map(|b| b.file()).as_deref(), Some("abba.toml"));
    /// ```
    pub fn file(&self) -> String {
        format!("{}.toml", self.name)
    }

    /// Parses the embedded text, as [`Scenario::load`] does for this name.
    ///
    /// # Errors
    ///
    /// Never for the scenarios shipped (a unit test loads each one), but the signature
    /// matches [`Scenario::parse`].
    ///
    /// # Examples
    ///
    /// ```
    /// for builtin in lockscope::scenario::builtins() {
    ///     let scenario = builtin.scenario()?;
    ///     println!("{:<22} {}", builtin.name, scenario.description);
    /// }
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&self.file(), self.source)
    }
}

macro_rules! builtin {
    ($name:literal) => {
        Builtin {
            name: $name,
            source: include_str!(concat!("../../assets/scenarios/", $name, ".toml")),
        }
    };
}

static BUILTINS: [Builtin; 15] = [
    builtin!("philosophers"),
    builtin!("philosophers-ordered"),
    builtin!("abba"),
    builtin!("three-cycle"),
    builtin!("self-deadlock"),
    builtin!("rwlock-upgrade"),
    builtin!("readers-writer"),
    builtin!("convoy"),
    builtin!("lost-update"),
    builtin!("condvar-handoff"),
    builtin!("lost-wakeup"),
    builtin!("heisenbug"),
    builtin!("join-cycle"),
    builtin!("channel-cycle"),
    builtin!("pipeline"),
];

/// The built-in scenarios, the default ([`DEFAULT_SCENARIO`]) first.
///
/// # Examples
///
/// ```
/// use lockscope::scenario::{DEFAULT_SCENARIO, builtins};
///
/// assert_eq!(builtins()[0].name, DEFAULT_SCENARIO);
/// assert!(builtins().iter().any(|b| b.name == "abba"));
/// ```
pub fn builtins() -> &'static [Builtin] {
    &BUILTINS
}

pub(super) fn load(arg: &str) -> Result<Scenario, ScenarioError> {
    if let Some(builtin) = BUILTINS.iter().find(|b| b.name == arg) {
        return builtin.scenario();
    }
    let read = std::fs::File::open(arg).and_then(|file| {
        use io::Read;
        let mut bytes = Vec::new();
        // One byte over the limit is enough to tell the file is too large.
        file.take(MAX_TEXT as u64 + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    match read {
        Ok(bytes) if bytes.len() > MAX_TEXT => {
            let kind = ScenarioErrorKind::TooLarge {
                file: arg.to_owned(),
                limit: MAX_TEXT,
            };
            let message = format!(
                "scenario file {} is too large (at most {} KiB)",
                Quoted(arg),
                MAX_TEXT / 1024
            );
            Err(ScenarioError::new(kind, message))
        }
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Scenario::parse(arg, &text),
            Err(err) => {
                let offset = err.utf8_error().valid_up_to();
                let kind = ScenarioErrorKind::NotUtf8 {
                    file: arg.to_owned(),
                    offset,
                };
                let message = format!(
                    "scenario file {} is not UTF-8 text (bad byte at offset {offset})",
                    Quoted(arg)
                );
                Err(ScenarioError::new(kind, message))
            }
        },
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let names: Vec<&'static str> = BUILTINS.iter().map(|b| b.name).collect();
            let message = format!(
                "no built-in scenario or file named {} (built-in scenarios: {})",
                Quoted(arg),
                names.join(", ")
            );
            let kind = ScenarioErrorKind::NotFound {
                name: arg.to_owned(),
                builtins: names,
            };
            Err(ScenarioError::new(kind, message))
        }
        // The cause is the error's source: `{:#}` prints it after a colon.
        Err(err) => Err(ScenarioError::io(
            arg,
            format_args!("cannot read scenario file {}", Quoted(arg)),
            err,
        )),
    }
}
