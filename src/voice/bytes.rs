//! Reading the little-endian binary formats of templates and cohorts.

/// The bytes ended before a field did (each format turns this into its own
/// error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

/// Fields read one after another from a byte slice.
pub struct ByteReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> ByteReader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let end = self.at.checked_add(n).ok_or(Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(Truncated)?;
        self.at = end;
        Ok(slice)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        Ok(self.take(N)?.try_into().expect("N bytes taken"))
    }

    /// The next byte.
    pub fn u8(&mut self) -> Result<u8, Truncated> {
        Ok(self.array::<1>()?[0])
    }

    /// The next little-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, Truncated> {
        self.array().map(u16::from_le_bytes)
    }

    /// The next little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, Truncated> {
        self.array().map(u32::from_le_bytes)
    }

    /// The next little-endian `f32`.
    pub fn f32(&mut self) -> Result<f32, Truncated> {
        self.array().map(f32::from_le_bytes)
    }

    /// A `u8` length followed by that many bytes (a model id); nothing is
    /// read when they are not all there.
    pub fn short_bytes(&mut self) -> Result<&'a [u8], Truncated> {
        let start = self.at;
        let len = usize::from(self.u8()?);
        let bytes = self.take(len);
        if bytes.is_err() {
            self.at = start;
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_order_little_endian() {
        let bytes = [2, b'i', b'd', 0x34, 0x12, 0, 0, 0x80, 0x3f, 7, 0, 0, 0];
        let mut reader = ByteReader::new(&bytes);
        assert_eq!(reader.short_bytes(), Ok(&b"id"[..]));
        assert_eq!(reader.u16(), Ok(0x1234));
        assert_eq!(reader.f32(), Ok(1.0));
        assert_eq!(reader.position(), 9);
        assert_eq!(reader.u32(), Ok(7));
        assert_eq!(reader.remaining(), 0);
    }

    #[test]
    fn a_field_past_the_end_is_truncated_and_reads_nothing() {
        let mut reader = ByteReader::new(&[5, 2, 3]);
        assert_eq!(reader.u32(), Err(Truncated));
        assert_eq!(reader.position(), 0);
        assert_eq!(reader.short_bytes(), Err(Truncated));
        assert_eq!(reader.remaining(), 3);
        assert_eq!(reader.take(usize::MAX), Err(Truncated));
    }
}
