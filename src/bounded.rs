//! Reading input files without trusting them to end: a pipe, a FIFO or
//! `/dev/zero` can stream forever, so a read is capped before anything is
//! kept, and an input with the wrong start is refused before the rest is read.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// How much of an input [`read`] takes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Limit {
    /// At most this many bytes, whatever the input.
    Always(u64),
    /// A regular file whole (its size is known and vouches for the memory);
    /// a pipe, FIFO or device up to this many bytes.
    Streams(u64),
}

/// Why [`read`] failed: the input, or its check.
#[derive(Debug)]
pub(crate) enum ReadError<E> {
    /// The input cannot be opened or read.
    Io(io::Error),
    /// `check` refused its head.
    Refused(E),
}

/// Reads the input at `path`, at most as much as `limit` allows. The first
/// `head` bytes go to `check` before the rest is read, so `/dev/zero` or
/// `yes` can fail on its first bytes. `Ok(None)`: the input is over the limit
/// (reading stopped one byte past it).
///
/// # Errors
///
/// The input cannot be opened or read, or `check` refuses its head: the
/// caller names the file.
pub(crate) fn read<E>(
    path: &Path,
    head: usize,
    limit: Limit,
    check: impl FnOnce(&[u8]) -> Result<(), E>,
) -> Result<Option<Vec<u8>>, ReadError<E>> {
    let file = File::open(path).map_err(ReadError::Io)?;
    let limit = match limit {
        Limit::Always(n) => n,
        Limit::Streams(n) => match file.metadata() {
            Ok(meta) if meta.is_file() => u64::MAX,
            _ => n,
        },
    };
    let mut reader = file.take(limit.saturating_add(1));
    let mut bytes = Vec::with_capacity(head);
    (&mut reader)
        .take(head as u64)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    check(&bytes).map_err(ReadError::Refused)?;
    reader.read_to_end(&mut bytes).map_err(ReadError::Io)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn zeros_refused(head: &[u8]) -> Result<(), String> {
        if head.iter().all(|&b| b == 0) {
            return Err(format!("starts with {head:?}"));
        }
        Ok(())
    }

    #[test]
    fn a_device_that_never_ends_is_refused_on_its_head() {
        let err = read(
            Path::new("/dev/zero"),
            4,
            Limit::Streams(1 << 20),
            zeros_refused,
        );
        match err {
            Err(ReadError::Refused(why)) => assert_eq!(why, "starts with [0, 0, 0, 0]"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stream_stops_one_byte_past_its_limit() {
        let read = read(Path::new("/dev/zero"), 4, Limit::Streams(1 << 20), |_| {
            Ok::<(), ()>(())
        });
        assert!(read.unwrap().is_none());
        let read = read_file_of(3000, Limit::Always(2999));
        assert!(read.is_none());
    }

    #[test]
    fn a_regular_file_is_read_whole_whatever_the_stream_limit() {
        assert_eq!(
            read_file_of(3000, Limit::Streams(1024)).unwrap().len(),
            3000
        );
        assert_eq!(read_file_of(3000, Limit::Always(3000)).unwrap().len(), 3000);
    }

    fn read_file_of(len: usize, limit: Limit) -> Option<Vec<u8>> {
        let dir = std::env::temp_dir();
        let path = dir.join(format!(
            "lockscope-bounded-{}-{len}-{limit:?}",
            std::process::id()
        ));
        std::fs::write(&path, vec![7u8; len]).unwrap();
        let bytes = read(&path, 16, limit, |head| {
            assert_eq!(head, [7u8; 16]);
            Ok::<(), ()>(())
        });
        std::fs::remove_file(&path).unwrap();
        bytes.unwrap()
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let err = read(Path::new("/nonexistent/x"), 4, Limit::Always(1), |_| {
            Ok::<(), ()>(())
        });
        match err {
            Err(ReadError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("{other:?}"),
        }
    }
}
