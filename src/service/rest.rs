//! REST requests answered whole: the browser's `fetch`/`XMLHttpRequest`
//! shim runs these; the native server runs the same jobs a step at a time on
//! its model workers and answers with the same [`RestReply`]s.

use serde::Deserialize;

use super::{AudioBuffer, QualityJob, ServiceError, SummaryJob, TemplateJob, run_to_end};
use crate::models::Models;
use crate::protocol::rest::{MISSING_AUDIO_PART, RestReply, RestRoute, sample_rate};

/// Body of `match_voice_templates`.
#[derive(Debug, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct MatchRequest {
    /// A base64 voice template.
    pub template1: String,
    /// Another base64 voice template.
    pub template2: String,
}

/// The reply to a finished operation: `ok` of its value, HTTP 400 for the
/// client's mistakes, 500 for the server's.
pub fn reply<T>(result: Result<T, ServiceError>, ok: impl FnOnce(T) -> RestReply) -> RestReply {
    match result {
        Ok(value) => ok(value),
        Err(error) if error.is_client_error() => RestReply::bad_request(error),
        Err(error) => RestReply::error(500, error),
    }
}

/// Parses a JSON body whatever its content type.
pub fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, RestReply> {
    serde_json::from_slice(body)
        .map_err(|e| RestReply::bad_request(format!("invalid JSON body: {e}")))
}

/// The raw body of a request, or for the `_from_file` routes the bytes of
/// its WAV part (`None` when the multipart body has none).
#[derive(Debug, Clone, Copy)]
pub enum RestBody<'a> {
    /// The body as sent.
    Raw(&'a [u8]),
    /// The audio part of a multipart body.
    Upload(Option<&'a [u8]>),
}

impl<'a> RestBody<'a> {
    fn bytes(self) -> &'a [u8] {
        match self {
            Self::Raw(bytes) | Self::Upload(Some(bytes)) => bytes,
            Self::Upload(None) => &[],
        }
    }
}

/// Answers a request to `route` with URL-encoded `query` and `body`, whole.
pub fn handle(
    models: &Models,
    route: RestRoute,
    method: &str,
    query: &str,
    body: RestBody,
) -> RestReply {
    if !method.eq_ignore_ascii_case(route.method()) {
        return RestReply::method_not_allowed();
    }
    let wav = || match body {
        RestBody::Upload(None) => Err(RestReply::bad_request(MISSING_AUDIO_PART)),
        other => Ok(AudioBuffer::Wav(other.bytes())),
    };
    let samples = || {
        sample_rate(query)
            .map(|sample_rate| AudioBuffer::Pcm16 {
                bytes: body.bytes(),
                sample_rate,
            })
            .map_err(RestReply::bad_request)
    };
    let template = |audio| {
        reply(
            TemplateJob::start(models, audio).and_then(run_to_end),
            RestReply::text,
        )
    };
    let summary = |audio| {
        reply(SummaryJob::start(models, audio).and_then(run_to_end), |s| {
            RestReply::json(&s)
        })
    };
    let quality = |audio| {
        reply(QualityJob::start(models, audio).and_then(run_to_end), |q| {
            RestReply::json(&q)
        })
    };
    let answer = match route {
        RestRoute::TemplateFromSamples => samples().map(template),
        RestRoute::TemplateFromFile => wav().map(template),
        RestRoute::SummaryFromSamples => samples().map(summary),
        RestRoute::SummaryFromFile => wav().map(summary),
        RestRoute::QualityFromSamples => samples().map(quality),
        RestRoute::QualityFromFile => wav().map(quality),
        RestRoute::MergeTemplates => parse_json::<Vec<String>>(body.bytes())
            .map(|templates| reply(super::merge_templates(&templates), RestReply::text)),
        RestRoute::MatchTemplates => parse_json::<MatchRequest>(body.bytes()).map(|request| {
            reply(
                super::match_voice_templates(&request.template1, &request.template2),
                |result| RestReply::json(&result),
            )
        }),
        RestRoute::BuildInfo => Ok(RestReply::json(&super::build_info())),
    };
    answer.unwrap_or_else(|error| error)
}
