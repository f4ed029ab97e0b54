//! The browser face: a thin wasm-bindgen layer over [`Session`] and the
//! whole-buffer [`service`] functions. Models arrive as bytes from the
//! worker; errors become `JsError`s carrying the typed reason.

use wasm_bindgen::prelude::*;

mod enrollment;
mod segments;

use crate::models::Models;
use crate::protocol::rest::RestRoute;
use crate::protocol::{Endpoint, Pace, Session};
use crate::service::rest::RestBody;
use crate::service::{self, AudioBuffer};
use crate::voice::{CamPlusModel, VoiceEngine};

fn js_error(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

/// The engines of one worker: models loaded once, shared by every session.
#[wasm_bindgen]
pub struct Engine {
    models: Models,
}

#[wasm_bindgen]
impl Engine {
    /// Reads the VAD model from its ONNX bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(vad_model: &[u8]) -> Result<Engine, JsError> {
        let models = Models::from_bytes(vad_model, None).map_err(js_error)?;
        Ok(Engine { models })
    }

    /// Loads the speaker model (needed by verify streams and templates).
    #[wasm_bindgen(js_name = loadSpeakerModel)]
    pub fn load_speaker_model(&mut self, speaker_model: &[u8]) -> Result<(), JsError> {
        let speaker = CamPlusModel::from_bytes(speaker_model).map_err(js_error)?;
        self.models.voice = Some(VoiceEngine::new(self.models.vad.clone(), speaker));
        Ok(())
    }

    /// Whether the speaker model is loaded.
    #[wasm_bindgen(js_name = hasSpeakerModel)]
    pub fn has_speaker_model(&self) -> bool {
        self.models.voice.is_some()
    }

    /// A base64 template from PCM16 bytes at `sample_rate`.
    #[wasm_bindgen(js_name = createTemplateFromSamples)]
    pub fn create_template_from_samples(
        &self,
        pcm16: &[u8],
        sample_rate: u32,
    ) -> Result<String, JsError> {
        let audio = AudioBuffer::Pcm16 {
            bytes: pcm16,
            sample_rate,
        };
        service::create_template(&self.models, audio).map_err(js_error)
    }

    /// A base64 template from a WAV file's bytes.
    #[wasm_bindgen(js_name = createTemplateFromWav)]
    pub fn create_template_from_wav(&self, wav: &[u8]) -> Result<String, JsError> {
        service::create_template(&self.models, AudioBuffer::Wav(wav)).map_err(js_error)
    }

    /// The speech summary JSON of PCM16 bytes at `sample_rate`.
    #[wasm_bindgen(js_name = speechSummaryFromSamples)]
    pub fn speech_summary_from_samples(
        &self,
        pcm16: &[u8],
        sample_rate: u32,
    ) -> Result<String, JsError> {
        let audio = AudioBuffer::Pcm16 {
            bytes: pcm16,
            sample_rate,
        };
        summary_json(&self.models, audio)
    }

    /// The speech summary JSON of a WAV file's bytes.
    #[wasm_bindgen(js_name = speechSummaryFromWav)]
    pub fn speech_summary_from_wav(&self, wav: &[u8]) -> Result<String, JsError> {
        summary_json(&self.models, AudioBuffer::Wav(wav))
    }

    /// Enrollment quality JSON (`speech_length`, `snr_db`, `enough_speech`) of
    /// PCM16 bytes at `sample_rate`, or of a WAV file's bytes when it is absent.
    #[wasm_bindgen(js_name = voiceQuality)]
    pub fn voice_quality(&self, bytes: &[u8], sample_rate: Option<u32>) -> Result<String, JsError> {
        let audio = match sample_rate {
            Some(sample_rate) => AudioBuffer::Pcm16 { bytes, sample_rate },
            None => AudioBuffer::Wav(bytes),
        };
        let quality = service::voice_quality(&self.models, audio).map_err(js_error)?;
        serde_json::to_string(&quality).map_err(js_error)
    }
}

/// A REST reply as the worker hands it to the `fetch`/`XMLHttpRequest` shim.
#[derive(serde::Serialize)]
struct JsRestReply {
    status: u16,
    #[serde(rename = "contentType")]
    content_type: &'static str,
    body: String,
}

#[wasm_bindgen]
impl Engine {
    /// Answers a REST request as the native server does: `{status,
    /// contentType, body}`. For the `_from_file` routes `body` is the WAV
    /// part of the multipart body and `has_part` says whether there was one.
    #[wasm_bindgen(js_name = handleRest)]
    pub fn handle_rest(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        has_part: bool,
    ) -> Result<JsValue, JsError> {
        let route =
            RestRoute::find(path).ok_or_else(|| JsError::new(&format!("no REST route {path}")))?;
        let body = if route.takes_upload() {
            RestBody::Upload(has_part.then_some(body))
        } else {
            RestBody::Raw(body)
        };
        let reply = service::rest::handle(&self.models, route, method, query, body);
        let reply = JsRestReply {
            status: reply.status,
            content_type: reply.content_type,
            body: reply.body,
        };
        serde_wasm_bindgen::to_value(&reply).map_err(js_error)
    }
}

/// A WAV file's samples as PCM16 at its own rate (channels averaged):
/// `{sampleRate, pcm16: ArrayBuffer}`, for streaming a file to an endpoint.
#[wasm_bindgen(js_name = wavToPcm16)]
pub fn wav_to_pcm16(wav: &[u8]) -> Result<js_sys::Object, JsError> {
    let recording = crate::audio::decode_wav(wav).map_err(js_error)?;
    let pcm16 = crate::audio::encode_pcm16(&recording.samples);
    let object = js_sys::Object::new();
    let fields = [
        ("sampleRate", JsValue::from(recording.sample_rate)),
        (
            "pcm16",
            js_sys::Uint8Array::from(&pcm16[..]).buffer().into(),
        ),
    ];
    for (name, value) in fields {
        js_sys::Reflect::set(&object, &name.into(), &value)
            .map_err(|_| JsError::new("cannot build the decoded audio"))?;
    }
    Ok(object)
}

