//! Any sequence of text and binary messages on any endpoint, each binary
//! one at any pace (on time, late, very late) and with results thinned or
//! not, gets exactly one reply each, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use voiceport::models::Models;
use voiceport::protocol::{Endpoint, Pace, Session};

fn models() -> Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS
        .get_or_init(|| Models::bundled().expect("bundled models"))
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let path = Endpoint::PATHS[usize::from(pick >> 1) % Endpoint::PATHS.len()];
    let path = if pick & 1 == 1 {
        format!("{path}?frames=new")
    } else {
        path.to_string()
    };
    let Ok(mut session) = Session::for_path(&path, models()) else {
        return;
    };
    // Messages: a header byte (high bit: text; low 7 bits: length), then the bytes.
    while let Some((&header, tail)) = rest.split_first() {
        let len = usize::from(header & 0x7f).min(tail.len());
        let (message, next) = tail.split_at(len);
        let reply = if header & 0x80 != 0 {
            session.on_text(&String::from_utf8_lossy(message))
        } else {
            let pace = match message.len() % 3 {
                0 => Pace::OnTime,
                1 => Pace::Late,
                _ => Pace::VeryLate,
            };
            session.set_pace(pace);
            session.thin_results(f64::from(message.len() % 4) * 0.5);
            session.on_binary(message)
        };
        assert!(!reply.is_empty());
        rest = next;
    }
});
