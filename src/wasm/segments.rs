//! Speech segments for the browser: a [`SegmentStream`] whose events come
//! out as plain objects, a `speech-end`'s audio as a `Float32Array`.

use wasm_bindgen::prelude::*;

use super::{Engine, js_error};
use crate::service::segments::{SegmentConfig, SegmentEventJson, SegmentStream};
use crate::speech::SegmentEvent;

/// One stream of speech segments.
#[wasm_bindgen]
pub struct WasmSegments {
    stream: Option<SegmentStream>,
}

#[wasm_bindgen]
impl WasmSegments {
    /// A stream of PCM16 at `sample_rate` with `options` (vad-web's names;
    /// `undefined` for the defaults). Unknown or bad options are refused.
    #[wasm_bindgen(constructor)]
    pub fn new(
        engine: &Engine,
        sample_rate: u32,
        options: JsValue,
    ) -> Result<WasmSegments, JsError> {
        let config: SegmentConfig = if options.is_undefined() || options.is_null() {
            SegmentConfig::default()
        } else {
            serde_wasm_bindgen::from_value(options).map_err(js_error)?
        };
        let stream =
            SegmentStream::new(&engine.models.vad, sample_rate, config).map_err(js_error)?;
        Ok(WasmSegments {
            stream: Some(stream),
        })
    }

    /// Takes the next PCM16 bytes; returns the events they caused.
    pub fn push(&mut self, pcm16: &[u8]) -> Result<js_sys::Array, JsError> {
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| JsError::new("the stream has ended"))?;
        events_to_js(stream.push(pcm16).map_err(js_error)?)
    }

    /// Ends the stream; returns its last events (an open segment ends).
    pub fn finish(&mut self) -> Result<js_sys::Array, JsError> {
        let stream = self
            .stream
            .take()
            .ok_or_else(|| JsError::new("the stream has ended"))?;
        events_to_js(stream.finish().map_err(js_error)?)
    }
}

fn events_to_js(events: Vec<SegmentEvent>) -> Result<js_sys::Array, JsError> {
    let array = js_sys::Array::new();
    for event in events {
        let (json, audio) = SegmentEventJson::from_event(event);
        let value = serde_wasm_bindgen::to_value(&json).map_err(js_error)?;
        if let Some(audio) = audio {
            let audio = js_sys::Float32Array::from(&audio[..]);
            js_sys::Reflect::set(&value, &"audio".into(), &audio)
                .map_err(|_| JsError::new("cannot attach a segment's audio"))?;
        }
        array.push(&value);
    }
    Ok(array)
}
