//! Opus input (packets or Ogg Opus, split anywhere) never panics, every
//! sample it produces is finite, and no message decodes to more audio than
//! the documented bound (empty, tiny or damaged packets and pages
//! included). Shared by the fuzz target and the regression test that
//! replays its findings.

use voiceport::audio::{AudioInput, MAX_OGG_PAGE_BYTES, OPUS_RATES, OpusInput, ogg_audio_budget};

/// One Opus packet's longest audio (120 ms) in engine samples.
const MAX_PACKET_SAMPLES: usize = 1_920;

/// Feeds `data` as a rate byte, then length-prefixed messages.
pub fn run(data: &[u8]) {
    let Some((&rate, mut rest)) = data.split_first() else {
        return;
    };
    let rate = OPUS_RATES[usize::from(rate) % OPUS_RATES.len()];
    let mut input = OpusInput::new(rate).expect("an Opus rate");
    let mut out = Vec::new();
    // Messages: a length byte, then that many bytes.
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (message, next) = tail.split_at(len);
        let before = out.len();
        input.push(message, &mut out);
        // Pages completed by a message: at most one held page plus the message.
        let bound = ogg_audio_budget(message.len() + MAX_OGG_PAGE_BYTES) + MAX_PACKET_SAMPLES;
        assert!(
            out.len() - before <= bound,
            "{} samples from {len} bytes",
            out.len() - before
        );
        rest = next;
    }
    assert!(out.iter().all(|s| s.is_finite()));
}
