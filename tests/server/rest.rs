//! REST endpoints of the native server over a real socket.

use crate::common::socket::{TestServer, multipart};
use crate::common::*;
use serde_json::Value;

const FROM_SAMPLES: &str = "/voice_template_factory/create_voice_template_from_samples";
const FROM_FILE: &str = "/voice_template_factory/create_voice_template_from_file";
const MERGE: &str = "/voice_template_factory/merge_voice_templates";
const MATCH: &str = "/voice_template_matcher/match_voice_templates";
const SUMMARY_SAMPLES: &str = "/speech_summary_engine/get_speech_summary_from_samples";
const SUMMARY_FILE: &str = "/speech_summary_engine/get_speech_summary_from_file";
const QUALITY_SAMPLES: &str = "/voice_template_factory/get_voice_quality_from_samples";
const QUALITY_FILE: &str = "/voice_template_factory/get_voice_quality_from_file";
const OCTETS: &str = "application/octet-stream";

/// A 48 kHz stereo 16-bit WAV of 16 kHz mono samples (both channels equal).
fn stereo_wav_48k(samples: &[f32]) -> Vec<u8> {
    wav_bytes(&resample_from_16k(samples, 48_000), 48_000, 2)
}

async fn matched(server: &TestServer, a: &str, b: &str) -> Value {
    let body = serde_json::json!({ "template1": a, "template2": b }).to_string();
    let (status, reply) = server
        .post(MATCH, "application/json", body.as_bytes())
        .await;
    assert_eq!(status, 200, "{reply}");
    serde_json::from_str(&reply).unwrap()
}

async fn template_of(server: &TestServer, samples: &[f32]) -> String {
    let path = format!("{FROM_SAMPLES}?sample_rate=16000");
    let (status, template) = server.post(&path, OCTETS, &pcm16_bytes(samples)).await;
    assert_eq!(status, 200, "{template}");
    template
}

#[tokio::test]
async fn templates_from_samples_and_files_match_the_right_speaker() {
    let server = TestServer::default().await;
    let speaker_a = flac_samples(UTTERANCE_103.flac);
    let speaker_b = flac_samples(UTTERANCE_1034.flac);
    let (first_half, second_half) = speaker_a.split_at(speaker_a.len() / 2);
    let a1 = template_of(&server, first_half).await;
    let b = template_of(&server, &speaker_b).await;
    for field in ["wav_file", "audio_file"] {
        let (content_type, body) = multipart(field, &stereo_wav_48k(second_half));
        let (status, a2) = server.post(FROM_FILE, &content_type, &body).await;
        assert_eq!(status, 200, "{a2}");
        let same = matched(&server, &a1, &a2).await;
        assert!(same["score"].as_f64().unwrap() > 0.6, "{same}");
        assert!(same["probability"].as_f64().unwrap() > 0.9, "{same}");
    }
    let different = matched(&server, &a1, &b).await;
    assert!(different["score"].as_f64().unwrap() < 0.5, "{different}");
    assert!(
        different["probability"].as_f64().unwrap() < 0.1,
        "{different}"
    );

    let merge_body = serde_json::json!([a1, template_of(&server, second_half).await]).to_string();
    let (status, merged) = server
        .post(MERGE, "application/json", merge_body.as_bytes())
        .await;
    assert_eq!(status, 200, "{merged}");
    let whole = template_of(&server, &speaker_a).await;
    assert!(
        matched(&server, &merged, &whole).await["score"]
            .as_f64()
            .unwrap()
            > 0.95
    );
    server.stop().await;
}

