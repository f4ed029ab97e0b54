//! REST endpoints, named as the original server's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use super::{AppState, WorkFailed};
use crate::models::Models;
use crate::protocol::messages::SpeechSummaryBody;
use crate::protocol::rest::{
    AUDIO_PARTS, ErrorBody, MISSING_AUDIO_PART, RestReply, RestRoute, sample_rate,
};
use crate::service::rest::{MatchRequest, parse_json, reply};
use crate::service::{
    self, AudioBuffer, BuildInfo, QualityJob, ServiceError, Stepwise, SummaryJob, TemplateJob,
};
use crate::voice::{MatchResult, VoiceQuality};

/// Every REST route with its handler, older names included.
pub fn routes() -> Vec<(&'static str, MethodRouter<Arc<AppState>>)> {
    let mut routes = Vec::new();
    for route in RestRoute::ALL {
        let handler = match route {
            RestRoute::TemplateFromSamples => post(template_from_samples),
            RestRoute::TemplateFromFile => post(template_from_file),
            RestRoute::MergeTemplates => post(merge),
            RestRoute::MatchTemplates => post(match_templates),
            RestRoute::SummaryFromSamples => post(summary_from_samples),
            RestRoute::SummaryFromFile => post(summary_from_file),
            RestRoute::QualityFromSamples => post(quality_from_samples),
            RestRoute::QualityFromFile => post(quality_from_file),
            RestRoute::BuildInfo => get(build_info),
        };
        for path in route.aliases() {
            routes.push((*path, handler.clone()));
        }
        routes.push((route.path(), handler));
    }
    routes
}

/// A raw PCM16 body, as the OpenAPI document describes it.
pub struct Pcm16Body;

impl utoipa::PartialSchema for Pcm16Body {
    fn schema() -> RefOr<Schema> {
        binary("Little-endian PCM16 mono samples").into()
    }
}

impl utoipa::ToSchema for Pcm16Body {}

/// A multipart body with a WAV file, as the OpenAPI document describes it.
pub struct WavUpload;

impl utoipa::PartialSchema for WavUpload {
    fn schema() -> RefOr<Schema> {
        let file = binary("The WAV file (8–32-bit integer or 32-bit float PCM, any channel count)");
        ObjectBuilder::new()
            .property("wav_file", file)
            .required("wav_file")
            .into()
    }
}

impl utoipa::ToSchema for WavUpload {}

/// A schema of binary data.
fn binary(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .description(Some(description))
}

/// Runs `work` as one step on the model workers and maps its outcome to a reply.
async fn respond<T, F>(app: Arc<AppState>, work: F, ok: impl FnOnce(T) -> RestReply) -> Response
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ServiceError> + Send + 'static,
{
    outcome(app.workers.run(work).await, ok)
}

/// Starts a whole-buffer job with `start` (decoding its audio), then runs it
/// a step at a time on the model workers, in turn with all other work; a
/// request dropped by its client stops at the next step.
async fn respond_stepwise<J, T, F>(
    app: Arc<AppState>,
    start: F,
    ok: impl FnOnce(T) -> RestReply,
) -> Response
where
    J: Stepwise<Output = Result<T, ServiceError>> + Send + 'static,
    T: Send + 'static,
    F: FnOnce() -> Result<J, ServiceError> + Send + 'static,
{
    let job = match app.workers.run(start).await {
        Ok(Ok(job)) => job,
        Ok(Err(error)) => return reply(Err::<T, _>(error), ok).into_response(),
        Err(error) => return RestReply::error(500, error).into_response(),
    };
    let done = app.workers.run_steps(job, |job, _| job.step()).await;
    outcome(done.map(|(_, result)| result), ok)
}

/// The response to model work's outcome.
fn outcome<T>(
    result: Result<Result<T, ServiceError>, WorkFailed>,
    ok: impl FnOnce(T) -> RestReply,
) -> Response {
    match result {
        Ok(result) => reply(result, ok).into_response(),
        Err(error) => RestReply::error(500, error).into_response(),
    }
}