/// Which model a REST path needs (`"speaker"` or `"vad"`), or `undefined`
/// when the path is not a REST route.
#[wasm_bindgen(js_name = restRouteModel)]
pub fn rest_route_model(path: &str) -> Option<String> {
    let route = RestRoute::find(path)?;
    Some(
        if route.needs_speaker_model() {
            "speaker"
        } else {
            "vad"
        }
        .to_string(),
    )
}

/// Installs the panic hook: a panic's message goes to `console.error` and
/// to `globalThis.voiceportPanic`, where the worker reads it after the trap
/// (calling into a trapped module is not safe).
#[wasm_bindgen(start)]
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("voiceport engine panicked: {info}");
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &JsValue::from_str("voiceportPanic"),
            &JsValue::from_str(&message),
        );
        console_error_panic_hook::hook(info);
    }));
}

/// Panics on purpose, so that tests can check how a trapped engine is
/// handled (sockets closed with 1011, a fresh worker for new ones).
#[wasm_bindgen(js_name = panicForTesting)]
pub fn panic_for_testing() {
    panic!("panic requested by a test");
}

fn summary_json(models: &Models, audio: AudioBuffer) -> Result<String, JsError> {
    let summary = service::speech_summary(models, audio).map_err(js_error)?;
    Ok(crate::protocol::messages::to_json(&summary))
}

/// One connection's protocol session.
#[wasm_bindgen]
pub struct WasmSession {
    session: Session,
}

#[wasm_bindgen]
impl WasmSession {
    /// A session for an endpoint path such as `/speech_summary_stream`; it
    /// answers parameters at once and needs [`Self::attach`] before audio.
    #[wasm_bindgen(constructor)]
    pub fn new(path: &str) -> Result<WasmSession, JsError> {
        let endpoint = Endpoint::parse(path).map_err(js_error)?;
        Ok(WasmSession {
            session: Session::awaiting_models(endpoint),
        })
    }

    /// Gives the session the engine's models (shared, not copied).
    pub fn attach(&mut self, engine: &Engine) {
        self.session.attach_models(engine.models.clone());
    }

    /// Whether every required parameter has been accepted (audio may follow).
    #[wasm_bindgen(getter, js_name = isReady)]
    pub fn is_ready(&self) -> bool {
        self.session.is_ready()
    }

    /// Handles a text message; returns the reply text.
    #[wasm_bindgen(js_name = onText)]
    pub fn on_text(&mut self, text: &str) -> String {
        self.reply(|s| s.on_text(text))
    }

    /// Handles a binary message; returns the reply text.
    #[wasm_bindgen(js_name = onBinary)]
    pub fn on_binary(&mut self, bytes: &[u8]) -> String {
        self.reply(|s| s.on_binary(bytes))
    }

    /// The next binary message is `behind_ms` behind real time, where
    /// `late_after_ms` is late: a late message gets less optional model
    /// work (see `Session::set_pace`).
    #[wasm_bindgen(js_name = setPace)]
    pub fn set_pace(&mut self, behind_ms: f64, late_after_ms: f64) {
        let ms = |value: f64| std::time::Duration::from_secs_f64(value.max(0.0) / 1000.0);
        self.session
            .set_pace(Pace::of_delay(ms(behind_ms), ms(late_after_ms)));
    }

    /// The reason of the latest `"500"`, if any.
    #[wasm_bindgen(getter, js_name = lastError)]
    pub fn last_error(&self) -> Option<String> {
        self.session.last_error().map(str::to_string)
    }

    /// Runs one message; a `"500"` also goes to `console.warn` with its reason.
    fn reply(&mut self, handle: impl FnOnce(&mut Session) -> String) -> String {
        let before = self.session.last_error().map(str::to_string);
        let reply = handle(&mut self.session);
        if reply == crate::protocol::REJECTED
            && let Some(reason) = self.session.last_error()
            && before.as_deref() != Some(reason)
        {
            web_sys::console::warn_1(&format!("voiceport: \"500\": {reason}").into());
        }
        reply
    }
}

/// Whether an endpoint path needs the speaker model (so the worker fetches it).
#[wasm_bindgen(js_name = needsSpeakerModel)]
pub fn needs_speaker_model(path: &str) -> Result<bool, JsError> {
    Ok(Endpoint::parse(path)
        .map_err(js_error)?
        .needs_speaker_model())
}

/// Merges base64 templates of one speaker.
#[wasm_bindgen(js_name = mergeTemplates)]
pub fn merge_templates(templates: Vec<String>) -> Result<String, JsError> {
    service::merge_templates(&templates).map_err(js_error)
}

/// Compares two base64 templates: `{score, probability}`.
#[wasm_bindgen(js_name = matchTemplates)]
pub fn match_templates(first: &str, second: &str) -> Result<JsValue, JsError> {
    let result = service::match_voice_templates(first, second).map_err(js_error)?;
    serde_wasm_bindgen::to_value(&result).map_err(js_error)
}

/// The instructions the speaker network's convolutions run on in this
/// build: `"relaxed SIMD"` or `"SIMD128"` (the package picks the build the
/// browser can run).
#[wasm_bindgen(js_name = convolutionKernels)]
pub fn convolution_kernels() -> String {
    crate::nn::convolution_kernels().to_string()
}

/// Version and model identifiers.
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(&service::build_info()).map_err(js_error)
}
