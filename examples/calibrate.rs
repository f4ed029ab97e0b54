//! Fits the score → probability calibration and measures verification
//! accuracy through the whole Rust pipeline (PCM16 → resample → VAD → fbank
//! → CAM++ → template → score).
//!
//! Usage: `cargo run --release --example calibrate -- <dir of 16 kHz FLAC files, one speaker each>`
//!
//! Each file is cut into two halves. Same-speaker pairs: the two halves of
//! one file; different-speaker pairs: halves of different files. Conditions:
//! "full" (each half enrolled as a template) and "3 s" (the second half
//! streamed through a verify stream up to a 3 s window past its middle, that
//! window's embedding against the template of the first half). The logistic fit uses the full condition
//! with both classes weighted equally (a 50 % prior).
//!
//! The telephone band: every file low-passed under 3.6 kHz and sent as an
//! 8 kHz client sends it (both halves, and 16 kHz templates against 8 kHz
//! halves).
//!
//! The accuracy cost of the fixed planned lengths is measured too: "full
//! halves, exact length" embeds each half's speech at its own length (one
//! plan per length, as a symbolic-length model would) instead of the planned
//! windows, and the cosine between the two embeddings is reported.

use std::collections::HashMap;
use std::path::PathBuf;

#[path = "support/speech_files.rs"]
mod speech_files;

use speech_files::{flac_files, read_flac, telephone, through_pcm_input};

use voiceport::protocol::{MIN_VERIFY_SPEECH_SECONDS, VERIFY_HOP_SECONDS, VerifyStream};
use voiceport::vad::SileroModel;
use voiceport::voice::{
    Band, CALIBRATION_OFFSET, CALIBRATION_SLOPE, CamPlusModel, Fbank, VoiceEngine, VoiceTemplate, dot,
    normalized,
};

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: calibrate <flac dir>"),
    );
    let files = flac_files(&dir);
    let engine = engine();
    let mut enrolled = Vec::new();
    let mut probes_full = Vec::new();
    let mut probes_3s = Vec::new();
    let mut exact_enrolled = Vec::new();
    let mut exact_probes = Vec::new();
    let mut agreement = Vec::new();
    let mut enrolled_by_file = HashMap::new();
    for path in &files {
        let samples = through_pcm_input(&read_flac(path), 16_000);
        let (a, b) = samples.split_at(samples.len() / 2);
        let (Ok(ta), Ok(tb)) = (engine.template(a, Band::Wide), engine.template(b, Band::Wide)) else {
            eprintln!("skipped {}: not enough speech", path.display());
            continue;
        };
        let probe = window_probe(&engine, &ta, b);
        let (exact_a, exact_b) = (
            exact_length_embedding(&engine, a),
            exact_length_embedding(&engine, b),
        );
        agreement.push(f64::from(dot(&ta.embedding, &exact_a)));
        agreement.push(f64::from(dot(&tb.embedding, &exact_b)));
        exact_enrolled.push(exact_a);
        exact_probes.push(exact_b);
        enrolled_by_file.insert(path.clone(), ta.embedding.clone());
        enrolled.push(ta);
        probes_full.push(tb.embedding);
        probes_3s.push(probe);
    }
    let n = enrolled.len();
    println!("speakers: {n}");
    let full = scores(&enrolled, |j| Some(probes_full[j].clone()));
    let short = scores(&enrolled, |j| probes_3s[j].streamed.clone());
    let whole = scores(&enrolled, |j| probes_3s[j].whole.clone());
    let (slope, offset) = fit_logistic(&full.0, &full.1);
    println!("\ncalibration: slope = {slope:.4}, offset = {offset:.4}");
    for (name, (targets, nontargets)) in [
        ("full halves", &full),
        ("3 s windows", &short),
        ("3 s windows, embedded whole (before)", &whole),
    ] {
        report(name, targets, nontargets);
    }
    calibration_per_band("16 kHz: full halves", &full.0, &full.1);
    let templates: Vec<Vec<f32>> = enrolled.iter().map(|t| t.embedding.clone()).collect();
    for top in [50, 100, 200] {
        let full = as_norm_scores(&templates, |j| Some(probes_full[j].clone()), top);
        report(
            &format!("full halves, AS-norm (top {top})"),
            &full.0,
            &full.1,
        );
        let short = as_norm_scores(&templates, |j| probes_3s[j].streamed.clone(), top);
        report(
            &format!("3 s windows, AS-norm (top {top})"),
            &short.0,
            &short.1,
        );
    }
    let exact = scores_of(&exact_enrolled, |j| Some(exact_probes[j].clone()));
    report(
        "full halves, exact length (not shipped)",
        &exact.0,
        &exact.1,
    );
    telephone_band(&engine, &files, &enrolled_by_file);
    agreement.sort_by(f64::total_cmp);
    println!(
        "\nplanned vs exact-length embeddings: cosine mean {:.5}, min {:.5}",
        agreement.iter().sum::<f64>() / agreement.len() as f64,
        agreement[0]
    );
}