#[tokio::test]
async fn speech_summary_of_samples_and_files_agree() {
    let server = TestServer::default().await;
    let speech = flac_samples(UTTERANCE_1034.flac);
    let path = format!("{SUMMARY_SAMPLES}?sample_rate=16000");
    let (status, body) = server.post(&path, OCTETS, &pcm16_bytes(&speech)).await;
    assert_eq!(status, 200, "{body}");
    let from_samples: Value = serde_json::from_str(&body).unwrap();
    let total = from_samples["total_length"].as_f64().unwrap();
    assert!((total - speech.len() as f64 / 16_000.0).abs() < 1e-9);
    let speech_len = from_samples["speech_signal_length"].as_f64().unwrap();
    let background = from_samples["background_length"].as_f64().unwrap();
    assert!(speech_len > 3.0 && background > 0.3, "{body}");
    assert!(
        from_samples.get("speech_length").is_none(),
        "no stream fields"
    );

    let (content_type, form) = multipart("wav_file", &stereo_wav_48k(&speech));
    let (status, body) = server.post(SUMMARY_FILE, &content_type, &form).await;
    assert_eq!(status, 200, "{body}");
    let from_file: Value = serde_json::from_str(&body).unwrap();
    let file_speech = from_file["speech_signal_length"].as_f64().unwrap();
    assert!(
        (file_speech - speech_len).abs() <= 0.15,
        "{file_speech} vs {speech_len}"
    );
    server.stop().await;
}

