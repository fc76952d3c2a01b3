//! The scenarios embedded in the binary, and loading by name or path.

use std::io;

use super::Scenario;
use super::parse::MAX_TEXT;
use super::pos::Quoted;

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
    pub fn scenario(&self) -> anyhow::Result<Scenario> {
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

static BUILTINS: [Builtin; 12] = [
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

pub(super) fn load(arg: &str) -> anyhow::Result<Scenario> {
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
        Ok(bytes) if bytes.len() > MAX_TEXT => Err(anyhow::anyhow!(
            "scenario file {} is too large (at most {} KiB)",
            Quoted(arg),
            MAX_TEXT / 1024
        )),
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Scenario::parse(arg, &text),
            Err(err) => Err(anyhow::anyhow!(
                "scenario file {} is not UTF-8 text (bad byte at offset {})",
                Quoted(arg),
                err.utf8_error().valid_up_to()
            )),
        },
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
            Err(anyhow::anyhow!(
                "no built-in scenario or file named {} (built-in scenarios: {})",
                Quoted(arg),
                names.join(", ")
            ))
        }
        Err(err) => Err(anyhow::anyhow!(
            "cannot read scenario file {}: {err}",
            Quoted(arg)
        )),
    }
}
