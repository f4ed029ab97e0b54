//! How a stream's cost grows over a long session: one protocol `Session` per
//! endpoint fed `<minutes>` of speech (the LibriVox gaps file, looped) in
//! 100 ms messages as fast as it goes, on one thread. Every `<step>` minutes
//! of audio it prints a markdown row: time spent per second of audio in that
//! step, mean reply size, and the process's resident memory.
//!
//! `cargo run --release --example long_stream -- [minutes] [step minutes] [endpoint paths...]`
//! (defaults: 60, 10, the summary stream with full and new frames, the
//! endpoint detector and the verify stream).

use std::time::{Duration, Instant};

use voiceport::audio::{decode_wav, encode_pcm16};
use voiceport::models::Models;
use voiceport::protocol::Session;
use voiceport::service::{AudioBuffer, create_template};

const RATE: usize = 16_000;
const MESSAGE_SAMPLES: usize = RATE / 10;
const SPEECH: &[u8] = include_bytes!("../tests/data/librivox/librivox_concat_gaps.wav");
const ENROLL: &[u8] = include_bytes!("../tests/data/demo/speaker_a_enroll.wav");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let minutes: usize = args.first().map_or(60, |a| a.parse().expect("minutes"));
    let step: usize = args.get(1).map_or(10, |a| a.parse().expect("step minutes"));
    let paths: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        [
            "/speech_summary_stream",
            "/speech_summary_stream?frames=new",
            "/speech_endpoint_detector",
            "/voice_verify_stream",
        ]
        .map(String::from)
        .to_vec()
    };
    let models = Models::from_bytes(
        include_bytes!("../models/silero_vad_openvino_16k.onnx"),
        Some(include_bytes!("../models/campplus_zh_en_common.f16w.onnx")),
    )
    .expect("models");
    let template = create_template(&models, AudioBuffer::Wav(ENROLL)).expect("template");
    let audio = pcm16_messages();
    println!("| endpoint | audio minutes | ms per audio second | mean reply bytes | RSS MiB |");
    println!("|---|---|---|---|---|");
    for path in &paths {
        let params: Vec<&str> = if path.contains("verify") {
            vec![&template, "16000", "3"]
        } else if path.contains("endpoint") {
            vec!["300", "500", "16000"]
        } else {
            vec!["16000"]
        };
        run(path, &params, &audio, minutes, step, &models);
    }
}

/// The speech file as 100 ms PCM16 messages.
fn pcm16_messages() -> Vec<Vec<u8>> {
    let recording = decode_wav(SPEECH).expect("WAV");
    assert_eq!(recording.sample_rate, RATE as u32);
    encode_pcm16(&recording.samples)
        .chunks_exact(MESSAGE_SAMPLES * 2)
        .map(<[u8]>::to_vec)
        .collect()
}

fn run(
    path: &str,
    params: &[&str],
    audio: &[Vec<u8>],
    minutes: usize,
    step: usize,
    models: &Models,
) {
    let mut session = Session::for_path(path, models.clone()).expect("path");
    for param in params {
        assert_eq!(session.on_text(param), "200", "{path}");
    }
    let messages_per_step = step * 60 * RATE / MESSAGE_SAMPLES;
    let mut sent = 0;
    for done in (step..=minutes).step_by(step) {
        let mut busy = Duration::ZERO;
        let mut reply_bytes = 0;
        for message in audio
            .iter()
            .cycle()
            .skip(sent % audio.len())
            .take(messages_per_step)
        {
            let start = Instant::now();
            let reply = session.on_binary(message);
            busy += start.elapsed();
            assert_ne!(reply, "500", "{path}: {:?}", session.last_error());
            reply_bytes += reply.len();
        }
        sent += messages_per_step;
        let seconds = (step * 60) as f64;
        println!(
            "| `{path}` | {done} | {:.2} | {} | {:.0} |",
            busy.as_secs_f64() * 1000.0 / seconds,
            reply_bytes / messages_per_step,
            resident_mib()
        );
    }
}

/// The process's resident memory (Linux), or 0 where unknown.
fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