#[tokio::test]
async fn client_mistakes_get_400_with_a_json_error() {
    let server = TestServer::default().await;
    let silence = vec![0u8; 32_000];
    let wav_of_silence = {
        let (content_type, body) = multipart("wav_file", &stereo_wav_48k(&[0.0; 16_000]));
        (content_type, body)
    };
    let garbage_form = multipart("wav_file", b"not a wav file");
    let wrong_field = multipart("file", &stereo_wav_48k(&[0.0; 1600]));
    let cases: Vec<(&str, String, &str, Vec<u8>)> = vec![
        ("no rate", FROM_SAMPLES.into(), OCTETS, silence.clone()),
        (
            "bad rate",
            format!("{FROM_SAMPLES}?sample_rate=abc"),
            OCTETS,
            silence.clone(),
        ),
        (
            "low rate",
            format!("{FROM_SAMPLES}?sample_rate=100"),
            OCTETS,
            silence.clone(),
        ),
        (
            "silence",
            format!("{FROM_SAMPLES}?sample_rate=16000"),
            OCTETS,
            silence.clone(),
        ),
        (
            "silent wav",
            FROM_FILE.into(),
            &wav_of_silence.0,
            wav_of_silence.1.clone(),
        ),
        (
            "garbage wav",
            FROM_FILE.into(),
            &garbage_form.0,
            garbage_form.1.clone(),
        ),
        (
            "no wav part",
            FROM_FILE.into(),
            &wrong_field.0,
            wrong_field.1.clone(),
        ),
        ("not multipart", FROM_FILE.into(), OCTETS, silence.clone()),
        (
            "merge not json",
            MERGE.into(),
            "application/json",
            b"[oops".to_vec(),
        ),
        (
            "merge nothing",
            MERGE.into(),
            "application/json",
            b"[]".to_vec(),
        ),
        (
            "merge garbage",
            MERGE.into(),
            "application/json",
            br#"["AAAA"]"#.to_vec(),
        ),
        (
            "match missing",
            MATCH.into(),
            "application/json",
            br#"{"template1":"x"}"#.to_vec(),
        ),
        (
            "match garbage",
            MATCH.into(),
            "application/json",
            br#"{"template1":"x","template2":"y"}"#.to_vec(),
        ),
        (
            "summary rate",
            format!("{SUMMARY_SAMPLES}?sample_rate=0"),
            OCTETS,
            silence.clone(),
        ),
        (
            "summary file",
            SUMMARY_FILE.into(),
            &garbage_form.0,
            garbage_form.1.clone(),
        ),
    ];
    for (name, path, content_type, body) in cases {
        let (status, reply) = server.post(&path, content_type, &body).await;
        assert_eq!(status, 400, "{name}: {reply}");
        let error: Value =
            serde_json::from_str(&reply).unwrap_or_else(|_| panic!("{name}: {reply}"));
        assert!(
            error["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{name}: {reply}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let mut config = voiceport::server::ServerConfig::loopback();
    config.max_message_bytes = 100_000;
    let server = TestServer::start(config).await;
    let path = format!("{SUMMARY_SAMPLES}?sample_rate=16000");
    let (status, _) = server.post(&path, OCTETS, &vec![0; 200_000]).await;
    assert_eq!(status, 413);
    server.stop().await;
}

#[tokio::test]
async fn build_info_and_cors() {
    let server = TestServer::default().await;
    let (status, body) = server.get("/core/get_build_info").await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        info["models"]["speaker"]
            .as_str()
            .unwrap()
            .contains("campplus")
    );
    let preflight = server
        .request(
            "OPTIONS",
            MATCH,
            &[
                ("origin", "https://example.com"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            &[],
        )
        .await;
    assert!(preflight.status < 300, "{}", preflight.head);
    assert!(
        preflight.head.contains("access-control-allow-origin: *"),
        "{}",
        preflight.head
    );
    server.stop().await;
}

/// One request of the parity list: method, path with query, content type, body.
type Request = (&'static str, String, String, Vec<u8>);

/// The requests a client may send, good and bad, to every route.
fn parity_requests() -> Vec<Request> {
    let speech = flac_samples(UTTERANCE_103.flac);
    let pcm = pcm16_bytes(&speech[..16_000 * 4]);
    let wav = wav_bytes(&speech[..16_000 * 3], 16_000, 1);
    let template = voiceport::service::create_template(
        &crate::common::socket::shared_models(),
        voiceport::service::AudioBuffer::Pcm16 {
            bytes: &pcm,
            sample_rate: 16_000,
        },
    )
    .unwrap();
    let octets = || OCTETS.to_string();
    let json = || "application/json".to_string();
    let (form_type, form) = multipart("wav_file", &wav);
    let (other_type, other_form) = multipart("not_audio", &wav);
    let alias = "/verify_engine/create_voice_template_from_samples";
    vec![
        (
            "POST",
            format!("{FROM_SAMPLES}?sample_rate=16000"),
            octets(),
            pcm.clone(),
        ),
        (
            "POST",
            format!("{alias}?sample_rate=16000&channel_type=mono"),
            octets(),
            pcm.clone(),
        ),
        (
            "POST",
            format!("{FROM_SAMPLES}?sample_rate=fast"),
            octets(),
            pcm.clone(),
        ),
        ("POST", FROM_SAMPLES.to_string(), octets(), pcm.clone()),
        (
            "POST",
            format!("{FROM_SAMPLES}?sample_rate=16000"),
            octets(),
            vec![0; 3200],
        ),
        (
            "POST",
            format!("{FROM_SAMPLES}?sample_rate=7"),
            octets(),
            pcm.clone(),
        ),
        (
            "POST",
            FROM_FILE.to_string(),
            form_type.clone(),
            form.clone(),
        ),
        ("POST", FROM_FILE.to_string(), other_type, other_form),
        (
            "POST",
            SUMMARY_FILE.to_string(),
            form_type.clone(),
            form.clone(),
        ),
        ("POST", QUALITY_FILE.to_string(), form_type, form),
        (
            "POST",
            format!("{QUALITY_SAMPLES}?sample_rate=16000"),
            octets(),
            pcm.clone(),
        ),
        (
            "POST",
            format!("{QUALITY_SAMPLES}?sample_rate=16000"),
            octets(),
            vec![0; 32_000],
        ),
        ("POST", QUALITY_SAMPLES.to_string(), octets(), pcm.clone()),
        (
            "POST",
            format!("{SUMMARY_SAMPLES}?sample_rate=16000"),
            octets(),
            pcm.clone(),
        ),
        (
            "POST",
            format!("{SUMMARY_SAMPLES}?sample_rate=44100"),
            octets(),
            vec![1],
        ),
        (
            "POST",
            MERGE.to_string(),
            json(),
            format!("[\"{template}\", \"{template}\"]").into_bytes(),
        ),
        (
            "POST",
            MERGE.to_string(),
            json(),
            b"[\"not a template\"]".to_vec(),
        ),
        ("POST", MERGE.to_string(), json(), b"{".to_vec()),
        (
            "POST",
            MATCH.to_string(),
            json(),
            format!("{{\"template1\":\"{template}\",\"template2\":\"{template}\"}}").into_bytes(),
        ),
        (
            "POST",
            MATCH.to_string(),
            json(),
            b"{\"template1\":\"x\"}".to_vec(),
        ),
        (
            "GET",
            "/core/get_build_info".to_string(),
            String::new(),
            Vec::new(),
        ),
    ]
}

/// The body of the audio part, as the browser's `FormData` hands it over.
fn audio_part(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    let boundary = content_type.split("boundary=").nth(1)?;
    let text = body.to_vec();
    let start = ["wav_file", "audio_file"].iter().find_map(|name| {
        let header = format!("name=\"{name}\"");
        let at = text
            .windows(header.len())
            .position(|w| w == header.as_bytes())?;
        let data = at + text[at..].windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        Some(data)
    })?;
    let end_marker = format!("\r\n--{boundary}");
    let end = start
        + text[start..]
            .windows(end_marker.len())
            .position(|w| w == end_marker.as_bytes())?;
    Some(text[start..end].to_vec())
}

#[tokio::test]
async fn the_whole_request_handler_answers_exactly_as_the_server() {
    use voiceport::protocol::rest::RestRoute;
    use voiceport::service::rest::{RestBody, handle};
    let server = TestServer::default().await;
    let models = crate::common::socket::shared_models();
    for (method, path, content_type, body) in parity_requests() {
        let headers: Vec<(&str, &str)> = if content_type.is_empty() {
            Vec::new()
        } else {
            vec![("content-type", content_type.as_str())]
        };
        let served = server.request(method, &path, &headers, &body).await;
        let (route, query) = path.split_once('?').unwrap_or((&path, ""));
        let route = RestRoute::find(route).expect("a route");
        let part = audio_part(&content_type, &body);
        let body = if route.takes_upload() {
            RestBody::Upload(part.as_deref())
        } else {
            RestBody::Raw(&body)
        };
        let local = handle(&models, route, method, query, body);
        assert_eq!(served.status, local.status, "{path}: {}", served.body);
        assert_eq!(served.body, local.body, "{path}");
        let served_type = served
            .head
            .lines()
            .find_map(|line| line.strip_prefix("content-type: "))
            .unwrap_or("");
        assert_eq!(served_type, local.content_type, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn quality_routes_name_what_is_wrong_with_a_recording() {
    let server = TestServer::default().await;
    let speech = flac_samples(UTTERANCE_103.flac);
    let post = |body: Vec<u8>| {
        let server = &server;
        async move {
            let path = format!("{QUALITY_SAMPLES}?sample_rate=16000");
            server
                .request("POST", &path, &[("content-type", OCTETS)], &body)
                .await
        }
    };
    let good = post(pcm16_bytes(&speech)).await;
    assert_eq!(good.status, 200, "{}", good.body);
    let good: serde_json::Value = serde_json::from_str(&good.body).unwrap();
    assert_eq!(good["problems"], serde_json::json!([]));
    assert!(good["speech_length"].as_f64().unwrap() > 3.0);
    let clipped: Vec<f32> = speech.iter().map(|s| (s * 30.0).clamp(-1.0, 1.0)).collect();
    let clipped = post(pcm16_bytes(&clipped)).await;
    let clipped: serde_json::Value = serde_json::from_str(&clipped.body).unwrap();
    assert!(
        clipped["problems"]
            .as_array()
            .unwrap()
            .contains(&"clipped".into()),
        "{clipped}"
    );
    let silence = post(vec![0; 32_000]).await;
    let silence: serde_json::Value = serde_json::from_str(&silence.body).unwrap();
    assert_eq!(
        silence["problems"],
        serde_json::json!(["too_quiet", "too_little_speech"])
    );
    let missing = server.request("POST", QUALITY_SAMPLES, &[], &[]).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("sample_rate"), "{}", missing.body);
    server.stop().await;
}
