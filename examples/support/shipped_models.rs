//! The shipped models read from `models/`, shared by the examples that
//! measure accuracy (native builds could use `Models::bundled`, but the
//! examples are also compiled for wasm32 by the lints).

use std::path::Path;

use voiceport::models::{Models, SPEAKER_MODEL_FILE, VAD_MODEL_FILE};

/// The VAD and speaker models as shipped; `speaker_file` replaces the speaker
/// model's file (a path) when given.
pub fn shipped_models(speaker_file: Option<&Path>) -> Models {
    let read = |path: &Path| std::fs::read(path).expect("a model file");
    let models = Path::new("models");
    let speaker = read(speaker_file.unwrap_or(&models.join(SPEAKER_MODEL_FILE)));
    Models::from_bytes(&read(&models.join(VAD_MODEL_FILE)), Some(&speaker)).expect("the models")
}
