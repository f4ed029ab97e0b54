//! One table of bad input for every WebSocket endpoint and every REST route
//! (PROTOCOL.md §1 and §5), over real sockets.
//!
//! WebSocket: each bad parameter, audio before the parameters, text after
//! the audio started and (Opus) a corrupt packet each get `"500"`; the same
//! connection then takes the good input, and its replies must equal those of
//! a connection that never saw the bad input — nothing lost, nothing changed.
//! REST: each bad request gets its documented status (400 with a JSON error,
//! 405 for a wrong method); the same route then answers a good request
//! exactly as it did before the bad ones.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::socket::{Client, TestServer, multipart, shared_models};
use common::*;
use serde_json::Value;
use voiceport::audio::OggOpusDemuxer;
use voiceport::service::{AudioBuffer, create_template};

/// Three seconds of one speaker: enough for two verify results with a 2 s window.
const SECONDS: usize = 3;

/// Texts no parameter of any endpoint accepts.
fn bad_for_every_parameter() -> Vec<String> {
    let mut bad: Vec<String> = [
        "",
        "   ",
        "abc",
        "-1",
        "NaN",
        "inf",
        "1e400",
        "3600001",
        "99999999999999999999",
        "0x3e80",
        "16 000",
        "１６０００",
        "{}",
        "[16000]",
        "null",
    ]
    .map(String::from)
    .to_vec();
    bad.push("9".repeat(100_000));
    bad
}

/// Parameter kinds, each with bad values beyond the shared ones.
#[derive(Clone, Copy)]
enum Param {
    Milliseconds,
    PcmRate,
    OpusRate,
    Template,
    Window,
}

impl Param {
    fn bad_values(self) -> Vec<String> {
        let mut bad = bad_for_every_parameter();
        let extra: &[&str] = match self {
            Self::Milliseconds => &["1.5", "-0"],
            Self::PcmRate => &["0", "7999", "192001", "16000.5"],
            Self::OpusRate => &["0", "44100", "16000.5", "96000"],
            Self::Template => &["AAAA", "\"\"", "16000"],
            Self::Window => &["0", "-0.5", "3601"],
        };
        bad.extend(extra.iter().map(|s| s.to_string()));
        bad
    }
}

/// One endpoint with good parameters and good audio messages.
struct Case {
    path: &'static str,
    params: Vec<(Param, String)>,
    audio: Vec<Vec<u8>>,
    /// A binary message the endpoint refuses once its parameters are set.
    bad_audio: Option<Vec<u8>>,
}

fn speech() -> Vec<f32> {
    flac_samples(UTTERANCE_103.flac)[..SECONDS * 16_000].to_vec()
}

fn pcm_messages() -> Vec<Vec<u8>> {
    pcm16_bytes(&speech())
        .chunks(3_200)
        .map(<[u8]>::to_vec)
        .collect()
}

/// The first seconds of the Ogg fixture, one Opus packet (20 ms) per message.
fn opus_messages() -> Vec<Vec<u8>> {
    let ogg = include_bytes!("data/opus/librivox_64kbps_20ms.opus");
    let mut packets = Vec::new();
    OggOpusDemuxer::new().push(ogg, &mut packets).unwrap();
    packets.truncate(SECONDS * 50);
    packets
}

fn template() -> String {
    let audio = AudioBuffer::Pcm16 {
        bytes: &pcm16_bytes(&flac_samples(UTTERANCE_103.flac)),
        sample_rate: 16_000,
    };
    create_template(&shared_models(), audio).expect("template")
}

fn cases() -> Vec<Case> {
    let ms = |v: &str| (Param::Milliseconds, v.to_string());
    let pcm_rate = (Param::PcmRate, "16000".to_string());
    let opus_rate = (Param::OpusRate, "16000".to_string());
    let template = (Param::Template, template());
    let window = (Param::Window, "2".to_string());
    let opus = opus_messages();
    // A truncated code-3 packet with the stream's own TOC: the decoder rejects it.
    let corrupt_packet = vec![opus[0][0] | 3, 0xff];
    let pcm = |path, params: Vec<(Param, String)>| Case {
        path,
        params,
        audio: pcm_messages(),
        bad_audio: None,
    };
    let opus_case = |path, params: Vec<(Param, String)>| Case {
        path,
        params,
        audio: opus.clone(),
        bad_audio: Some(corrupt_packet.clone()),
    };
    let endpoint = |rate: &(Param, String)| vec![ms("300"), ms("500"), rate.clone()];
    let verify = |rate: &(Param, String)| vec![template.clone(), rate.clone(), window.clone()];
    vec![
        pcm("/speech_endpoint_detector", endpoint(&pcm_rate)),
        pcm("/speech_summary_stream", vec![pcm_rate.clone()]),
        pcm("/voice_verify_stream", verify(&pcm_rate)),
        pcm("/verify_stream", verify(&pcm_rate)),
        opus_case("/speech_endpoint_detector_opus", endpoint(&opus_rate)),
        opus_case("/speech_summary_stream_opus", vec![opus_rate.clone()]),
        opus_case("/voice_verify_stream_opus", verify(&opus_rate)),
    ]
}

