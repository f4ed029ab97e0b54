//! Opus input: one Opus packet per message (RFC 6716), or an Ogg Opus
//! stream when the first message starts with `OggS`.
//!
//! Packets are decoded straight at the engine rate (16 kHz: no resampling,
//! no added latency), stereo mixed to mono by the decoder. The client's rate
//! (8/12/16/24/48 kHz) only sets the unit of reported sample positions.
//!
//! The decoder is `opus-rs`, which matches libopus's own 16 kHz decode
//! (62–212 dB SNR on the fixtures) at about 800× real time — except for
//! 2.5 ms CELT frames (27.8 dB). A stream whose first packet has 2.5 ms
//! frames is therefore decoded by `opus-decoder` instead (90 dB there, but
//! about 30× real time); such a stream then takes CELT packets only. Figures:
//! BENCHMARKS.md.

use super::ogg::OggOpusDemuxer;
use super::{AudioError, AudioInput, Decoded, ENGINE_RATE};

/// The client rates the Opus endpoints accept.
pub const OPUS_RATES: [u32; 5] = [8_000, 12_000, 16_000, 24_000, 48_000];

/// The rate packets are decoded at: the engine's.
const DECODE_RATE: u32 = ENGINE_RATE;

/// Longest audio one Opus packet can carry: 120 ms.
const MAX_PACKET_MS: usize = 120;

/// Audio an Ogg message may always decode to, in ms.
pub const OGG_AUDIO_ALLOWANCE_MS: u64 = 1_000;
/// Audio an Ogg message may decode to per byte of the pages it completes, in ms, beyond the
/// allowance. Real streams stay far below it (Opus's lowest bitrate,
/// 6 kbit/s, is 1.3 ms per byte); tiny packets would otherwise let a few
/// kilobytes become minutes of audio.
pub const OGG_AUDIO_MS_PER_BYTE: u64 = 4;

/// The most engine samples an Ogg message may decode to when it completes
/// pages of `bytes` bytes.
pub fn ogg_audio_budget(bytes: usize) -> usize {
    let ms = OGG_AUDIO_ALLOWANCE_MS + OGG_AUDIO_MS_PER_BYTE * bytes as u64;
    usize::try_from(ms * u64::from(DECODE_RATE) / 1000).unwrap_or(usize::MAX)
}

/// The decoder of a stream, chosen by its first packet.
enum Decoder {
    /// Every packet of a stream that started without 2.5 ms frames.
    Main(Box<opus_rs::OpusDecoder>),
    /// A stream that started with 2.5 ms CELT frames.
    ShortFrames(Box<opus_decoder::OpusDecoder>),
}

impl Decoder {
    /// The decoder for a stream whose first audio packet is `first`.
    fn for_stream(first: &[u8]) -> Result<Self, AudioError> {
        let invalid = |e: &dyn std::fmt::Display| AudioError::InvalidOpus(e.to_string());
        // TOC configurations 16, 20, 24, 28: CELT-only, 2.5 ms frames (RFC 6716 §3.1).
        if first
            .first()
            .is_some_and(|&toc| is_celt(toc) && (toc >> 3) % 4 == 0)
        {
            let decoder =
                opus_decoder::OpusDecoder::new(DECODE_RATE, 1).map_err(|e| invalid(&e))?;
            return Ok(Self::ShortFrames(Box::new(decoder)));
        }
        let decoder = opus_rs::OpusDecoder::new(DECODE_RATE as i32, 1).map_err(|e| invalid(&e))?;
        Ok(Self::Main(Box::new(decoder)))
    }

