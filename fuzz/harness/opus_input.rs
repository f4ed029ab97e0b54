//! Opus input (packets or Ogg Opus, split anywhere) never panics, and every
//! sample it produces is finite. Shared by the fuzz target and the
//! regression test that replays its findings.

use voiceport::audio::{AudioInput, OPUS_RATES, OpusInput};

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
        input.push(message, &mut out);
        rest = next;
    }
    assert!(out.iter().all(|s| s.is_finite()));
}
