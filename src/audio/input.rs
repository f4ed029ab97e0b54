//! The seam between transports and engines: one binary message in, engine samples out.

use super::{AudioError, MAX_PCM_RATE, MIN_PCM_RATE, Pcm16Decoder, Resampler16k};

/// What one binary message brought.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Client-rate samples the message carried (concealed ones included).
    pub client_samples: u64,
    /// What could not be decoded; whatever could was still appended.
    pub error: Option<AudioError>,
}

impl Decoded {
    /// Fully decoded.
    pub fn ok(client_samples: u64) -> Self {
        Self {
            client_samples,
            error: None,
        }
    }

    /// The sample count, or the error if any part failed.
    pub fn into_result(self) -> Result<u64, AudioError> {
        self.error.map_or(Ok(self.client_samples), Err)
    }
}

/// A decoder for one client stream: turns each binary message into 16 kHz samples.
///
/// Implementations keep whatever state their format needs across messages
/// (half samples, resampler history, codec state), so callers may split the
/// stream anywhere the format allows. A message that is partly undecodable
/// still delivers its decodable part, so nothing else is lost.
pub trait AudioInput: Send {
    /// Decodes one binary message, appending ready 16 kHz samples to `out`.
    fn push(&mut self, message: &[u8], out: &mut Vec<f32>) -> Decoded {
        let decoded = self.push_part(message, out);
        self.end_message();
        decoded
    }

    /// Decodes the next part of a binary message that arrives in parts
    /// (a server works through a large message a slice at a time); call
    /// [`Self::end_message`] after its last part.
    fn push_part(&mut self, part: &[u8], out: &mut Vec<f32>) -> Decoded;

    /// The message whose parts were pushed is complete: allowances granted
    /// per message (see [`super::OpusInput`]) start again.
    fn end_message(&mut self) {}

    /// The client's sample rate, in which reported times and indices are given.
    fn client_rate(&self) -> u32;

    /// Gives back memory that grew for a large message beyond the state the
    /// stream keeps between messages.
    fn shrink_buffers(&mut self) {}
}

/// Samples a scratch buffer keeps between messages.
const RETAINED_SCRATCH: usize = 16_384;

/// Accepts a client PCM rate in [`MIN_PCM_RATE`]..=[`MAX_PCM_RATE`] Hz.
pub fn check_pcm_rate(rate: u32) -> Result<(), AudioError> {
    if (MIN_PCM_RATE..=MAX_PCM_RATE).contains(&rate) {
        return Ok(());
    }
    Err(AudioError::UnsupportedRate {
        rate,
        supported: format!("{MIN_PCM_RATE}–{MAX_PCM_RATE} Hz"),
    })
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
        check_pcm_rate(client_rate)?;
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
    fn push_part(&mut self, message: &[u8], out: &mut Vec<f32>) -> Decoded {
        self.scratch.clear();
        let samples = self.decoder.push(message, &mut self.scratch) as u64;
        Decoded {
            client_samples: samples,
            error: self.resampler.push(&self.scratch, out).err(),
        }
    }

    fn client_rate(&self) -> u32 {
        self.resampler.client_rate()
    }

    fn shrink_buffers(&mut self) {
        self.scratch.clear();
        self.scratch.shrink_to(RETAINED_SCRATCH);
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
        assert_eq!(input.push(&bytes, &mut out).into_result().unwrap(), 48_000);
        assert_eq!(input.push(&[0], &mut out).into_result().unwrap(), 1);
        input.finish(&mut out).unwrap();
        assert_eq!(out.len(), 16_000);
    }
}
