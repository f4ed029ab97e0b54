//! Fits the score → probability calibration and measures verification
//! accuracy through the whole Rust pipeline (PCM16 → resample → VAD → fbank
//! → CAM++ → template → verify stream → cohort normalisation).
//!
//! Usage: `cargo run --release --example calibrate -- <dir of 16 kHz FLAC files, one speaker each>`
//!
//! Every file is sent as a 16 kHz client sends it (wide band) and as an
//! 8 kHz client (narrow: low-passed under 3.6 kHz), and cut into two halves.
//! Same-speaker pairs come from one file, different-speaker pairs from two.
//! Conditions, for each pairing of bands (wide/wide, narrow/narrow, a wide
//! template against narrow audio):
//! - full halves: the first half's template against the second half's;
//! - 3 s windows: each half streamed through a real verify stream in 100 ms
//!   messages, the windows ending at 3 s, 6 s, … of it against the other
//!   half's template. A window with too little speech is answered
//!   `probability` 0 by the stream: it is counted apart, not as a pair.
//!
//! Scores: the raw cosine, and the cohort-normalised score the server uses
//! (`voiceport::voice::Cohort`). The speakers are split in two folds by
//! position; pairs within one fold are normalised against a cohort made of
//! the other fold's whole recordings, so no speaker is ever scored against
//! a cohort holding themselves. A calibration is fitted for each band
//! pairing on the normalised scores of its full halves, both classes
//! weighted equally (a 50 % prior), and its reliability is shown on every
//! condition.

use std::path::PathBuf;

#[path = "support/shipped_models.rs"]
mod shipped_models;
#[path = "support/speech_files.rs"]
mod speech_files;

use shipped_models::shipped_models;
use speech_files::{flac_files, read_flac, telephone, through_pcm_input};

use voiceport::protocol::VerifyStream;
use voiceport::voice::{Band, Calibration, Cohort, EMBEDDING_DIM, VoiceEngine, VoiceTemplate, dot};

/// A verify stream's window, in 16 kHz samples.
const WINDOW: usize = 48_000;

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: calibrate <flac dir>"),
    );
    let engine = engine();
    let speakers: Vec<Speaker> = flac_files(&dir)
        .iter()
        .filter_map(|path| {
            let speaker = Speaker::heard(&engine, &read_flac(path));
            if speaker.is_none() {
                eprintln!("skipped {}: not enough speech", path.display());
            }
            speaker
        })
        .collect();
    println!("speakers: {}", speakers.len());
    let cohorts = [0, 1].map(|fold| cohort_without(&speakers, fold));
    let conditions = Condition::all();
    let scored: Vec<Scores> = conditions
        .iter()
        .map(|c| c.scores(&speakers, &cohorts))
        .collect();
    // Each pairing's calibration, fitted on its full halves.
    let fit_of = |condition: &Condition| {
        let (_, full) = conditions
            .iter()
            .zip(&scored)
            .find(|(c, _)| !c.windows && c.pairs_like(condition))
            .expect("every pairing has full halves");
        fit_logistic(&full.normalised)
    };
    let fits: Vec<Calibration> = conditions.iter().map(fit_of).collect();
    print_fits(&conditions, &fits);
    let raw_fit = fit_logistic(&scored[0].raw);
    println!(
        "calibration of raw cosines, 16 kHz full halves: slope = {:.4}, offset = {:.4}",
        raw_fit.slope, raw_fit.offset
    );
    print_error_rates(&conditions, &scored);
    print_decisions(&conditions, &scored, &fits, &raw_fit);
    print_reliability(&conditions, &scored, &fits);
}

/// Each pairing's fit beside the calibration shipped for it.
fn print_fits(conditions: &[Condition], fits: &[Calibration]) {
    for (condition, fit) in conditions.iter().zip(fits).filter(|(c, _)| !c.windows) {
        let shipped = Calibration::of_bands(condition.enrolled, condition.probe);
        println!(
            "\n{}: calibration of normalised scores: slope = {:.4}, offset = {:.4} (shipped: {:.4}, {:.4})",
            condition.name(),
            fit.slope,
            fit.offset,
            shipped.slope,
            shipped.offset
        );
    }
}

