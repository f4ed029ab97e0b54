//! `/voice_verify_stream` over a real socket, and the stream's bounded cost.

use crate::common::socket::{TestServer, shared_models};
use crate::common::*;
use serde_json::Value;
use voiceport::protocol::{VERIFY_CONTEXT_SECONDS, VerifyStream};
use voiceport::service::{AudioBuffer, create_template};

fn template_of(samples: &[f32]) -> String {
    let audio = AudioBuffer::Pcm16 {
        bytes: &pcm16_bytes(samples),
        sample_rate: 16_000,
    };
    create_template(&shared_models(), audio).expect("template")
}

/// Every result of streaming `samples` (16 kHz) at `rate` in `chunk_seconds` messages.
async fn verify(
    server: &TestServer,
    path: &str,
    params: &[String],
    samples: &[f32],
    rate: u32,
    chunk_seconds: f64,
) -> Vec<Value> {
    let mut client = server.connect(path).await;
    for param in params {
        assert_eq!(client.ask(param).await, "200", "parameter {param:.20}");
    }
    let audio = pcm16_bytes(&resample_from_16k(samples, rate));
    let chunk = ((chunk_seconds * f64::from(rate)) as usize * 2).max(2);
    let mut results = Vec::new();
    for piece in audio.chunks(chunk) {
        let reply: Value = serde_json::from_str(&client.ask_binary(piece).await).unwrap();
        results.extend(reply.as_array().expect("array").iter().cloned());
    }
    client.close().await;
    results
}