async fn replies(client: &mut Client, audio: &[Vec<u8>]) -> Vec<String> {
    let mut replies = Vec::new();
    for message in audio {
        replies.push(client.ask_binary(message).await);
    }
    replies
}

/// The replies of a connection that only ever sees good input.
async fn clean_replies(server: &TestServer, case: &Case) -> Vec<String> {
    let mut client = server.connect(case.path).await;
    for (_, value) in &case.params {
        assert_eq!(client.ask(value).await, "200", "{}", case.path);
    }
    let replies = replies(&mut client, &case.audio).await;
    client.close().await;
    replies
}

/// The replies of a connection that is sent every bad input of the table
/// between its good messages.
async fn replies_after_bad_input(server: &TestServer, case: &Case) -> Vec<String> {
    let path = case.path;
    let mut client = server.connect(path).await;
    assert_eq!(
        client.ask_binary(&case.audio[0]).await,
        "500",
        "{path}: audio before the parameters"
    );
    for (position, (kind, good)) in case.params.iter().enumerate() {
        for bad in kind.bad_values() {
            assert_eq!(
                client.ask(&bad).await,
                "500",
                "{path}: parameter {position} = {bad:.20?}"
            );
        }
        assert_eq!(
            client.ask(good).await,
            "200",
            "{path}: parameter {position}"
        );
    }
    if let Some(bad_audio) = &case.bad_audio {
        assert_eq!(
            client.ask_binary(bad_audio).await,
            "500",
            "{path}: bad audio"
        );
    }
    let (first, rest) = case.audio.split_first().unwrap();
    let mut replies = vec![client.ask_binary(first).await];
    for text in ["16000", "abc", ""] {
        assert_eq!(
            client.ask(text).await,
            "500",
            "{path}: text {text:?} after audio"
        );
    }
    replies.extend(self::replies(&mut client, rest).await);
    client.close().await;
    replies
}

#[tokio::test]
async fn every_endpoint_answers_bad_input_with_500_and_loses_nothing() {
    let server = TestServer::default().await;
    for case in cases() {
        let clean = clean_replies(&server, &case).await;
        assert!(
            clean.iter().all(|r| r != "500"),
            "{}: good input refused",
            case.path
        );
        let after_bad = replies_after_bad_input(&server, &case).await;
        assert_eq!(after_bad, clean, "{}: replies changed", case.path);
    }
    let (status, health) = server.get("/health").await;
    assert_eq!(status, 200, "{health}");
    server.stop().await;
}

const OCTETS: &str = "application/octet-stream";
const JSON: &str = "application/json";

/// A REST request: method, path, content type and body.
#[derive(Clone)]
struct Request {
    method: &'static str,
    path: String,
    content_type: String,
    body: Vec<u8>,
}

impl Request {
    fn post(path: impl Into<String>, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST",
            path: path.into(),
            content_type: content_type.into(),
            body: body.into(),
        }
    }

    fn with_method(&self, method: &'static str) -> Self {
        Self {
            method,
            ..self.clone()
        }
    }

    async fn send(&self, server: &TestServer) -> (u16, String) {
        let headers = [("content-type", self.content_type.as_str())];
        let response = server
            .request(self.method, &self.path, &headers, &self.body)
            .await;
        (response.status, response.body)
    }
}

