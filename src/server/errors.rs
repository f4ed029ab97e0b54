//! JSON error responses: `{"error": "..."}` with a client-error status.

use axum::Json;
use axum::http::StatusCode;

pub use crate::protocol::rest::ErrorBody;

/// A JSON error response.
pub type ErrorResponse = (StatusCode, Json<ErrorBody>);

fn error(status: StatusCode, reason: String) -> ErrorResponse {
    (status, Json(ErrorBody { error: reason }))
}

/// HTTP 400 for a client's mistake, with its reason logged.
pub fn bad_request(reason: impl std::fmt::Display) -> ErrorResponse {
    let reason = reason.to_string();
    tracing::warn!(%reason, "bad request");
    error(StatusCode::BAD_REQUEST, reason)
}

/// A refusal with `status` (401, 403, …), its reason logged.
pub fn refused(status: StatusCode, reason: &str) -> ErrorResponse {
    tracing::warn!(%status, reason, "request refused");
    error(status, reason.to_string())
}

/// HTTP 503 when the server is at a configured limit.
pub fn unavailable(reason: &str) -> ErrorResponse {
    error(StatusCode::SERVICE_UNAVAILABLE, reason.to_string())
}

/// HTTP 500 for a failure that is not the client's, with its reason logged.
pub fn server_error(reason: impl std::fmt::Display) -> ErrorResponse {
    let reason = reason.to_string();
    tracing::error!(%reason, "request failed");
    error(StatusCode::INTERNAL_SERVER_ERROR, reason)
}
