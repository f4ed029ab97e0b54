//! The verify stream embeds each part of the speech once: what a window's
//! result is made of, what it costs, and that neither depends on how the
//! audio was split into messages.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use voiceport::protocol::{
    MIN_VERIFY_SPEECH_SECONDS, Scored, VERIFY_CONTEXT_SECONDS, VERIFY_HOP_SECONDS, VerifyStream,
};
use voiceport::voice::{Band, VoiceEngine, VoiceTemplate, dot};

fn stream(engine: &VoiceEngine, template: &VoiceTemplate) -> VerifyStream {
    VerifyStream::new(engine.clone(), template.clone(), 16_000, 3.0, 3.0)
}

/// (end sample, score) of every result of `samples` pushed in `message`-sample
/// messages without a budget limit.
fn scores(stream: &mut VerifyStream, samples: &[f32], message: usize) -> Vec<(u64, f64)> {
    let mut unlimited = f64::INFINITY;
    samples
        .chunks(message)
        .flat_map(|m| {
            let scored = stream.push(m, m.len() as u64, &mut unlimited).unwrap();
            assert_eq!(scored.skipped, 0);
            scored.results
        })
        .map(|r| (r.audio_interval.end_sample, r.verify_result.score))
        .collect()
}

/// A stream fed `samples` (from the start of a stream) without a budget limit.
fn fed(engine: &VoiceEngine, template: &VoiceTemplate, samples: &[f32]) -> VerifyStream {
    let mut stream = stream(engine, template);
    let mut unlimited = f64::INFINITY;
    let count = samples.len() as u64;
    stream.push(samples, count, &mut unlimited).unwrap();
    stream
}

/// What `stream` spends (seconds of network input) on `samples`, and its results.
fn spent_on(stream: &mut VerifyStream, samples: &[f32]) -> (f64, Scored) {
    let mut budget = 100.0;
    let scored = stream
        .push(samples, samples.len() as u64, &mut budget)
        .unwrap();
    (100.0 - budget, scored)
}

fn enrolled(engine: &VoiceEngine, samples: &[f32]) -> VoiceTemplate {
    engine.template(samples, Band::Wide).expect("template")
}

#[test]
fn results_do_not_depend_on_how_the_audio_was_split() {
    let engine = voice_engine();
    let (speech, _) = wav_samples(LIBRIVOX_GAPS_WAV);
    let template = enrolled(&engine, &speech[14 * 16_000..]);
    let probe = &speech[..12 * 16_000];
    let whole = scores(&mut stream(&engine, &template), probe, probe.len());
    assert_eq!(whole.len(), 19, "windows ending at 3, 3.5, … 12 s");
    for message in [160, 1_600, 7_777, 16_000, 40_000] {
        let split = scores(&mut stream(&engine, &template), probe, message);
        assert_eq!(split, whole, "in messages of {message} samples");
    }
}

#[test]
fn a_window_pools_its_parts_close_to_embedding_it_whole() {
    let engine = voice_engine();
    let speech = flac_samples(UTTERANCE_103.flac);
    let (enroll, probe) = speech.split_at(speech.len() / 2);
    let template = enrolled(&engine, enroll);
    let mut verify = stream(&engine, &template);
    let mut unlimited = f64::INFINITY;
    let hop = (VERIFY_HOP_SECONDS * 16_000.0) as usize;
    let mut cosines = Vec::new();
    for (k, message) in probe.chunks_exact(hop).enumerate() {
        let scored = verify.push(message, hop as u64, &mut unlimited).unwrap();
        let Some(result) = scored.results.last() else {
            continue;
        };
        let end = (k + 1) * hop;
        let window = &probe[end - 48_000..end];
        let speech = engine.speech_of(window).unwrap();
        if (speech.len() as f64) < MIN_VERIFY_SPEECH_SECONDS * 16_000.0 {
            continue;
        }
        let whole = engine.embed_speech(&speech).unwrap();
        let pooled = verify.newest_embedding().expect("a scored window");
        let score = dot(pooled, &template.embedding);
        assert_eq!(result.verify_result.score, f64::from(score));
        cosines.push(dot(pooled, &whole));
    }
    assert!(cosines.len() >= 6, "{} windows", cosines.len());
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    assert!(mean >= 0.9, "cosines {cosines:?}");
    assert!(cosines.iter().all(|&c| c >= 0.8), "cosines {cosines:?}");
}

#[test]
fn a_result_costs_its_new_speech_and_a_window_without_any_costs_nothing() {
    let engine = voice_engine();
    let speech = flac_samples(UTTERANCE_103.flac);
    let template = enrolled(&engine, &speech);
    let mut verify = fed(&engine, &template, &speech[..48_000]);
    // Half a second more speech: that half second and its context, not the
    // window's three seconds.
    let (spent, next) = spent_on(&mut verify, &speech[48_000..56_000]);
    assert_eq!(next.results.len(), 1);
    let most = VERIFY_HOP_SECONDS + VERIFY_CONTEXT_SECONDS + 0.03;
    assert!(spent > 0.0 && spent <= most, "spent {spent} s");
    // Half a second of silence: no new speech, the same parts pooled again,
    // nothing to pay even from an empty budget.
    let mut empty = 0.0;
    let silent = verify.push(&[0.0; 8_000], 8_000, &mut empty).unwrap();
    assert_eq!(silent.results.len(), 1);
    assert_eq!(silent.skipped, 0);
    assert!(silent.results[0].verify_result.probability > 0.5);
}