/// The table of equal-error rates and false rejects at 0.1 % false accepts.
fn print_error_rates(conditions: &[Condition], scored: &[Scores]) {
    println!(
        "\n| condition | pairs (target / non-target) | windows too short to score | raw cosine: EER | false rejects at 0.1 % false accepts | normalised: EER | false rejects at 0.1 % false accepts |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (condition, scores) in conditions.iter().zip(scored) {
        println!(
            "| {} | {} / {} | {} | {:.2} % | {:.2} % | {:.2} % | {:.2} % |",
            condition.name(),
            scores.raw.targets.len(),
            scores.raw.nontargets.len(),
            scores.unscored,
            100.0 * equal_error_rate(&scores.raw),
            100.0 * false_rejects_at(&scores.raw, 0.001),
            100.0 * equal_error_rate(&scores.normalised),
            100.0 * false_rejects_at(&scores.normalised, 0.001),
        );
    }
}

/// The table of what `probability > 0.5` decides, before and now.
fn print_decisions(
    conditions: &[Condition],
    scored: &[Scores],
    fits: &[Calibration],
    raw_fit: &Calibration,
) {
    println!(
        "\nWhat `probability > 0.5` decides: raw cosines with the calibration before cohort normalisation (16 kHz full halves' fit), normalised scores with their pairing's fit above."
    );
    println!(
        "\n| condition | before: false rejects / false accepts | now: false rejects / false accepts |"
    );
    println!("|---|---|---|");
    for ((condition, scores), fit) in conditions.iter().zip(scored).zip(fits) {
        let before = decisions(&scores.raw, raw_fit);
        let now = decisions(&scores.normalised, fit);
        println!(
            "| {} | {:.2} % / {:.3} % | {:.2} % / {:.3} % |",
            condition.name(),
            before.0,
            before.1,
            now.0,
            now.1
        );
    }
}

/// The table of the fits' reliability, bin by bin.
fn print_reliability(conditions: &[Condition], scored: &[Scores], fits: &[Calibration]) {
    println!(
        "\nReliability of the fits above: the share of pairs in each `probability` bin that are same-speaker pairs, each class weighted equally (the 50 % prior the fit assumes); in brackets the share of target / non-target pairs falling in the bin."
    );
    println!("\n| condition | 0–0.2 | 0.2–0.4 | 0.4–0.6 | 0.6–0.8 | 0.8–1 |");
    println!("|---|---|---|---|---|---|");
    for ((condition, scores), fit) in conditions.iter().zip(scored).zip(fits) {
        let bins: Vec<String> = reliability(&scores.normalised, fit)
            .iter()
            .map(|(share, t, n)| match share {
                Some(share) => format!("{share:.2} ({:.1} % / {:.2} %)", 100.0 * t, 100.0 * n),
                None => "—".into(),
            })
            .collect();
        println!("| {} | {} |", condition.name(), bins.join(" | "));
    }
}

/// One speaker heard in both bands.
struct Speaker {
    wide: Heard,
    narrow: Heard,
}

impl Speaker {
    /// The speaker of a 16 kHz recording, or `None` if a half of it has too
    /// little speech for a template in either band.
    fn heard(engine: &VoiceEngine, recording: &[i16]) -> Option<Self> {
        Some(Self {
            wide: Heard::of(engine, &through_pcm_input(recording, 16_000), Band::Wide)?,
            narrow: Heard::of(
                engine,
                &through_pcm_input(&telephone(recording), 8_000),
                Band::Narrow,
            )?,
        })
    }

    fn in_band(&self, band: Band) -> &Heard {
        match band {
            Band::Wide => &self.wide,
            Band::Narrow => &self.narrow,
        }
    }
}

/// A recording as one client sent it: its halves' templates, their verify
/// stream windows, and the whole recording's template (for cohorts).
struct Heard {
    halves: [VoiceTemplate; 2],
    windows: [Vec<Option<Vec<f32>>>; 2],
    whole: Vec<f32>,
}

impl Heard {
    fn of(engine: &VoiceEngine, samples: &[f32], band: Band) -> Option<Self> {
        let (a, b) = samples.split_at(samples.len() / 2);
        let halves = [
            engine.template(a, band).ok()?,
            engine.template(b, band).ok()?,
        ];
        let windows = [
            stream_windows(engine, &halves[1], a),
            stream_windows(engine, &halves[0], b),
        ];
        let whole = engine.template(samples, band).ok()?.embedding;
        Some(Self {
            halves,
            windows,
            whole,
        })
    }
}

