//! Writing an output file so that a failure names the file, once.
//!
//! Encoders wrap an I/O error in their own (the GIF encoder's prints the same
//! text twice), and a bare `No space left on device` does not say which file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, anyhow};

/// Creates `path` and hands `write` a buffered writer to it. Any failure —
/// creating, writing, flushing — comes back as `PATH: cannot create: WHY` or
/// `PATH: cannot write: WHY`, with the I/O error's own words once. A reader
/// that went away (a FIFO whose reader quit) is not an error, as for stdout.
///
/// # Errors
///
/// As above; and `write`'s own errors that are not about writing, as they are.
pub(super) fn write_file<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    let name = super::shown(path);
    let file = File::create(path).with_context(|| format!("{name}: cannot create"))?;
    let mut out = Remember {
        inner: BufWriter::new(file),
        error: None,
    };
    let result = write(&mut out).and_then(|value| {
        out.flush()?;
        Ok(value)
    });
    match (result, out.error) {
        (Ok(value), _) => Ok(Some(value)),
        (Err(_), Some((io::ErrorKind::BrokenPipe, _))) => Ok(None),
        (Err(_), Some((_, why))) => Err(anyhow!("{name}: cannot write: {why}")),
        // Not about the file (a scenario that does not load, say).
        (Err(err), None) => Err(err),
    }
}

/// A writer that keeps the first I/O error it saw.
struct Remember<W> {
    inner: W,
    error: Option<(io::ErrorKind, String)>,
}

impl<W> Remember<W> {
    fn keep<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(err) = &result {
            self.error
                .get_or_insert_with(|| (err.kind(), err.to_string()));
        }
        result
    }
}

impl<W: Write> Write for Remember<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.keep(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.keep(result)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_full_device_is_named_once() {
        let err = write_file(Path::new("/dev/full"), |out| {
            out.write_all(&[0; 1 << 17])?;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "/dev/full: cannot write: No space left on device (os error 28)"
        );
    }

    #[test]
    fn an_encoder_wrapping_the_error_does_not_repeat_it() {
        let err = write_file(Path::new("/dev/full"), |out| {
            out.write_all(b"x")?;
            out.flush()
                .map_err(|e| anyhow!("{e}").context(e.to_string()))?;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "/dev/full: cannot write: No space left on device (os error 28)"
        );
    }

    #[test]
    fn a_directory_that_does_not_exist_is_named() {
        let err = write_file(Path::new("/nonexistent/x.gif"), |_| Ok(())).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.starts_with("/nonexistent/x.gif: cannot create: "),
            "{message}"
        );
    }

    #[test]
    fn other_errors_keep_their_words() {
        let path = std::env::temp_dir().join(format!("lockscope-outfile-{}", std::process::id()));
        let err = write_file::<()>(&path, |_| Err(anyhow!("no scenario named x"))).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(format!("{err:#}"), "no scenario named x");
    }
}
