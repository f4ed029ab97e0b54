//! Audio input: client bytes in, 16 kHz mono `f32` samples (range −1..1) out.
//!
//! Everything downstream of this module (VAD, speech state machines, speaker
//! embedding) sees only the engine stream at [`ENGINE_RATE`]; which container,
//! codec or client sample rate the audio came in is decided here, behind the
//! [`AudioInput`] seam.

mod error;
mod input;
mod ogg;
mod opus;
mod pcm16;
mod resample;
mod wav;

pub use error::AudioError;
pub use input::{AudioInput, Decoded, PcmInput, check_pcm_rate};
pub use ogg::{MAX_OGG_PAGE_BYTES, OggOpusDemuxer, OpusHead, ogg_pages};
pub use opus::{
    OGG_AUDIO_ALLOWANCE_MS, OGG_AUDIO_MS_PER_BYTE, OPUS_RATES, OpusInput, ogg_audio_budget,
};
pub use pcm16::{Pcm16Decoder, encode_pcm16, sample_to_i16};
pub use resample::Resampler16k;
pub use wav::{Recording, decode_wav};

/// The sample rate every engine works at.
pub const ENGINE_RATE: u32 = 16_000;

/// Lowest client sample rate accepted for PCM input.
pub const MIN_PCM_RATE: u32 = 8_000;

/// Highest client sample rate accepted for PCM input.
pub const MAX_PCM_RATE: u32 = 192_000;