/// The embedding of the verify stream's 3 s window that ends nearest 1.5 s
/// after the middle of `half`: `half` streamed up to there in 100 ms
/// messages through a real verify stream, as a 16 kHz client sends it
/// (`None`: too little speech in that window), and the same window's speech
/// embedded whole. A half shorter than 3 s is followed by silence, so that
/// its window holds all of it.
fn window_probe(engine: &VoiceEngine, template: &VoiceTemplate, half: &[f32]) -> WindowProbe {
    const WINDOW: usize = 48_000;
    let hop = (VERIFY_HOP_SECONDS * 16_000.0) as usize;
    let mut audio = half.to_vec();
    audio.resize(audio.len().max(WINDOW), 0.0);
    let end = ((audio.len() / 2 + WINDOW / 2).max(WINDOW) / hop * hop).min(audio.len() / hop * hop);
    let mut stream = VerifyStream::new(engine.clone(), template.clone(), 16_000, 3.0, 3.0);
    let mut unbounded = f64::INFINITY;
    for message in audio[..end].chunks(1_600) {
        let samples = message.len() as u64;
        stream
            .push(message, samples, &mut unbounded)
            .expect("verify stream");
    }
    let whole = engine.speech_of(&audio[end - WINDOW..end]).expect("VAD");
    let whole = (whole.len() as f64 >= MIN_VERIFY_SPEECH_SECONDS * 16_000.0)
        .then(|| engine.embed_speech(&whole).expect("embedding"));
    WindowProbe {
        streamed: stream.newest_embedding().map(<[f32]>::to_vec),
        whole,
    }
}

/// A 3 s window's embedding as the verify stream makes it (its parts'
/// statistics pooled) and embedded whole (as the stream did before).
struct WindowProbe {
    streamed: Option<Vec<f32>>,
    whole: Option<Vec<f32>>,
}

/// The same speakers as 8 kHz (telephone-band) clients: both halves at
/// 8 kHz, and a 16 kHz template (`enrolled16`) against 8 kHz probes.
fn telephone_band(
    engine: &VoiceEngine,
    files: &[PathBuf],
    enrolled16: &HashMap<PathBuf, Vec<f32>>,
) {
    let mut enrolled = Vec::new();
    let mut probes_full = Vec::new();
    let mut probes_3s = Vec::new();
    let mut cross_enrolled = Vec::new();
    for path in files {
        let samples = through_pcm_input(&telephone(&read_flac(path)), 8_000);
        let (a, b) = samples.split_at(samples.len() / 2);
        let (Ok(ta), Ok(tb)) = (engine.template(a, Band::Narrow), engine.template(b, Band::Narrow)) else {
            eprintln!("8 kHz: skipped {}: not enough speech", path.display());
            continue;
        };
        cross_enrolled.push(enrolled16.get(path).cloned());
        probes_3s.push(window_probe(engine, &ta, b).streamed);
        probes_full.push(tb.embedding);
        enrolled.push(ta);
    }
    let full = scores(&enrolled, |j| Some(probes_full[j].clone()));
    let short = scores(&enrolled, |j| probes_3s[j].clone());
    report("8 kHz: full halves", &full.0, &full.1);
    report("8 kHz: 3 s windows", &short.0, &short.1);
    calibration_per_band("8 kHz: full halves", &full.0, &full.1);
    // 16 kHz templates of the speakers that have one, against 8 kHz halves.
    let pairs: Vec<(Vec<f32>, Vec<f32>)> = cross_enrolled
        .iter()
        .zip(&probes_full)
        .filter_map(|(t, p)| Some((t.clone()?, p.clone())))
        .collect();
    let templates: Vec<Vec<f32>> = pairs.iter().map(|(t, _)| t.clone()).collect();
    let cross = scores_of(&templates, |j| Some(pairs[j].1.clone()));
    report("16 kHz template, 8 kHz full halves", &cross.0, &cross.1);
    calibration_per_band("16 kHz template, 8 kHz full halves", &cross.0, &cross.1);
}