fn probabilities(results: &[Value]) -> Vec<f64> {
    results
        .iter()
        .map(|r| r["verify_result"]["probability"].as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn verify_stream_accepts_the_speaker_and_rejects_another() {
    let server = TestServer::default().await;
    let enrolled = flac_samples(UTTERANCE_103.flac);
    let (enroll, probe) = enrolled.split_at(enrolled.len() / 2);
    let template = template_of(enroll);
    let other = flac_samples(UTTERANCE_1034.flac);
    let params = [template.clone(), "16000".into(), "3".into()];
    let same = verify(
        &server,
        "/voice_verify_stream",
        &params,
        probe,
        16_000,
        0.25,
    )
    .await;
    let different = verify(&server, "/verify_stream", &params, &other, 16_000, 0.25).await;
    let mean = |p: Vec<f64>| p.iter().sum::<f64>() / p.len() as f64;
    let (p_same, p_diff) = (mean(probabilities(&same)), mean(probabilities(&different)));
    assert!(p_same > 0.7, "same speaker mean probability {p_same}");
    assert!(p_diff < 0.1, "other speaker mean probability {p_diff}");
    // First result at 3 s, then one every 0.5 s.
    let expected = ((probe.len() as f64 / 16_000.0 - 3.0) / 0.5).floor() as usize + 1;
    assert_eq!(same.len(), expected);
    server.stop().await;
}

#[tokio::test]
async fn intervals_are_in_the_client_timeline_and_one_message_can_give_many() {
    let server = TestServer::default().await;
    let speech = flac_samples(UTTERANCE_103.flac);
    let template = template_of(&speech);
    // 4-parameter form: context 5 s, window 2.5 s; one 6 s message at 8 kHz.
    let params = [template, "8000".into(), "5".into(), "2.5".into()];
    let results = verify(
        &server,
        "/voice_verify_stream",
        &params,
        &speech[..96_000],
        8_000,
        6.0,
    )
    .await;
    assert_eq!(results.len(), 8, "results at 2.5, 3.0, … 6.0 s");
    for (k, result) in results.iter().enumerate() {
        let interval = &result["audio_interval"];
        let end = 20_000 + 4_000 * k as u64;
        assert_eq!(interval["end_sample"], end);
        assert_eq!(interval["start_sample"], end - 20_000);
        assert_eq!(interval["sample_rate"], 8_000);
        assert_eq!(interval["end_time"].as_f64().unwrap(), end as f64 / 8.0);
        assert_eq!(
            interval["start_time"].as_f64().unwrap(),
            (end - 20_000) as f64 / 8.0
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn verify_parameters_are_validated() {
    let server = TestServer::default().await;
    let template = template_of(&flac_samples(UTTERANCE_103.flac));
    let mut client = server.connect("/voice_verify_stream").await;
    assert_eq!(client.ask("not a template").await, "500");
    assert_eq!(client.ask(&format!("\"{template}\"")).await, "200");
    assert_eq!(client.ask("44100.5").await, "500");
    assert_eq!(client.ask("44100").await, "200");
    assert_eq!(client.ask("0").await, "500", "window must be > 0");
    assert_eq!(client.ask("2").await, "200");
    assert_eq!(
        client.ask("3").await,
        "500",
        "window longer than the context"
    );
    assert_eq!(client.ask("1.5").await, "200");
    assert_eq!(client.ask("1").await, "500", "text after the parameters");
    assert_eq!(client.ask_binary(&[0; 44_100]).await, "[]");
    client.close().await;

    let mut client = server.connect("/voice_verify_stream").await;
    assert_eq!(
        client.ask_binary(&[0; 100]).await,
        "500",
        "audio before parameters"
    );
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn silence_gets_zero_probability() {
    let server = TestServer::default().await;
    let template = template_of(&flac_samples(UTTERANCE_103.flac));
    let params = [template, "16000".into(), "2".into()];
    let results = verify(
        &server,
        "/voice_verify_stream",
        &params,
        &[0.0; 48_000],
        16_000,
        1.0,
    )
    .await;
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(r["verify_result"]["probability"], 0.0);
        assert_eq!(r["verify_result"]["score"], 0.0);
    }
    server.stop().await;
}

#[test]
fn a_long_stream_keeps_memory_bounded_by_the_context() {
    let models = shared_models();
    let engine = models.voice.clone().expect("speaker model");
    let template = voiceport::voice::VoiceTemplate::from_base64(
        &template_of(&flac_samples(UTTERANCE_103.flac)),
        voiceport::voice::SPEAKER_MODEL,
    )
    .unwrap();
    let mut stream = VerifyStream::new(engine, template, 16_000, 2.0, 4.0);
    // Silence costs only VAD; ten minutes in 10 s messages, sixty times the
    // context (hours of audio: `examples/long_stream.rs`).
    let chunk = vec![0.0f32; 160_000];
    let mut results = 0;
    for _ in 0..60 {
        let mut unlimited = f64::INFINITY;
        let scored = stream.push(&chunk, 160_000, &mut unlimited).unwrap();
        assert_eq!(scored.skipped, 0);
        results += scored.results.len();
        // The context, and the speech the network hears before new speech.
        let bound = (4.0 + VERIFY_CONTEXT_SECONDS) * 16_000.0;
        assert!(
            stream.held_samples() as f64 <= bound,
            "{}",
            stream.held_samples()
        );
    }
    assert_eq!(results, (600 - 2) * 2 + 1);
}

#[test]
fn one_message_has_at_most_its_budget_of_windows_scored() {
    use voiceport::protocol::Session;
    let (speech, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let mut session = Session::for_path("/voice_verify_stream", shared_models()).unwrap();
    for param in [template_of(&speech).as_str(), "16000", "10", "10"] {
        assert_eq!(session.on_text(param), "200");
    }
    // 200 s of speech in one message: 381 windows of 10 s are due. Their new
    // speech would cost ~300 s of network input against a budget of
    // MAX_VERIFIED_SECONDS_PER_MESSAGE: the newest is paid for first, then
    // the oldest while the budget lasts, and the rest are skipped.
    let long: Vec<f32> = speech.iter().copied().cycle().take(200 * 16_000).collect();
    let reply: Value = serde_json::from_str(&session.on_binary(&pcm16_bytes(&long))).unwrap();
    let results = reply.as_array().unwrap();
    let scored = results
        .iter()
        .filter(|r| r["verify_result"]["score"].as_f64().unwrap() != 0.0)
        .count();
    assert!(
        results.len() < 381,
        "{} of 381 windows answered",
        results.len()
    );
    assert!(scored >= 1);
    let newest = &results[results.len() - 1];
    assert_eq!(newest["audio_interval"]["end_sample"], 200 * 16_000);
    assert!(newest["verify_result"]["probability"].as_f64().unwrap() > 0.5);
    // The next message is due one result, and gets it.
    let half_second = pcm16_bytes(&speech[..8_000]);
    let reply: Value = serde_json::from_str(&session.on_binary(&half_second)).unwrap();
    assert_eq!(reply.as_array().unwrap().len(), 1, "{reply}");
    let end = reply[0]["audio_interval"]["end_sample"].as_u64().unwrap();
    assert_eq!(end, 200 * 16_000 + 8_000);
}

#[test]
fn a_late_message_skips_its_embeddings_and_the_stream_catches_up() {
    use voiceport::protocol::{Pace, Session};
    let speech = flac_samples(UTTERANCE_103.flac);
    let start = |late: bool| {
        let mut session = Session::for_path("/voice_verify_stream", shared_models()).unwrap();
        for param in [template_of(&speech).as_str(), "16000", "3"] {
            assert_eq!(session.on_text(param), "200");
        }
        if late {
            session.set_pace(Pace::VeryLate);
        }
        session
    };
    let first = pcm16_bytes(&speech[..16_000 * 4]);
    let on_time: Value = serde_json::from_str(&start(false).on_binary(&first)).unwrap();
    assert_eq!(
        on_time.as_array().unwrap().len(),
        3,
        "windows ending at 3, 3.5, 4 s"
    );
    // Late: answered at once, the windows that need an embedding skipped.
    let mut late = start(true);
    let reply: Value = serde_json::from_str(&late.on_binary(&first)).unwrap();
    assert_eq!(reply, serde_json::json!([]));
    // The next message is on time again and gets its newest window scored.
    let next = pcm16_bytes(&speech[16_000 * 4..16_000 * 5]);
    let reply: Value = serde_json::from_str(&late.on_binary(&next)).unwrap();
    let results = reply.as_array().unwrap();
    assert_eq!(results.len(), 2, "{reply}");
    assert!(results[1]["verify_result"]["probability"].as_f64().unwrap() > 0.9);
    assert_eq!(results[1]["audio_interval"]["end_sample"], 80_000);
}

#[test]
fn thinned_results_come_one_per_interval_and_are_whole() {
    use voiceport::protocol::Session;
    let speech = flac_samples(UTTERANCE_103.flac);
    let run = |interval: f64| -> Vec<Value> {
        let mut session = Session::for_path("/voice_verify_stream", shared_models()).unwrap();
        for param in [template_of(&speech).as_str(), "16000", "3"] {
            assert_eq!(session.on_text(param), "200");
        }
        session.thin_results(interval);
        let mut results = Vec::new();
        for message in speech[..16_000 * 9].chunks(1_600) {
            let reply: Value =
                serde_json::from_str(&session.on_binary(&pcm16_bytes(message))).unwrap();
            results.extend(reply.as_array().unwrap().iter().cloned());
        }
        results
    };
    let ends = |results: &[Value]| -> Vec<u64> {
        results
            .iter()
            .map(|r| r["audio_interval"]["end_sample"].as_u64().unwrap())
            .collect()
    };
    let every = run(0.5);
    assert_eq!(
        ends(&every),
        (0..13).map(|k| 48_000 + 8_000 * k).collect::<Vec<_>>()
    );
    // After 3.5 s a pause: no new speech arrives in the windows ending at
    // 4 to 5 s, whose results cost nothing.
    let score = |result: &Value| result["verify_result"]["score"].as_f64().unwrap();
    assert!(every[1..5].iter().all(|r| score(r) == score(&every[1])));
    // Thinned to 1.5 s: a result that embeds speech every 1.5 s (the speech
    // of the windows skipped waits for it); the result at 5 s, which costs
    // nothing, comes all the same.
    let thinned = run(1.5);
    assert_eq!(
        ends(&thinned),
        [48_000, 72_000, 80_000, 96_000, 120_000, 144_000]
    );
    // A thinned result embeds all the new speech of its window (in one
    // part where the unthinned stream made several): it scores as the same
    // window does unthinned, up to the parts' approximation.
    for (result, end) in thinned.iter().zip(ends(&thinned)) {
        let same = &every[((end - 48_000) / 8_000) as usize];
        let (a, b) = (score(result), score(same));
        assert!(
            (a - b).abs() < 0.05,
            "window ending at {end}: {a} against {b}"
        );
    }
}

#[tokio::test]
async fn a_server_past_capacity_answers_every_message_without_falling_behind() {
    // Every step counts as late: what a saturated pool does to each message.
    let server =
        TestServer::with_flags(&["--late-after-ms", "0", "--inference-threads", "1"]).await;
    let speech = flac_samples(UTTERANCE_103.flac);
    let params = vec![template_of(&speech), "16000".into(), "3".into()];
    let results = verify(
        &server,
        "/voice_verify_stream",
        &params,
        &speech,
        16_000,
        0.1,
    )
    .await;
    // Every message was answered (verify() asks each); windows with speech
    // were skipped rather than embedded late.
    assert!(
        results
            .iter()
            .all(|r| r["verify_result"]["score"].as_f64() == Some(0.0)),
        "{results:?}"
    );
    // And the server thins every stream's results from now on.
    let (status, health) = server.get("/health").await;
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&health).unwrap();
    let interval = health["verify_result_interval"].as_f64().unwrap();
    assert!(interval > 0.5, "{health}");
    server.stop().await;
}

#[test]
fn late_messages_still_feed_a_stream_starved_of_results() {
    use voiceport::protocol::{Pace, STARVED_AFTER_SECONDS, Session};
    let speech = flac_samples(UTTERANCE_103.flac);
    let mut session = Session::for_path("/voice_verify_stream", shared_models()).unwrap();
    for param in [template_of(&speech).as_str(), "16000", "3"] {
        assert_eq!(session.on_text(param), "200");
    }
    let mut late_reply = |from: f64, to: f64| -> Vec<Value> {
        session.set_pace(Pace::Late);
        let part = pcm16_bytes(&speech[(from * 16_000.0) as usize..(to * 16_000.0) as usize]);
        let reply: Value = serde_json::from_str(&session.on_binary(&part)).unwrap();
        reply.as_array().unwrap().clone()
    };
    // 4 s, all late: the windows ending at 3, 3.5 and 4 s are due; a stream
    // without any result yet is starved, so one of them is scored.
    let first = late_reply(0.0, 4.0);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0]["verify_result"]["probability"].as_f64().unwrap() > 0.9);
    // Late again, fed recently: a window with new speech to embed is skipped
    // until the stream has gone without results for STARVED_AFTER_SECONDS of
    // audio (a window without new speech costs nothing and is answered).
    let (mut gap, mut skipped) = (0.0, 0);
    let mut at = 4.0;
    while at < 10.0 {
        let reply = late_reply(at, at + 0.5);
        at += 0.5;
        gap += 0.5;
        if reply.is_empty() {
            skipped += 1;
        } else {
            assert_eq!(reply.len(), 1, "only the newest window: {reply:?}");
            gap = 0.0;
        }
        assert!(gap < STARVED_AFTER_SECONDS + 0.1, "starved for {gap} s");
    }
    assert!(
        skipped >= 4,
        "late messages of a fed stream skip their windows"
    );
}

#[tokio::test]
async fn exact_verify_streams_score_as_the_exact_session_does() {
    let speech = flac_samples(UTTERANCE_103.flac);
    let (enroll, probe) = speech.split_at(speech.len() / 2);
    let params = [template_of(enroll), "16000".into(), "3".into()];
    let scores = |results: &[Value]| -> Vec<f64> {
        let score = |r: &Value| r["verify_result"]["score"].as_f64().unwrap();
        results.iter().map(score).collect()
    };
    // The stream computed exactly in-process, as the browser computes it.
    let models = shared_models().with_exact_streams();
    let mut session =
        voiceport::protocol::Session::for_path("/voice_verify_stream", models).unwrap();
    for param in &params {
        assert_eq!(session.on_text(param), "200");
    }
    let mut exact = Vec::new();
    for piece in pcm16_bytes(probe).chunks(16_000) {
        let reply: Value = serde_json::from_str(&session.on_binary(piece)).unwrap();
        exact.extend(reply.as_array().unwrap().iter().cloned());
    }
    let exact = scores(&exact);
    assert!(exact.len() >= 5);
    let flagged = TestServer::with_flags(&["--exact-verify-streams"]).await;
    let served = verify(
        &flagged,
        "/voice_verify_stream",
        &params,
        probe,
        16_000,
        0.5,
    )
    .await;
    assert_eq!(scores(&served), exact);
    flagged.stop().await;
    // By default the server multiplies in bfloat16 where its CPU can: the
    // same results, their scores moved by rounding only.
    let server = TestServer::default().await;
    let served =
        scores(&verify(&server, "/voice_verify_stream", &params, probe, 16_000, 0.5).await);
    assert_eq!(served.len(), exact.len());
    let largest = served
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    if shared_models().voice().unwrap().speaker().streams_in_bf16() {
        assert!(
            largest > 0.0 && largest < 5e-3,
            "largest difference {largest}"
        );
    } else {
        assert_eq!(largest, 0.0);
    }
    server.stop().await;
}
