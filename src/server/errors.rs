//! Replies as HTTP responses: the REST routes' [`RestReply`] (and with it
//! every error the server makes itself, `{"error": reason}`), the reason of
//! a refusal or failure logged.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::protocol::rest::RestReply;

impl IntoResponse for RestReply {
    fn into_response(self) -> Response {
        match self.status {
            400..=499 => tracing::warn!(status = self.status, body = %self.body, "request refused"),
            500 => tracing::error!(status = self.status, body = %self.body, "request failed"),
            _ => {}
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.body).into_response();
        if !self.content_type.is_empty() {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
        }
        response
    }
}