/// What `probability` means on a condition: the pairs it accepts (above
/// one half) with the shipped 16 kHz calibration and with the condition's
/// own fit.
fn calibration_per_band(name: &str, targets: &[f64], nontargets: &[f64]) {
    let (slope, offset) = fit_logistic(targets, nontargets);
    println!("\n{name}: own calibration slope = {slope:.4}, offset = {offset:.4}");
    let fits = [
        ("shipped", CALIBRATION_SLOPE, CALIBRATION_OFFSET),
        ("own", slope, offset),
    ];
    for (label, a, b) in fits {
        let accepted = |scores: &[f64]| {
            let p = |s: f64| 1.0 / (1.0 + (-(a * s + b)).exp());
            scores.iter().filter(|&&s| p(s) > 0.5).count() as f64 / scores.len() as f64
        };
        println!(
            "  {label:>7}: false rejects {:.2} %, false accepts {:.3} % at probability 0.5",
            100.0 * (1.0 - accepted(targets)),
            100.0 * accepted(nontargets)
        );
    }
}

/// Unit embedding of a recording's speech at its own length, no planned windows.
fn exact_length_embedding(engine: &VoiceEngine, samples: &[f32]) -> Vec<f32> {
    let speech = engine.speech_of(samples).expect("VAD");
    let mut features = Fbank::new().compute(&speech);
    features.subtract_mean();
    normalized(&engine.speaker().embed(&features).expect("embedding")).expect("unit vector")
}

/// The shipped models; `VOICEPORT_SPEAKER_MODEL` picks another speaker model file.
fn engine() -> VoiceEngine {
    let vad = std::fs::read("models/silero_vad_openvino_16k.onnx").expect("VAD model");
    let speaker = std::fs::read(
        std::env::var("VOICEPORT_SPEAKER_MODEL")
            .unwrap_or_else(|_| "models/campplus_zh_en_common.f16w.onnx".into()),
    )
    .expect("speaker model");
    let vad = SileroModel::from_bytes(&vad).expect("VAD");
    VoiceEngine::new(vad, CamPlusModel::from_bytes(&speaker).expect("CAM++"))
}

/// Target and non-target scores of every enrolled template against every probe.
fn scores(
    enrolled: &[VoiceTemplate],
    probe: impl Fn(usize) -> Option<Vec<f32>>,
) -> (Vec<f64>, Vec<f64>) {
    let embeddings: Vec<Vec<f32>> = enrolled.iter().map(|t| t.embedding.clone()).collect();
    scores_of(&embeddings, probe)
}

/// Target and non-target scores of every enrolled embedding against every probe.
fn scores_of(
    enrolled: &[Vec<f32>],
    probe: impl Fn(usize) -> Option<Vec<f32>>,
) -> (Vec<f64>, Vec<f64>) {
    let (mut targets, mut nontargets) = (Vec::new(), Vec::new());
    for j in 0..enrolled.len() {
        // A window with too little speech scores 0, as in the verify stream.
        let p = probe(j);
        for (i, t) in enrolled.iter().enumerate() {
            let score = p.as_ref().map_or(0.0, |p| f64::from(dot(t, p)));
            if i == j {
                targets.push(score)
            } else {
                nontargets.push(score)
            }
        }
    }
    (targets, nontargets)
}

