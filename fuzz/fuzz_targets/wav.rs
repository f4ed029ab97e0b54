//! WAV decoding never panics; a decoded recording has a sane rate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(recording) = voiceport::audio::decode_wav(data) {
        assert!(recording.sample_rate > 0);
        assert!(recording.samples.iter().all(|s| s.is_finite()));
    }
});