    /// Decodes a packet into `pcm` (mono); an empty packet conceals `pcm.len()` samples.
    fn decode(&mut self, packet: &[u8], pcm: &mut [f32]) -> Result<usize, String> {
        match self {
            Self::Main(decoder) => decoder.decode(packet, pcm.len(), pcm).map_err(String::from),
            // Only CELT packets: streams of 2.5 ms frames come from low-delay
            // encoders, which never switch to SILK or hybrid, and opus-decoder
            // 0.1.1 panics on some malformed hybrid packets (a fuzz finding).
            Self::ShortFrames(_) if packet.first().is_some_and(|&toc| !is_celt(toc)) => {
                Err("a SILK or hybrid packet in a stream of 2.5 ms CELT frames".into())
            }
            Self::ShortFrames(decoder) => decoder
                .decode_float(packet, pcm, false)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Whether a packet's TOC byte says CELT-only (configurations 16–31, RFC 6716 §3.1).
fn is_celt(toc: u8) -> bool {
    toc >> 3 >= 16
}

/// How the stream's messages are framed, known after the first message.
enum Framing {
    Undecided,
    Packets,
    Ogg(OggOpusDemuxer),
}

/// Bytes of an Ogg message demultiplexed at a time, so that the packets
/// waiting to be decoded stay few whatever the message's size.
const OGG_SLICE_BYTES: usize = 16 * 1024;

/// Opus input at one of [`OPUS_RATES`].
pub struct OpusInput {
    decoder: Option<Decoder>,
    client_rate: u32,
    framing: Framing,
    /// Decoded samples still to drop (Ogg pre-skip), at the decode rate.
    skip: usize,
    /// Samples of the last decoded packet: what a lost one is concealed as.
    last_packet: usize,
    decoded: Vec<f32>,
    packets: Vec<Vec<u8>>,
    /// What the message under way has used of its Ogg allowances.
    message: MessageUse,
}

/// Ogg bytes, audio and concealment used by the message under way.
#[derive(Debug, Default)]
struct MessageUse {
    /// Bytes of the pages the message completed.
    demuxed_bytes: usize,
    /// Engine samples it decoded.
    decoded: usize,
    /// Whether it already had a lost packet concealed.
    concealed: bool,
}

impl OpusInput {
    /// An Opus input decoding at `client_rate`; other rates are rejected.
    pub fn new(client_rate: u32) -> Result<Self, AudioError> {
        if !OPUS_RATES.contains(&client_rate) {
            return Err(AudioError::UnsupportedRate {
                rate: client_rate,
                supported: "8000, 12000, 16000, 24000 or 48000 Hz for Opus".into(),
            });
        }
        Ok(Self {
            decoder: None,
            client_rate,
            framing: Framing::Undecided,
            skip: 0,
            last_packet: 0,
            decoded: vec![0.0; DECODE_RATE as usize * MAX_PACKET_MS / 1000],
            packets: Vec::new(),
            message: MessageUse::default(),
        })
    }

    /// Decodes one packet.
    ///
    /// A packet the decoder rejects is reported as an error and, if
    /// `conceal`, concealed (the decoder's packet-loss concealment, for the
    /// duration of the previous packet), so the stream's timeline stays
    /// continuous.
    fn decode(&mut self, packet: &[u8], conceal: bool, out: &mut Vec<f32>) -> Decoded {
        let decoder = match &mut self.decoder {
            Some(decoder) => decoder,
            None => match Decoder::for_stream(packet) {
                Ok(decoder) => self.decoder.insert(decoder),
                Err(error) => {
                    return Decoded {
                        client_samples: 0,
                        error: Some(error),
                    };
                }
            },
        };
        let (samples, failure) = match decoder.decode(packet, &mut self.decoded) {
            Ok(samples) => {
                self.last_packet = samples;
                (samples, None)
            }
            Err(reason) => {
                let lost = &mut self.decoded[..self.last_packet];
                let concealed = if lost.is_empty() || !conceal {
                    Ok(0)
                } else {
                    decoder.decode(&[], lost)
                };
                (concealed.unwrap_or(0), Some(reason))
            }
        };
        let skipped = samples.min(self.skip);
        self.skip -= skipped;
        out.extend_from_slice(&self.decoded[skipped..samples]);
        let error = failure.map(|reason| {
            AudioError::InvalidOpus(format!(
                "undecodable packet of {} bytes ({reason}); concealed",
                packet.len()
            ))
        });
        // Packet durations are multiples of 2.5 ms: exact at every client rate.
        let client_samples =
            (samples - skipped) as u64 * u64::from(self.client_rate) / u64::from(DECODE_RATE);
        Decoded {
            client_samples,
            error,
        }
    }
}

impl OpusInput {
    /// Demultiplexes and decodes one message of an Ogg Opus stream.
    ///
    /// Empty packets carry no audio; at most one undecodable packet a message
    /// is concealed; and a message decodes to at most [`ogg_audio_budget`] of
    /// the bytes it completes, plus the one packet (≤ 120 ms) that crosses
    /// it: packets past it are dropped and reported. So no message can turn
    /// a few bytes into unbounded audio.
    fn push_ogg(
        &mut self,
        demuxer: &mut OggOpusDemuxer,
        message: &[u8],
        out: &mut Vec<f32>,
    ) -> Decoded {
        let mut all = Decoded::ok(0);
        let mut dropped = 0;
        let mut packets = std::mem::take(&mut self.packets);
        for slice in message.chunks(OGG_SLICE_BYTES) {
            let had_head = demuxer.head().is_some();
            let held = demuxer.pending_bytes() + slice.len();
            all.error = all.error.or(demuxer.push(slice, &mut packets).err());
            self.message.demuxed_bytes += held - demuxer.pending_bytes();
            if let (false, Some(head)) = (had_head, demuxer.head()) {
                self.skip = usize::from(head.pre_skip) * DECODE_RATE as usize / 48_000;
            }
            let budget = ogg_audio_budget(self.message.demuxed_bytes);
            for packet in packets.drain(..) {
                if self.message.decoded >= budget {
                    dropped += 1;
                    continue;
                }
                let before = out.len();
                let decoded = self.decode(&packet, !self.message.concealed, out);
                self.message.decoded += out.len() - before;
                self.message.concealed |= decoded.error.is_some();
                all.client_samples += decoded.client_samples;
                all.error = all.error.or(decoded.error);
            }
        }
        self.packets = packets;
        if dropped > 0 {
            all.error = all.error.or(Some(AudioError::InvalidOpus(format!(
                "{dropped} packets dropped: an Ogg message may decode to at most \
                 {OGG_AUDIO_ALLOWANCE_MS} ms plus {OGG_AUDIO_MS_PER_BYTE} ms per byte"
            ))));
        }
        all
    }
}

impl AudioInput for OpusInput {
    fn push_part(&mut self, message: &[u8], out: &mut Vec<f32>) -> Decoded {
        if let Framing::Undecided = self.framing {
            if message.is_empty() {
                return Decoded::ok(0);
            }
            self.framing = if message.starts_with(b"OggS") {
                Framing::Ogg(OggOpusDemuxer::new())
            } else {
                Framing::Packets
            };
        }
        match std::mem::replace(&mut self.framing, Framing::Undecided) {
            Framing::Ogg(mut demuxer) => {
                let decoded = self.push_ogg(&mut demuxer, message, out);
                self.framing = Framing::Ogg(demuxer);
                decoded
            }
            framing => {
                self.framing = framing;
                // Nothing arrived: no packet, no loss.
                if message.is_empty() {
                    Decoded::ok(0)
                } else {
                    self.decode(message, true, out)
                }
            }
        }
    }

    fn end_message(&mut self) {
        self.message = MessageUse::default();
    }

    fn client_rate(&self) -> u32 {
        self.client_rate
    }

    fn shrink_buffers(&mut self) {
        self.packets = Vec::new();
        if let Framing::Ogg(demuxer) = &mut self.framing {
            demuxer.shrink_buffers();
        }
    }
}
