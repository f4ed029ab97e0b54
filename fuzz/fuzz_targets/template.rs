//! Template decoding (base64 text and binary form) never panics, and what it
//! accepts re-encodes to an equal template.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voiceport::voice::VoiceTemplate;

fuzz_target!(|data: &[u8]| {
    if let Ok(template) = VoiceTemplate::from_bytes(data) {
        let again = VoiceTemplate::from_bytes(&template.to_bytes()).expect("re-decodes");
        assert_eq!(again.to_bytes(), template.to_bytes());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VoiceTemplate::from_base64(text, voiceport::voice::SPEAKER_MODEL);
    }
});