/// A route: a good request and bad ones with the status each must get.
struct Route {
    good: Request,
    bad: Vec<(&'static str, Request, u16)>,
}

fn wav_of(samples: &[f32]) -> Vec<u8> {
    wav_bytes(samples, 16_000, 1)
}

/// Bad bodies every POST route refuses with 400, beside its own.
fn bad_bodies(path: &str, content_type: &str) -> Vec<(&'static str, Request, u16)> {
    let garbage: Vec<u8> = (0..4_096u32).map(|i| (i * 7919 % 251) as u8).collect();
    vec![
        ("empty body", Request::post(path, content_type, vec![]), 400),
        (
            "garbage body",
            Request::post(path, content_type, garbage),
            400,
        ),
    ]
}

/// A route taking raw PCM16: any bytes are audio, so only the query can be
/// bad — and, for templates, audio without enough speech (`bodies_refused`).
fn samples_route(route: &str, bodies_refused: bool) -> Route {
    let path = format!("{route}?sample_rate=16000");
    let mut bad = if bodies_refused {
        bad_bodies(&path, OCTETS)
    } else {
        vec![]
    };
    for query in [
        "",
        "?sample_rate=",
        "?sample_rate=abc",
        "?sample_rate=7999",
        "?rate=16000",
    ] {
        let request = Request::post(format!("{route}{query}"), OCTETS, pcm16_bytes(&speech()));
        bad.push(("bad query", request, 400));
    }
    Route {
        good: Request::post(path, OCTETS, pcm16_bytes(&speech())),
        bad,
    }
}

fn file_route(route: &str) -> Route {
    let (content_type, body) = multipart("wav_file", &wav_of(&speech()));
    let mut bad = bad_bodies(route, &content_type);
    let (other_type, no_wav_part) = multipart("other", &wav_of(&speech()));
    bad.push((
        "no wav part",
        Request::post(route, &other_type, no_wav_part),
        400,
    ));
    let (garbage_type, garbage_wav) = multipart("wav_file", b"RIFF\x10\0\0\0WAVEfmt ");
    bad.push((
        "truncated wav",
        Request::post(route, &garbage_type, garbage_wav),
        400,
    ));
    let cut = body[..body.len() / 2].to_vec();
    bad.push((
        "cut multipart",
        Request::post(route, &content_type, cut),
        400,
    ));
    bad.push((
        "not multipart",
        Request::post(route, OCTETS, body.clone()),
        400,
    ));
    Route {
        good: Request::post(route, &content_type, body),
        bad,
    }
}

fn json_route(route: &str, good: String, wrong_shapes: &[&str]) -> Route {
    let mut bad = bad_bodies(route, JSON);
    for shape in ["null", "[1, 2]", "{\"a\": 1}", "\"text\"", "[\"AAAA\"]"]
        .iter()
        .chain(wrong_shapes)
    {
        bad.push((
            "wrong JSON",
            Request::post(route, JSON, shape.as_bytes()),
            400,
        ));
    }
    Route {
        good: Request::post(route, JSON, good.into_bytes()),
        bad,
    }
}

fn routes() -> Vec<Route> {
    let template = template();
    let merge = serde_json::json!([template, template]).to_string();
    let pair = serde_json::json!({ "template1": template, "template2": template }).to_string();
    let half = &template[..template.len() / 2];
    let broken_pair = serde_json::json!({ "template1": template, "template2": half }).to_string();
    let build_info = Request {
        method: "GET",
        path: "/core/get_build_info".into(),
        content_type: JSON.into(),
        body: vec![],
    };
    vec![
        samples_route(
            "/voice_template_factory/create_voice_template_from_samples",
            true,
        ),
        file_route("/voice_template_factory/create_voice_template_from_file"),
        json_route(
            "/voice_template_factory/merge_voice_templates",
            merge,
            &["[]", "[\"\"]"],
        ),
        json_route(
            "/voice_template_matcher/match_voice_templates",
            pair,
            &["{\"template1\": \"x\"}", &broken_pair],
        ),
        samples_route(
            "/speech_summary_engine/get_speech_summary_from_samples",
            false,
        ),
        file_route("/speech_summary_engine/get_speech_summary_from_file"),
        Route {
            bad: vec![("POST", build_info.with_method("POST"), 405)],
            good: build_info,
        },
    ]
}

#[tokio::test]
async fn every_rest_route_answers_bad_input_with_its_status_and_stays_usable() {
    let server = TestServer::default().await;
    for route in routes() {
        let path = route.good.path.clone();
        let (status, before) = route.good.send(&server).await;
        assert_eq!(status, 200, "{path}: {before}");
        let mut bad = route.bad;
        if route.good.method == "POST" {
            bad.push(("GET", route.good.with_method("GET"), 405));
        }
        for (name, request, expected) in bad {
            let (status, reply) = request.send(&server).await;
            assert_eq!(status, expected, "{path}: {name}: {reply}");
            if expected == 400 {
                let error: Value = serde_json::from_str(&reply)
                    .unwrap_or_else(|_| panic!("{path}: {name}: {reply}"));
                assert!(
                    error["error"].as_str().is_some_and(|e| !e.is_empty()),
                    "{path}: {name}: {reply}"
                );
            }
        }
        let (status, after) = route.good.send(&server).await;
        assert_eq!(
            (status, after),
            (200, before),
            "{path}: changed by bad input"
        );
    }
    server.stop().await;
}
