//! Streaming decoder for little-endian signed 16-bit PCM.

/// Turns a byte stream of little-endian `i16` samples into `f32` samples in −1..1.
///
/// Chunking contract: input chunks may have any length, including 0 and odd
/// lengths. An odd trailing byte is kept and joined with the first byte of the
/// next chunk, so the decoded samples never depend on how the stream was split.
#[derive(Debug, Default, Clone)]
pub struct Pcm16Decoder {
    carry: Option<u8>,
}

impl Pcm16Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `bytes`, appending every complete sample to `out`; returns how many
    /// samples were appended.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<f32>) -> usize {
        let before = out.len();
        let mut rest = bytes;
        if let (Some(low), Some((&high, tail))) = (self.carry, rest.split_first()) {
            out.push(sample_to_f32(i16::from_le_bytes([low, high])));
            self.carry = None;
            rest = tail;
        }
        let pairs = rest.chunks_exact(2);
        let remainder = pairs.remainder();
        out.extend(pairs.map(|p| sample_to_f32(i16::from_le_bytes([p[0], p[1]]))));
        if let [odd] = remainder {
            self.carry = Some(*odd);
        }
        out.len() - before
    }

    /// Whether half a sample is waiting for its second byte.
    pub fn has_pending_byte(&self) -> bool {
        self.carry.is_some()
    }
}

/// Scales one PCM16 sample to −1..1.
pub fn sample_to_f32(sample: i16) -> f32 {
    f32::from(sample) / 32768.0
}

/// Quantizes one sample in −1..1 to PCM16 (rounded, clamped): the inverse of
/// [`sample_to_f32`].
pub fn sample_to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Encodes samples in −1..1 as little-endian PCM16 bytes, the PCM endpoints'
/// wire format.
pub fn encode_pcm16(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| sample_to_i16(s).to_le_bytes())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::SmallRng};

    fn bytes_of(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn decodes_little_endian_and_scales() {
        let mut out = Vec::new();
        let n = Pcm16Decoder::new().push(&bytes_of(&[0, 16384, -32768, 32767]), &mut out);
        assert_eq!(n, 4);
        assert_eq!(out, vec![0.0, 0.5, -1.0, 32767.0 / 32768.0]);
    }

    #[test]
    fn encoding_round_trips_and_clamps() {
        let samples = [0.0, 0.5, -1.0, 32767.0 / 32768.0, 2.0, -2.0];
        let mut out = Vec::new();
        Pcm16Decoder::new().push(&encode_pcm16(&samples), &mut out);
        assert_eq!(
            out,
            vec![0.0, 0.5, -1.0, 32767.0 / 32768.0, 32767.0 / 32768.0, -1.0]
        );
    }

    #[test]
    fn odd_byte_is_carried_not_lost() {
        let bytes = bytes_of(&[1000, -2000]);
        let mut dec = Pcm16Decoder::new();
        let mut out = Vec::new();
        assert_eq!(dec.push(&bytes[..1], &mut out), 0);
        assert!(dec.has_pending_byte());
        assert_eq!(dec.push(&[], &mut out), 0);
        assert_eq!(dec.push(&bytes[1..3], &mut out), 1);
        assert_eq!(dec.push(&bytes[3..], &mut out), 1);
        assert!(!dec.has_pending_byte());
        assert_eq!(out, vec![sample_to_f32(1000), sample_to_f32(-2000)]);
    }

    #[test]
    fn random_splits_decode_identically() {
        let mut rng = SmallRng::seed_from_u64(7);
        let samples: Vec<i16> = (0..5000).map(|_| rng.random()).collect();
        let bytes = bytes_of(&samples);
        let mut whole = Vec::new();
        Pcm16Decoder::new().push(&bytes, &mut whole);
        for _ in 0..20 {
            let mut dec = Pcm16Decoder::new();
            let mut split = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                let len = rng.random_range(0..=37).min(bytes.len() - at);
                dec.push(&bytes[at..at + len], &mut split);
                at += len;
            }
            assert_eq!(split, whole);
        }
    }
}
