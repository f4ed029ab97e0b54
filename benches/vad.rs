//! Engine benchmarks: VAD per frame, fbank, CAM++ loading and per second of audio,
//! speech summaries of 3 s recordings, template creation, the verify stream.
//!
//! `cargo bench --bench vad`. Set `VOICEPORT_F32_SPEAKER_MODEL` to the f32
//! CAM++ file to time it beside the shipped f16-weight file.

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

/// The server's allocator, so that the engines are timed as the server runs
/// them (glibc's malloc maps and unmaps CAM++'s large activations anew).
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Criterion benchmarks run natively only.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use criterion::{Criterion, criterion_group};
    use std::hint::black_box;
    use voiceport::audio::encode_pcm16;
    use voiceport::models::Models;
    use voiceport::service::{AudioBuffer, speech_summary};
    use voiceport::voice::{CamPlusModel, Fbank, VoiceEngine};

    /// 16 kHz test speech: a LibriSpeech utterance decoded from FLAC.
    fn speech() -> Vec<f32> {
        let bytes: &[u8] = include_bytes!("../tests/data/librispeech/103-1240-0000.flac");
        let mut reader = claxon::FlacReader::new(bytes).expect("FLAC");
        reader
            .samples()
            .map(|s| s.expect("sample") as f32 / 32768.0)
            .collect()
    }

    fn engines(c: &mut Criterion) {
        let models = Models::bundled().expect("models");
        let samples = speech();
        let three_seconds = &samples[16_000..64_000];

        c.bench_function("vad: one 32 ms frame", |b| {
            let mut stream = models.vad.stream();
            let mut probs = Vec::with_capacity(1);
            b.iter(|| {
                probs.clear();
                stream.push(black_box(&three_seconds[..512]), &mut probs);
            });
        });

        c.bench_function("vad: 3 s of audio in 100 ms messages", |b| {
            let mut probs = Vec::with_capacity(100);
            b.iter(|| {
                let mut stream = models.vad.stream();
                probs.clear();
                for message in three_seconds.chunks(1_600) {
                    stream.push(black_box(message), &mut probs);
                }
            });
        });
        c.bench_function("vad: 3 s of audio in one push", |b| {
            let mut probs = Vec::with_capacity(100);
            b.iter(|| {
                let mut stream = models.vad.stream();
                probs.clear();
                stream.push(black_box(three_seconds), &mut probs);
            });
        });

        let fbank = Fbank::new();
        c.bench_function("fbank: 3 s of audio", |b| {
            b.iter(|| fbank.compute(black_box(three_seconds)))
        });

        let speaker_model: &[u8] = include_bytes!("../models/campplus_zh_en_common.f16w.onnx");
        c.bench_function("campplus f16w: load the model", |b| {
            b.iter(|| CamPlusModel::from_bytes(black_box(speaker_model)).unwrap())
        });

        let voice = models.voice().expect("voice");
        c.bench_function("campplus f16w: embed 3 s of speech", |b| {
            b.iter(|| voice.embed_speech(black_box(three_seconds)).unwrap())
        });
        if let Some(path) = std::env::var_os("VOICEPORT_F32_SPEAKER_MODEL") {
            let bytes = std::fs::read(path).expect("f32 model");
            let f32_voice = VoiceEngine::new(
                models.vad.clone(),
                CamPlusModel::from_bytes(&bytes).expect("f32 CAM++"),
            );
            c.bench_function("campplus f32: embed 3 s of speech", |b| {
                b.iter(|| f32_voice.embed_speech(black_box(three_seconds)).unwrap())
            });
        }

        let bytes = encode_pcm16(three_seconds);
        c.bench_function("speech summary of a 3 s recording", |b| {
            b.iter(|| {
                let audio = AudioBuffer::Pcm16 {
                    bytes: black_box(&bytes),
                    sample_rate: 16_000,
                };
                speech_summary(&models, audio).unwrap()
            })
        });
        bench_template(c, &models, "template of a 3 s recording", &bytes);
        bench_template(
            c,
            &models,
            "template of a 14 s recording",
            &encode_pcm16(&samples),
        );
    }

    /// Times a whole template creation (decode, VAD, fbank, CAM++) from 16 kHz PCM16.
    fn bench_template(c: &mut Criterion, models: &Models, name: &str, bytes: &[u8]) {
        c.bench_function(name, |b| {
            b.iter(|| {
                let audio = AudioBuffer::Pcm16 {
                    bytes: black_box(bytes),
                    sample_rate: 16_000,
                };
                voiceport::service::create_template(models, audio).unwrap()
            })
        });
    }

    /// A real-time verify stream (3 s window, a result every 0.5 s) fed
    /// 10 s of speech in 100 ms messages: its cost per streamed second is
    /// the measured time / 10.
    fn verify_stream(c: &mut Criterion) {
        let models = Models::bundled().expect("models");
        let samples = speech();
        let audio = encode_pcm16(&samples[..160_000]);
        let enroll = encode_pcm16(&samples[160_000..]);
        let template = voiceport::service::create_template(
            &models,
            AudioBuffer::Pcm16 {
                bytes: &enroll,
                sample_rate: 16_000,
            },
        )
        .expect("template");
        c.bench_function("verify stream: 10 s of speech in 100 ms messages", |b| {
            b.iter(|| {
                let mut session =
                    voiceport::protocol::Session::for_path("/voice_verify_stream", models.clone())
                        .unwrap();
                for parameter in [template.as_str(), "16000", "3"] {
                    assert_eq!(session.on_text(parameter), "200");
                }
                for message in audio.chunks(3_200) {
                    black_box(session.on_binary(message));
                }
            })
        });
    }

    criterion_group! {
        name = benches;
        config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
        targets = engines, verify_stream
    }
}
