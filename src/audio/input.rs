//! The seam between transports and engines: one binary message in, engine samples out.

use super::{AudioError, MAX_PCM_RATE, MIN_PCM_RATE, Pcm16Decoder, Resampler16k};

/// A decoder for one client stream: turns each binary message into 16 kHz samples.
///
/// Implementations keep whatever state their format needs across messages
/// (half samples, resampler history, codec state), so callers may split the
/// stream anywhere the format allows.
pub trait AudioInput: Send {
    /// Decodes one binary message, appending ready 16 kHz samples to `out`.
    /// Returns how many client-rate samples the message carried.
    fn push(&mut self, message: &[u8], out: &mut Vec<f32>) -> Result<u64, AudioError>;

    /// The client's sample rate, in which reported times and indices are given.
    fn client_rate(&self) -> u32;
}

/// Raw little-endian PCM16 mono input at any rate in 8–192 kHz.
pub struct PcmInput {
    decoder: Pcm16Decoder,
    resampler: Resampler16k,
    scratch: Vec<f32>,
}

impl PcmInput {
    /// A PCM input at `client_rate` Hz; rates outside 8000–192000 are rejected.
    pub fn new(client_rate: u32) -> Result<Self, AudioError> {
        if !(MIN_PCM_RATE..=MAX_PCM_RATE).contains(&client_rate) {
            return Err(AudioError::UnsupportedRate {
                rate: client_rate,
                supported: format!("{MIN_PCM_RATE}–{MAX_PCM_RATE} Hz"),
            });
        }
        Ok(Self {
            decoder: Pcm16Decoder::new(),
            resampler: Resampler16k::new(client_rate)?,
            scratch: Vec::new(),
        })
    }

    /// Flushes the resampler tail, for whole-buffer use (no more input will come).
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.resampler.finish(out)
    }
}

impl AudioInput for PcmInput {
    fn push(&mut self, message: &[u8], out: &mut Vec<f32>) -> Result<u64, AudioError> {
        self.scratch.clear();
        let decoded = self.decoder.push(message, &mut self.scratch);
        self.resampler.push(&self.scratch, out)?;
        Ok(decoded as u64)
    }

    fn client_rate(&self) -> u32 {
        self.resampler.client_rate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_rates_out_of_range() {
        for rate in [0, 7_999, 192_001, u32::MAX] {
            assert!(matches!(
                PcmInput::new(rate),
                Err(AudioError::UnsupportedRate { .. })
            ));
        }
        assert!(PcmInput::new(8_000).is_ok());
        assert!(PcmInput::new(192_000).is_ok());
    }

    #[test]
    fn counts_client_samples_and_resamples() {
        let mut input = PcmInput::new(48_000).unwrap();
        let mut out = Vec::new();
        let bytes = vec![0u8; 48_000 * 2 + 1];
        assert_eq!(input.push(&bytes, &mut out).unwrap(), 48_000);
        assert_eq!(input.push(&[0], &mut out).unwrap(), 1);
        input.finish(&mut out).unwrap();
        assert_eq!(out.len(), 16_000);
    }
}
