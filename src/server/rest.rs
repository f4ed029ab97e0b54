//! REST endpoints, named as the original server's.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use super::errors::{ErrorBody, ErrorResponse, bad_request, server_error};
use super::{AppState, WorkFailed};
use crate::protocol::messages::SpeechSummaryJson;
use crate::service::{
    self, AudioBuffer, BuildInfo, ServiceError, Stepwise, SummaryJob, TemplateJob,
};
use crate::voice::MatchResult;

/// Older route names (2.x clients) served by the same handlers: alias and route.
pub const ALIASES: [(&str, &str); 2] = [
    (
        "/verify_engine/create_voice_template_from_samples",
        "/voice_template_factory/create_voice_template_from_samples",
    ),
    (
        "/verify_engine/create_voice_template_from_file",
        "/voice_template_factory/create_voice_template_from_file",
    ),
];

/// Every REST route with its handler, older names included.
pub fn routes() -> Vec<(&'static str, MethodRouter<Arc<AppState>>)> {
    let mut routes = vec![
        (
            "/voice_template_factory/create_voice_template_from_samples",
            post(template_from_samples),
        ),
        (
            "/voice_template_factory/create_voice_template_from_file",
            post(template_from_file),
        ),
        ("/voice_template_factory/merge_voice_templates", post(merge)),
        (
            "/voice_template_matcher/match_voice_templates",
            post(match_templates),
        ),
        (
            "/speech_summary_engine/get_speech_summary_from_samples",
            post(summary_from_samples),
        ),
        (
            "/speech_summary_engine/get_speech_summary_from_file",
            post(summary_from_file),
        ),
        ("/core/get_build_info", get(build_info)),
    ];
    for (alias, route) in ALIASES {
        let (_, handler) = routes
            .iter()
            .find(|(path, _)| *path == route)
            .expect("aliases name routes");
        routes.push((alias, handler.clone()));
    }
    routes
}

/// `?sample_rate=N` of the raw-sample endpoints.
#[derive(Deserialize)]
pub struct RateQuery {
    sample_rate: u32,
}

/// Body of `match_voice_templates`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MatchRequest {
    /// A base64 voice template.
    template1: String,
    /// Another base64 voice template.
    template2: String,
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

/// Runs `work` as one step on the model workers and maps its outcome to a response.
async fn respond<T, F>(app: Arc<AppState>, work: F, ok: impl FnOnce(T) -> Response) -> Response
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
    ok: impl FnOnce(T) -> Response,
) -> Response
where
    J: Stepwise<Output = Result<T, ServiceError>> + Send + 'static,
    T: Send + 'static,
    F: FnOnce() -> Result<J, ServiceError> + Send + 'static,
{
    let job = match app.workers.run(start).await {
        Ok(Ok(job)) => job,
        Ok(Err(error)) => return failure(error),
        Err(error) => return server_error(error).into_response(),
    };
    let done = app.workers.run_steps(job, J::step).await;
    outcome(done.map(|(_, result)| result), ok)
}

/// The response to model work's outcome.
fn outcome<T>(
    result: Result<Result<T, ServiceError>, WorkFailed>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match result {
        Ok(Ok(value)) => ok(value),
        Ok(Err(error)) => failure(error),
        Err(error) => server_error(error).into_response(),
    }
}

/// HTTP 400 for the client's mistakes, 500 for the server's.
fn failure(error: ServiceError) -> Response {
    if error.is_client_error() {
        bad_request(error).into_response()
    } else {
        server_error(error).into_response()
    }
}

/// Parses a JSON body whatever its content type, as a 400 on failure.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ErrorResponse> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid JSON body: {e}")))
}

/// The `sample_rate` query, as a 400 when missing or malformed.
fn rate(query: Result<Query<RateQuery>, QueryRejection>) -> Result<u32, ErrorResponse> {
    query
        .map(|Query(q)| q.sample_rate)
        .map_err(|e| bad_request(format!("{}: expected ?sample_rate=<Hz>", e.body_text())))
}

fn text(body: String) -> Response {
    ([("content-type", "text/plain; charset=utf-8")], body).into_response()
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
    query: Result<Query<RateQuery>, QueryRejection>,
    body: Bytes,
) -> Response {
    let sample_rate = match rate(query) {
        Ok(rate) => rate,
        Err(response) => return response.into_response(),
    };
    respond_stepwise(
        app.clone(),
        move || {
            let audio = AudioBuffer::Pcm16 {
                bytes: &body,
                sample_rate,
            };
            TemplateJob::start(&app.models, audio)
        },
        text,
    )
    .await
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
    let wav = match audio_file(multipart).await {
        Ok(wav) => wav,
        Err(reason) => return bad_request(reason).into_response(),
    };
    respond_stepwise(
        app.clone(),
        move || TemplateJob::start(&app.models, AudioBuffer::Wav(&wav)),
        text,
    )
    .await
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
        Err(response) => return response.into_response(),
    };
    respond(app, move || service::merge_templates(&templates), text).await
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
        Err(response) => return response.into_response(),
    };
    respond(
        app.clone(),
        move || service::match_voice_templates(&request.template1, &request.template2),
        |result| Json(result).into_response(),
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
    responses((status = 200, description = "The speech summary", body = SpeechSummaryJson), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn summary_from_samples(
    State(app): State<Arc<AppState>>,
    query: Result<Query<RateQuery>, QueryRejection>,
    body: Bytes,
) -> Response {
    let sample_rate = match rate(query) {
        Ok(rate) => rate,
        Err(response) => return response.into_response(),
    };
    respond_stepwise(
        app.clone(),
        move || {
            let audio = AudioBuffer::Pcm16 {
                bytes: &body,
                sample_rate,
            };
            SummaryJob::start(&app.models, audio)
        },
        |summary| Json(summary).into_response(),
    )
    .await
}

/// `POST /speech_summary_engine/get_speech_summary_from_file` (multipart).
#[utoipa::path(
    post,
    path = "/speech_summary_engine/get_speech_summary_from_file",
    tag = "speech summary",
    request_body(content = WavUpload, content_type = "multipart/form-data", description = "A WAV file in the part `wav_file` (or `audio_file`)"),
    responses((status = 200, description = "The speech summary", body = SpeechSummaryJson), (status = 400, description = "The request or its audio is invalid, or holds too little speech", body = ErrorBody))
)]
pub async fn summary_from_file(
    State(app): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let wav = match audio_file(multipart).await {
        Ok(wav) => wav,
        Err(reason) => return bad_request(reason).into_response(),
    };
    respond_stepwise(
        app.clone(),
        move || SummaryJob::start(&app.models, AudioBuffer::Wav(&wav)),
        |summary| Json(summary).into_response(),
    )
    .await
}

/// `GET /core/get_build_info`.
#[utoipa::path(
    get,
    path = "/core/get_build_info",
    tag = "core",
    responses((status = 200, description = "Versions and model identifiers", body = BuildInfo))
)]
pub async fn build_info() -> Response {
    (StatusCode::OK, Json(service::build_info())).into_response()
}

/// The bytes of the `wav_file` (or `audio_file`) part.
async fn audio_file(multipart: Result<Multipart, MultipartRejection>) -> Result<Bytes, String> {
    let mut multipart = multipart.map_err(|e| e.body_text())?;
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        if matches!(field.name(), Some("wav_file" | "audio_file")) {
            return field.bytes().await.map_err(|e| e.body_text());
        }
    }
    Err("multipart body has no `wav_file` (or `audio_file`) part".into())
}
