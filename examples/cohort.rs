//! Writes the speaker cohort scores are normalised against
//! (`models/campplus_cohort.bin`, see `voiceport::voice::Cohort`).
//!
//! Usage: `cargo run --release --example cohort -- <dir of 16 kHz FLAC files, one speaker each> <output file>`
//!
//! Each file is one cohort speaker: its whole recording's template embedding
//! through the whole Rust pipeline, sent as a 16 kHz client sends it (wide)
//! and as an 8 kHz client (narrow: low-passed under 3.6 kHz). A file with too
//! little speech in either band is left out of both, and so are the
//! speakers of the recordings the tests use (`tests/data/librispeech/`), so
//! that the tests score speakers the cohort has never heard.

use std::path::{Path, PathBuf};

#[path = "support/shipped_models.rs"]
mod shipped_models;
#[path = "support/speech_files.rs"]
mod speech_files;

use shipped_models::shipped_models;
use speech_files::{flac_files, read_flac, telephone, through_pcm_input};
use voiceport::voice::{Band, Cohort, EMBEDDING_DIM, SPEAKER_MODEL_ID};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(out)) = (args.next(), args.next()) else {
        panic!("usage: cohort <flac dir> <output file>");
    };
    let models = shipped_models(None);
    let engine = models.voice().expect("the speaker model");
    let (mut wide, mut narrow) = (Vec::new(), Vec::new());
    let held_out: Vec<_> = flac_files(Path::new("tests/data/librispeech"))
        .into_iter()
        .filter_map(|path| path.file_name().map(ToOwned::to_owned))
        .collect();
    for path in flac_files(&PathBuf::from(dir)) {
        if path
            .file_name()
            .is_some_and(|name| held_out.iter().any(|h| h == name))
        {
            eprintln!("held out {}: a test speaker", path.display());
            continue;
        }
        let samples = read_flac(&path);
        let heard_wide = engine.template(&through_pcm_input(&samples, 16_000), Band::Wide);
        let heard_narrow = engine.template(
            &through_pcm_input(&telephone(&samples), 8_000),
            Band::Narrow,
        );
        match (heard_wide, heard_narrow) {
            (Ok(w), Ok(n)) => {
                wide.push(w.embedding);
                narrow.push(n.embedding);
            }
            _ => eprintln!("left out {}: not enough speech", path.display()),
        }
    }
    let cohort = Cohort::new(EMBEDDING_DIM, wide, narrow).expect("cohort");
    std::fs::write(&out, cohort.to_bytes(SPEAKER_MODEL_ID)).expect("write the cohort");
    println!(
        "{out}: {} speakers in each band",
        cohort.speakers(Band::Wide).len()
    );
}