/// Adaptive symmetric score normalisation (AS-norm): each score set against
/// the mean and deviation of the `top` highest scores of each side against a
/// cohort — the other speakers' templates, the two speakers compared left
/// out. A probe with too little speech scores −10 (rejected).
fn as_norm_scores(
    enrolled: &[Vec<f32>],
    probe: impl Fn(usize) -> Option<Vec<f32>>,
    top: usize,
) -> (Vec<f64>, Vec<f64>) {
    let ranked = |embedding: &[f32]| -> Vec<(f64, usize)> {
        let mut scores: Vec<(f64, usize)> = enrolled
            .iter()
            .enumerate()
            .map(|(k, cohort)| (f64::from(dot(embedding, cohort)), k))
            .collect();
        scores.sort_by(|a, b| b.0.total_cmp(&a.0));
        scores
    };
    let statistics = |ranks: &[(f64, usize)], left_out: [usize; 2]| -> (f64, f64) {
        let best: Vec<f64> = ranks
            .iter()
            .filter(|(_, k)| !left_out.contains(k))
            .take(top)
            .map(|(score, _)| *score)
            .collect();
        let mean = best.iter().sum::<f64>() / best.len() as f64;
        let variance = best.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / best.len() as f64;
        (mean, variance.sqrt().max(1e-6))
    };
    let enrolled_ranks: Vec<_> = enrolled.iter().map(|e| ranked(e)).collect();
    let (mut targets, mut nontargets) = (Vec::new(), Vec::new());
    for j in 0..enrolled.len() {
        let p = probe(j);
        let probe_ranks = p.as_deref().map(ranked);
        for (i, template) in enrolled.iter().enumerate() {
            let score = match (&p, &probe_ranks) {
                (Some(p), Some(ranks)) => {
                    let raw = f64::from(dot(template, p));
                    let (me, se) = statistics(&enrolled_ranks[i], [i, j]);
                    let (mp, sp) = statistics(ranks, [i, j]);
                    0.5 * ((raw - me) / se + (raw - mp) / sp)
                }
                _ => -10.0,
            };
            if i == j {
                targets.push(score)
            } else {
                nontargets.push(score)
            }
        }
    }
    (targets, nontargets)
}

/// Class-balanced logistic regression on one feature, by Newton's method.
fn fit_logistic(targets: &[f64], nontargets: &[f64]) -> (f64, f64) {
    let (wt, wn) = (0.5 / targets.len() as f64, 0.5 / nontargets.len() as f64);
    let data: Vec<(f64, f64, f64)> = targets
        .iter()
        .map(|&s| (s, 1.0, wt))
        .chain(nontargets.iter().map(|&s| (s, 0.0, wn)))
        .collect();
    let (mut a, mut b) = (1.0f64, 0.0f64);
    // A little L2 regularisation keeps the fit finite if classes separate.
    let ridge = 1e-4;
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (ridge * a, 0.0, ridge, 0.0, 0.0);
        for &(s, y, w) in &data {
            let p = 1.0 / (1.0 + (-(a * s + b)).exp());
            let r = w * (p - y);
            let h = w * p * (1.0 - p);
            ga += r * s;
            gb += r;
            haa += h * s * s;
            hab += h * s;
            hbb += h;
        }
        let det = haa * hbb - hab * hab;
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-10 {
            break;
        }
    }
    (a, b)
}

fn report(name: &str, targets: &[f64], nontargets: &[f64]) {
    let eer = equal_error_rate(targets, nontargets);
    let frr = false_reject_at(targets, nontargets, 0.001);
    println!("\n## {name}");
    println!(
        "pairs: {} target, {} non-target",
        targets.len(),
        nontargets.len()
    );
    println!("EER: {:.2} %", eer * 100.0);
    println!("false rejects at 0.1 % false accepts: {:.2} %", frr * 100.0);
    for (label, scores) in [("target", targets), ("non-target", nontargets)] {
        let mut s = scores.to_vec();
        s.sort_by(f64::total_cmp);
        let q = |f: f64| s[((s.len() - 1) as f64 * f).round() as usize];
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        println!(
            "{label:>10} scores: mean {mean:.3}, min {:.3}, 1% {:.3}, 50% {:.3}, 99% {:.3}, max {:.3}",
            q(0.0),
            q(0.01),
            q(0.5),
            q(0.99),
            q(1.0)
        );
    }
}

/// Rate at which both errors are equal, scanning every threshold.
fn equal_error_rate(targets: &[f64], nontargets: &[f64]) -> f64 {
    let mut thresholds: Vec<f64> = targets.iter().chain(nontargets).copied().collect();
    thresholds.sort_by(f64::total_cmp);
    let mut best = (f64::MAX, 0.0);
    for &t in &thresholds {
        let frr = targets.iter().filter(|&&s| s < t).count() as f64 / targets.len() as f64;
        let far = nontargets.iter().filter(|&&s| s >= t).count() as f64 / nontargets.len() as f64;
        if (frr - far).abs() < best.0 {
            best = ((frr - far).abs(), (frr + far) / 2.0);
        }
    }
    best.1
}

/// False-reject rate at the lowest threshold whose false-accept rate ≤ `far`.
fn false_reject_at(targets: &[f64], nontargets: &[f64], far: f64) -> f64 {
    let mut sorted = nontargets.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = (far * nontargets.len() as f64).floor() as usize;
    let threshold = sorted.get(allowed).copied().unwrap_or(f64::MIN);
    targets.iter().filter(|&&s| s <= threshold).count() as f64 / targets.len() as f64
}