#[test]
fn a_result_that_cannot_be_paid_for_is_skipped_and_its_speech_goes_to_the_next() {
    let engine = voice_engine();
    let speech = flac_samples(UTTERANCE_103.flac);
    let template = enrolled(&engine, &speech);
    let mut verify = fed(&engine, &template, &speech[..48_000]);
    let mut empty = 0.0;
    let skipped = verify
        .push(&speech[48_000..56_000], 8_000, &mut empty)
        .unwrap();
    assert_eq!((skipped.results.len(), skipped.skipped), (0, 1));
    // The next result embeds both half seconds.
    let (spent, next) = spent_on(&mut verify, &speech[56_000..64_000]);
    assert_eq!(next.results.len(), 1);
    // A stream never short of budget pays less for the same last result.
    let mut always = fed(&engine, &template, &speech[..56_000]);
    let (spent_fed, results) = spent_on(&mut always, &speech[56_000..64_000]);
    assert!(
        spent > spent_fed + 0.2,
        "caught up: {spent} s, fed: {spent_fed} s"
    );
    let fed = results.results.last().unwrap();
    let caught_up = &next.results[0];
    assert_eq!(caught_up.audio_interval, fed.audio_interval);
    let (a, b) = (caught_up.verify_result.score, fed.verify_result.score);
    assert!((a - b).abs() < 0.05, "caught up {a}, always fed {b}");
}

/// A stream fed 3 s of `speech` whose next 2.5 s went unpaid: its results
/// skipped, that speech not embedded.
fn behind(engine: &VoiceEngine, template: &VoiceTemplate, speech: &[f32]) -> VerifyStream {
    let mut verify = fed(engine, template, &speech[..48_000]);
    let mut empty = 0.0;
    let skipped = verify
        .push(&speech[48_000..88_000], 40_000, &mut empty)
        .unwrap();
    assert_eq!((skipped.results.len(), skipped.skipped), (0, 5));
    verify
}

#[test]
fn a_result_short_of_budget_embeds_the_newest_speech_it_pays_for() {
    let engine = voice_engine();
    let speech = flac_samples(UTTERANCE_103.flac);
    let template = enrolled(&engine, &speech);
    let message = &speech[88_000..96_000];
    // A catch-up's budget: the newest second of the 3 s not embedded, and
    // its context — a result, scored on the speech it had, at that cost.
    let mut verify = behind(&engine, &template, &speech);
    let cost = verify.catch_up_cost();
    let mut budget = cost;
    let caught_up = verify.push(message, 8_000, &mut budget).unwrap();
    assert_eq!(caught_up.results.len(), 1);
    assert!((0.0..0.04).contains(&budget), "{budget} s left of {cost} s");
    assert!(caught_up.results[0].verify_result.probability > 0.5);
    // Too little budget for a tenth of a second beside the context: skipped.
    let mut verify = behind(&engine, &template, &speech);
    let mut crumbs = VERIFY_CONTEXT_SECONDS + 0.05;
    let unpaid = verify.push(message, 8_000, &mut crumbs).unwrap();
    assert_eq!((unpaid.results.len(), unpaid.skipped), (0, 1));
    assert_eq!(crumbs, VERIFY_CONTEXT_SECONDS + 0.05);
}

#[test]
fn a_part_reuses_the_front_end_of_the_part_before_it() {
    let engine = voice_engine();
    let speech = engine.speech_of(&flac_samples(UTTERANCE_103.flac)).unwrap();
    let context = (VERIFY_CONTEXT_SECONDS * 16_000.0) as usize;
    let (new, end) = (8_000, 30_000);
    let (_, mut earlier) = engine
        .speech_statistics(&speech[..end - new], end - new, None)
        .unwrap();
    let part = &speech[end - new - context..end];
    let statistics = |previous: Option<&voiceport::voice::SpeechPart>| {
        engine.speech_statistics(part, new, previous).unwrap().0
    };
    let fresh = statistics(None);
    let reusing = statistics(Some(&earlier));
    let embed = |statistics| engine.embed_statistics(statistics).unwrap();
    // Its context's front-end output comes from the part before: the same
    // speech, normalised by that part's mean and framed half a frame apart
    // here, so close but not equal (0.98 on average over the parts of two
    // utterances, 0.89 the least).
    assert_ne!(reusing, fresh);
    let cosine = dot(&embed(&reusing), &embed(&fresh));
    assert!(cosine >= 0.95, "cosine {cosine}");
    // Kept for no more than the context, it is still reused the same way.
    earlier.keep_last(context);
    assert_eq!(statistics(Some(&earlier)), reusing);
    // A part before that holds less than the context is not used.
    earlier.keep_last(context / 2);
    assert_eq!(statistics(Some(&earlier)), fresh);
}
