//! Guided enrollment for the browser: an [`EnrollmentStream`] whose progress
//! and outcome come out as plain objects.

use wasm_bindgen::prelude::*;

use super::{Engine, js_error};
use crate::service::enrollment::EnrollmentStream;

/// One guided enrollment.
#[wasm_bindgen]
pub struct WasmEnrollment {
    stream: Option<EnrollmentStream>,
}

#[wasm_bindgen]
impl WasmEnrollment {
    /// An enrollment wanting `seconds` of speech from PCM16 at `sample_rate`.
    #[wasm_bindgen(constructor)]
    pub fn new(engine: &Engine, sample_rate: u32, seconds: f64) -> Result<WasmEnrollment, JsError> {
        let stream =
            EnrollmentStream::new(&engine.models, sample_rate, seconds).map_err(js_error)?;
        Ok(WasmEnrollment {
            stream: Some(stream),
        })
    }

    /// Takes the next PCM16 bytes: `{percent, speech_seconds, needed_seconds, done, recent}`.
    pub fn push(&mut self, pcm16: &[u8]) -> Result<JsValue, JsError> {
        let stream = self.stream.as_mut().ok_or_else(ended)?;
        let progress = stream.push(pcm16).map_err(js_error)?;
        to_js(&progress)
    }

    /// Ends the recording: `{template, quality}`, or the reason there is no template.
    pub fn finish(&mut self, engine: &Engine) -> Result<JsValue, JsError> {
        let stream = self.stream.take().ok_or_else(ended)?;
        let enrollment = stream.finish(&engine.models).map_err(js_error)?;
        to_js(&enrollment)
    }
}

/// A plain object, absent values as `null` (as in the JSON replies).
fn to_js(value: &impl serde::Serialize) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(js_error)
}

fn ended() -> JsError {
    JsError::new("the enrollment has ended")
}