/// The `sample_rate` query, as a 400 reply when missing or malformed.
fn rate(query: Option<String>) -> Result<u32, RestReply> {
    sample_rate(query.as_deref().unwrap_or("")).map_err(RestReply::bad_request)
}

fn json<T: serde::Serialize>(value: T) -> RestReply {
    RestReply::json(&value)
}

/// How a whole-buffer job starts from the models and a recording.
type StartJob<J> = fn(&Models, AudioBuffer) -> Result<J, ServiceError>;

/// Answers a `…_from_samples` route: the body is PCM16 at the query's
/// `sample_rate`; the job started by `start` runs a step at a time.
async fn from_samples<J, T>(
    app: Arc<AppState>,
    query: Option<String>,
    body: Bytes,
    start: StartJob<J>,
    ok: impl FnOnce(T) -> RestReply,
) -> Response
where
    J: Stepwise<Output = Result<T, ServiceError>> + Send + 'static,
    T: Send + 'static,
{
    let sample_rate = match rate(query) {
        Ok(rate) => rate,
        Err(reply) => return reply.into_response(),
    };
    respond_stepwise(
        app.clone(),
        move || {
            let audio = AudioBuffer::Pcm16 {
                bytes: &body,
                sample_rate,
            };
            start(&app.models, audio)
        },
        ok,
    )
    .await
}

/// Answers a `…_from_file` route: the WAV file of a multipart body; the job
/// started by `start` runs a step at a time.
async fn from_file<J, T>(
    app: Arc<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
    start: StartJob<J>,
    ok: impl FnOnce(T) -> RestReply,
) -> Response
where
    J: Stepwise<Output = Result<T, ServiceError>> + Send + 'static,
    T: Send + 'static,
{
    let wav = match audio_file(multipart).await {
        Ok(wav) => wav,
        Err(reason) => return RestReply::bad_request(reason).into_response(),
    };
    respond_stepwise(
        app.clone(),
        move || start(&app.models, AudioBuffer::Wav(&wav)),
        ok,
    )
    .await
}

