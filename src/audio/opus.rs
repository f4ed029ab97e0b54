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
        })
    }

    /// Decodes one packet and resamples what it carries.
    ///
    /// A packet the decoder rejects is reported as an error and concealed
    /// (the decoder's packet-loss concealment, for the duration of the
    /// previous packet), so the stream's timeline stays continuous.
    fn decode(&mut self, packet: &[u8], out: &mut Vec<f32>) -> Decoded {
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
                let concealed = if lost.is_empty() {
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

impl AudioInput for OpusInput {
    fn push(&mut self, message: &[u8], out: &mut Vec<f32>) -> Decoded {
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
        let Framing::Ogg(demuxer) = &mut self.framing else {
            if message.is_empty() {
                return Decoded::ok(0); // nothing arrived: no packet, no loss
            }
            return self.decode(message, out);
        };
        let had_head = demuxer.head().is_some();
        let mut packets = std::mem::take(&mut self.packets);
        let demuxed = demuxer.push(message, &mut packets);
        if let (false, Some(head)) = (had_head, demuxer.head()) {
            self.skip = usize::from(head.pre_skip) * DECODE_RATE as usize / 48_000;
        }
        let mut all = Decoded {
            client_samples: 0,
            error: demuxed.err(),
        };
        for packet in packets.drain(..) {
            let decoded = self.decode(&packet, out);
            all.client_samples += decoded.client_samples;
            all.error = all.error.or(decoded.error);
        }
        self.packets = packets;
        all
    }

    fn client_rate(&self) -> u32 {
        self.client_rate
    }
}
