//! The byte-level building blocks of the trace format: LEB128 varints,
//! zigzag signed deltas and the CRC-32 that guards every chunk.

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Maps a signed delta onto an unsigned one so that small magnitudes of
/// either sign stay small: 0, -1, 1, -2, … become 0, 1, 2, 3, …
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The delta from `base` to `value`, wrapping, as a zigzag varint payload:
/// every pair of `u64`s round-trips through [`undelta`].
#[inline]
pub(crate) fn delta(base: u64, value: u64) -> u64 {
    zigzag(value.wrapping_sub(base) as i64)
}

/// The inverse of [`delta`].
#[inline]
pub(crate) fn undelta(base: u64, encoded: u64) -> u64 {
    base.wrapping_add(unzigzag(encoded) as u64)
}

/// Why bytes could not be decoded (the reader adds where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The input ended inside a value.
    End,
    /// A varint longer than 10 bytes or wider than 64 bits.
    Overlong,
}

/// A cursor over bytes that never reads past its end.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::End)?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            // The tenth byte may only carry the top bit of a u64.
            if shift == 63 && bits > 1 {
                return Err(DecodeError::Overlong);
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Overlong)
    }

    /// `n` bytes, or an error if fewer are left: a length field can never make
    /// the reader allocate or look beyond the input.
    pub(crate) fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| DecodeError::End)?;
        if n > self.remaining() {
            return Err(DecodeError::End);
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }
}

/// CRC-32 (IEEE 802.3, the one zlib and PNG use), slicing by 8 bytes.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0, bytes)
}

/// Continues a CRC-32 over more bytes: `crc32_update(crc32(a), b) == crc32(a ++ b)`.
pub(crate) fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut crc = !crc;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        crc = CRC_TABLES[7][(lo & 0xff) as usize]
            ^ CRC_TABLES[6][((lo >> 8) & 0xff) as usize]
            ^ CRC_TABLES[5][((lo >> 16) & 0xff) as usize]
            ^ CRC_TABLES[4][(lo >> 24) as usize]
            ^ CRC_TABLES[3][c[4] as usize]
            ^ CRC_TABLES[2][c[5] as usize]
            ^ CRC_TABLES[1][c[6] as usize]
            ^ CRC_TABLES[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = CRC_TABLES[0][((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

static CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        tables[0][i] = c;
        i += 1;
    }
    let mut t = 1;
    while t < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[t - 1][i];
            tables[t][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            i += 1;
        }
        t += 1;
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_width() {
        let mut values = vec![0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        values.extend((0..64).map(|s| 1u64 << s));
        values.extend((1..64).map(|s| (1u64 << s) - 1));
        let mut buf = Vec::new();
        for &v in &values {
            put_varint(&mut buf, v);
        }
        let mut cur = Cursor::new(&buf);
        for &v in &values {
            assert_eq!(cur.varint(), Ok(v));
        }
        assert!(cur.is_empty());
    }

    #[test]
    fn overlong_and_cut_varints_are_errors() {
        assert_eq!(
            Cursor::new(&[0x80; 11]).varint(),
            Err(DecodeError::Overlong)
        );
        let mut too_wide = vec![0xff; 9];
        too_wide.push(0x02);
        assert_eq!(Cursor::new(&too_wide).varint(), Err(DecodeError::Overlong));
        assert_eq!(Cursor::new(&[0x80, 0x80]).varint(), Err(DecodeError::End));
        assert_eq!(Cursor::new(&[]).varint(), Err(DecodeError::End));
    }

    #[test]
    fn deltas_round_trip_whatever_the_sign() {
        for (base, value) in [(0, 0), (5, 3), (3, 5), (0, u64::MAX), (u64::MAX, 0), (7, 7)] {
            assert_eq!(undelta(base, delta(base, value)), value);
        }
        assert_eq!(delta(10, 11), 2);
        assert_eq!(delta(10, 9), 1);
    }

    #[test]
    fn take_never_reads_past_the_end() {
        let mut cur = Cursor::new(b"abc");
        assert_eq!(cur.take(u64::MAX), Err(DecodeError::End));
        assert_eq!(cur.take(4), Err(DecodeError::End));
        assert_eq!(cur.take(2), Ok(&b"ab"[..]));
        assert_eq!(cur.remaining(), 1);
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let (a, b) = data.split_at(333);
        assert_eq!(crc32_update(crc32(a), b), crc32(&data));
        // Slicing by 8 agrees with the byte-at-a-time loop.
        let slow = data.iter().fold(!0u32, |c, &b| {
            CRC_TABLES[0][((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
        });
        assert_eq!(!slow, crc32(&data));
    }
}