/// `POST /voice_template_factory/create_voice_template_from_samples?sample_rate=N`.
#[utoipa::path(
    post,
    path = "/voice_template_factory/create_voice_template_from_samples",
    tag = "templates",
    params(("sample_rate" = u32, Query, description = "Sample rate of the body in Hz, 8000 to 192000")),
    request_body(content = Pcm16Body, content_type = "application/octet-stream", description = "Little-endian PCM16 mono samples (an odd trailing byte is ignored)"),
    responses((status = 200, description = "The base64 voice template", body = String, content_type = "text/plain"), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn template_from_samples(
    State(app): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    from_samples(app, query, body, TemplateJob::start, RestReply::text).await
}

/// `POST /voice_template_factory/create_voice_template_from_file` (multipart).
#[utoipa::path(
    post,
    path = "/voice_template_factory/create_voice_template_from_file",
    tag = "templates",
    request_body(content = WavUpload, content_type = "multipart/form-data", description = "A WAV file in the part `wav_file` (or `audio_file`)"),
    responses((status = 200, description = "The base64 voice template", body = String, content_type = "text/plain"), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn template_from_file(
    State(app): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    from_file(app, multipart, TemplateJob::start, RestReply::text).await
}

/// `POST /voice_template_factory/merge_voice_templates` (JSON array).
#[utoipa::path(
    post,
    path = "/voice_template_factory/merge_voice_templates",
    tag = "templates",
    request_body(content = Vec<String>, description = "Base64 templates of one speaker"),
    responses((status = 200, description = "The merged base64 template", body = String, content_type = "text/plain"), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn merge(State(app): State<Arc<AppState>>, body: Bytes) -> Response {
    let templates: Vec<String> = match parse_json(&body) {
        Ok(templates) => templates,
        Err(reply) => return reply.into_response(),
    };
    respond(
        app,
        move || service::merge_templates(&templates),
        RestReply::text,
    )
    .await
}

/// `POST /voice_template_matcher/match_voice_templates`.
#[utoipa::path(
    post,
    path = "/voice_template_matcher/match_voice_templates",
    tag = "templates",
    request_body = MatchRequest,
    responses((status = 200, description = "Cosine score and calibrated probability", body = MatchResult), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn match_templates(State(app): State<Arc<AppState>>, body: Bytes) -> Response {
    let request: MatchRequest = match parse_json(&body) {
        Ok(request) => request,
        Err(reply) => return reply.into_response(),
    };
    respond(
        app.clone(),
        move || service::match_voice_templates(&request.template1, &request.template2),
        json,
    )
    .await
}

/// `POST /speech_summary_engine/get_speech_summary_from_samples?sample_rate=N`.
#[utoipa::path(
    post,
    path = "/speech_summary_engine/get_speech_summary_from_samples",
    tag = "speech summary",
    params(("sample_rate" = u32, Query, description = "Sample rate of the body in Hz, 8000 to 192000")),
    request_body(content = Pcm16Body, content_type = "application/octet-stream", description = "Little-endian PCM16 mono samples (an odd trailing byte is ignored)"),
    responses((status = 200, description = "The speech summary", body = SpeechSummaryBody), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn summary_from_samples(
    State(app): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    from_samples(app, query, body, SummaryJob::start, json).await
}

/// `POST /speech_summary_engine/get_speech_summary_from_file` (multipart).
#[utoipa::path(
    post,
    path = "/speech_summary_engine/get_speech_summary_from_file",
    tag = "speech summary",
    request_body(content = WavUpload, content_type = "multipart/form-data", description = "A WAV file in the part `wav_file` (or `audio_file`)"),
    responses((status = 200, description = "The speech summary", body = SpeechSummaryBody), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn summary_from_file(
    State(app): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    from_file(app, multipart, SummaryJob::start, json).await
}

/// `POST /voice_template_factory/get_voice_quality_from_samples?sample_rate=N`
/// (a voiceport extension).
#[utoipa::path(
    post,
    path = "/voice_template_factory/get_voice_quality_from_samples",
    tag = "templates",
    params(("sample_rate" = u32, Query, description = "Sample rate of the body in Hz, 8000 to 192000")),
    request_body(content = Pcm16Body, content_type = "application/octet-stream", description = "Little-endian PCM16 mono samples (an odd trailing byte is ignored)"),
    responses((status = 200, description = "How usable the recording is for a template, and what is wrong with it", body = VoiceQuality), (status = 400, description = "The request or its audio is invalid", body = ErrorBody))
)]
pub async fn quality_from_samples(
    State(app): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    from_samples(app, query, body, QualityJob::start, json).await
}

/// `POST /voice_template_factory/get_voice_quality_from_file` (multipart; a
/// voiceport extension).
#[utoipa::path(
    post,
    path = "/voice_template_factory/get_voice_quality_from_file",
    tag = "templates",
    request_body(content = WavUpload, content_type = "multipart/form-data", description = "A WAV file in the part `wav_file` (or `audio_file`)"),
    responses((status = 200, description = "How usable the recording is for a template, and what is wrong with it", body = VoiceQuality), (status = 400, description = "The request or its audio is invalid", body = ErrorBody))
)]
pub async fn quality_from_file(
    State(app): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    from_file(app, multipart, QualityJob::start, json).await
}

/// `GET /core/get_build_info`.
#[utoipa::path(
    get,
    path = "/core/get_build_info",
    tag = "core",
    responses((status = 200, description = "Versions and model identifiers", body = BuildInfo))
)]
pub async fn build_info() -> Response {
    json(service::build_info()).into_response()
}

/// The bytes of the `wav_file` (or `audio_file`) part.
async fn audio_file(multipart: Result<Multipart, MultipartRejection>) -> Result<Bytes, String> {
    let mut multipart = multipart.map_err(|e| e.body_text())?;
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        if field.name().is_some_and(|name| AUDIO_PARTS.contains(&name)) {
            return field.bytes().await.map_err(|e| e.body_text());
        }
    }
    Err(MISSING_AUDIO_PART.into())
}