/// The embeddings of a verify stream's 3 s windows ending at 3 s, 6 s, … of
/// `half` (streamed in 100 ms messages as a 16 kHz client sends it); `None`
/// where a window had too little speech. A half shorter than 3 s is followed
/// by silence, so that its one window holds all of it.
fn stream_windows(
    engine: &VoiceEngine,
    template: &VoiceTemplate,
    half: &[f32],
) -> Vec<Option<Vec<f32>>> {
    let mut audio = half.to_vec();
    audio.resize(audio.len().max(WINDOW), 0.0);
    let mut stream = VerifyStream::new(engine.clone(), template.clone(), 16_000, 3.0, 3.0);
    let mut unbounded = f64::INFINITY;
    let mut windows = Vec::new();
    let mut sent = 0;
    for message in audio.chunks(1_600) {
        stream
            .push(message, message.len() as u64, &mut unbounded)
            .expect("verify stream");
        sent += message.len();
        if sent % WINDOW == 0 {
            windows.push(stream.newest_embedding().map(<[f32]>::to_vec));
        }
    }
    windows
}

/// The cohort of the speakers not in `fold` (by position): their whole
/// recordings, heard in each band.
fn cohort_without(speakers: &[Speaker], fold: usize) -> Cohort {
    let others = || speakers.iter().skip(1 - fold).step_by(2);
    Cohort::new(
        EMBEDDING_DIM,
        others().map(|s| s.wide.whole.clone()).collect(),
        others().map(|s| s.narrow.whole.clone()).collect(),
    )
    .expect("cohort")
}

/// Which templates are scored against which audio.
struct Condition {
    enrolled: Band,
    probe: Band,
    windows: bool,
}

impl Condition {
    fn all() -> Vec<Self> {
        let pairings = [
            (Band::Wide, Band::Wide),
            (Band::Narrow, Band::Narrow),
            (Band::Wide, Band::Narrow),
        ];
        pairings
            .into_iter()
            .flat_map(|(enrolled, probe)| {
                [false, true].map(|windows| Condition {
                    enrolled,
                    probe,
                    windows,
                })
            })
            .collect()
    }

    /// Whether `other` compares the same bands.
    fn pairs_like(&self, other: &Condition) -> bool {
        (self.enrolled, self.probe) == (other.enrolled, other.probe)
    }

    fn name(&self) -> String {
        let band = |b: Band| match b {
            Band::Wide => "16 kHz",
            Band::Narrow => "8 kHz",
        };
        let kind = if self.windows {
            "3 s windows"
        } else {
            "full halves"
        };
        if self.enrolled == self.probe {
            format!("{}, {kind}", band(self.probe))
        } else {
            format!(
                "{} template, {} {kind}",
                band(self.enrolled),
                band(self.probe)
            )
        }
    }

    /// Every pair of this condition within one fold, scored both ways.
    fn scores(&self, speakers: &[Speaker], cohorts: &[Cohort; 2]) -> Scores {
        let mut scores = Scores::default();
        for (i, enrolled) in speakers.iter().enumerate() {
            let enrolled = enrolled.in_band(self.enrolled);
            let cohort = &cohorts[i % 2];
            for (j, probe) in speakers.iter().enumerate().skip(i % 2).step_by(2) {
                let probe = probe.in_band(self.probe);
                for (half, template) in enrolled.halves.iter().enumerate() {
                    let other = 1 - half;
                    let probes: Vec<Option<&Vec<f32>>> = if self.windows {
                        probe.windows[other].iter().map(Option::as_ref).collect()
                    } else if half == 0 {
                        vec![Some(&probe.halves[1].embedding)]
                    } else {
                        vec![]
                    };
                    for embedding in probes {
                        let Some(embedding) = embedding else {
                            scores.unscored += usize::from(i == j);
                            continue;
                        };
                        let cosine = f64::from(dot(&template.embedding, embedding));
                        let normalised = cohort.normalised_score(
                            cosine,
                            (&template.embedding, self.enrolled),
                            (embedding, self.probe),
                        );
                        scores.raw.push(cosine, i == j);
                        scores.normalised.push(normalised, i == j);
                    }
                }
            }
        }
        scores
    }
}

/// One condition's pairs, scored raw and normalised.
#[derive(Default)]
struct Scores {
    raw: Pairs,
    normalised: Pairs,
    /// Same-speaker windows with too little speech to be scored.
    unscored: usize,
}

#[derive(Default)]
struct Pairs {
    targets: Vec<f64>,
    nontargets: Vec<f64>,
}

impl Pairs {
    fn push(&mut self, score: f64, target: bool) {
        if target {
            self.targets.push(score)
        } else {
            self.nontargets.push(score)
        }
    }
}

/// The shipped VAD and speaker models; `VOICEPORT_SPEAKER_MODEL` picks another speaker model file.
fn engine() -> VoiceEngine {
    let speaker = std::env::var_os("VOICEPORT_SPEAKER_MODEL").map(PathBuf::from);
    shipped_models(speaker.as_deref())
        .voice()
        .expect("the speaker model")
        .clone()
}

/// Class-balanced logistic regression on one feature: Newton's method, each
/// step halved until the loss falls (scores spread over tens of units).
fn fit_logistic(pairs: &Pairs) -> Calibration {
    let weight_t = 0.5 / pairs.targets.len() as f64;
    let weight_n = 0.5 / pairs.nontargets.len() as f64;
    let data: Vec<(f64, f64, f64)> = (pairs.targets.iter().map(|&s| (s, 1.0, weight_t)))
        .chain(pairs.nontargets.iter().map(|&s| (s, 0.0, weight_n)))
        .collect();
    // A little L2 regularisation keeps the fit finite if classes separate.
    let ridge = 1e-4;
    let loss = |a: f64, b: f64| -> f64 {
        let log_loss: f64 = data
            .iter()
            .map(|&(s, y, w)| {
                let z = a * s + b;
                // log(1 + e^z) − y·z, written to stay finite for large |z|.
                w * (z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z)
            })
            .sum();
        log_loss + 0.5 * ridge * a * a
    };
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..200 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (ridge * a, 0.0, ridge, 0.0, 0.0);
        for &(s, y, w) in &data {
            let p = Calibration {
                slope: a,
                offset: b,
            }
            .probability(s);
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
        let before = loss(a, b);
        let mut step = 1.0;
        while step > 1e-6 && loss(a - step * da, b - step * db) > before {
            step /= 2.0;
        }
        a -= step * da;
        b -= step * db;
        if step * (da.abs() + db.abs()) < 1e-10 {
            break;
        }
    }
    Calibration {
        slope: a,
        offset: b,
    }
}

/// False rejects and false accepts (in %) at `probability > 0.5`.
fn decisions(pairs: &Pairs, calibration: &Calibration) -> (f64, f64) {
    let accepted = |scores: &[f64]| {
        scores
            .iter()
            .filter(|&&s| calibration.probability(s) > 0.5)
            .count() as f64
            / scores.len() as f64
    };
    (
        100.0 * (1.0 - accepted(&pairs.targets)),
        100.0 * accepted(&pairs.nontargets),
    )
}

/// For five `probability` bins: the class-balanced share of target pairs
/// (`None` if the bin is empty), and the shares of target and non-target
/// pairs in it.
fn reliability(pairs: &Pairs, calibration: &Calibration) -> Vec<(Option<f64>, f64, f64)> {
    let share_in = |scores: &[f64], bin: usize| {
        scores
            .iter()
            .filter(|&&s| ((calibration.probability(s) * 5.0) as usize).min(4) == bin)
            .count() as f64
            / scores.len() as f64
    };
    (0..5)
        .map(|bin| {
            let (t, n) = (
                share_in(&pairs.targets, bin),
                share_in(&pairs.nontargets, bin),
            );
            ((t + n > 0.0).then(|| t / (t + n)), t, n)
        })
        .collect()
}

/// Rate at which both errors are equal, scanning every threshold.
fn equal_error_rate(pairs: &Pairs) -> f64 {
    let mut scored: Vec<(f64, bool)> = (pairs.targets.iter().map(|&s| (s, true)))
        .chain(pairs.nontargets.iter().map(|&s| (s, false)))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (targets, nontargets) = (pairs.targets.len() as f64, pairs.nontargets.len() as f64);
    let (mut targets_below, mut nontargets_below) = (0.0, 0.0);
    let mut best = (f64::MAX, 0.0);
    for (_, target) in scored {
        let false_rejects = targets_below / targets;
        let false_accepts = (nontargets - nontargets_below) / nontargets;
        if (false_rejects - false_accepts).abs() < best.0 {
            best = (
                (false_rejects - false_accepts).abs(),
                (false_rejects + false_accepts) / 2.0,
            );
        }
        if target {
            targets_below += 1.0;
        } else {
            nontargets_below += 1.0;
        }
    }
    best.1
}

/// False-reject rate at the lowest threshold whose false-accept rate ≤ `rate`.
fn false_rejects_at(pairs: &Pairs, rate: f64) -> f64 {
    let mut sorted = pairs.nontargets.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = (rate * sorted.len() as f64).floor() as usize;
    let threshold = sorted.get(allowed).copied().unwrap_or(f64::MIN);
    pairs.targets.iter().filter(|&&s| s <= threshold).count() as f64 / pairs.targets.len() as f64
}
