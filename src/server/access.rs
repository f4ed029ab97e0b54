//! Optional access control for the API routes: an API key and an allow-list
//! of browser origins. Both are off by default; `/health` and the demo page
//! are never guarded.
//!
//! Browsers cannot set headers on a WebSocket, so the key is accepted as
//! `Authorization: Bearer <key>`, as `X-API-Key: <key>`, or as the query
//! parameter `api_key=<key>`; the query form is removed before the path
//! reaches the protocol or the logs.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use super::AppState;
use crate::protocol::rest::RestReply;

/// The query parameter that may carry the API key.
const KEY_PARAMETER: &str = "api_key";

/// Refuses API requests without the configured key (401) or from an origin
/// outside the allow-list (403). Requests without an `Origin` header come
/// from non-browser clients and pass the origin check.
pub async fn guard(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let config = &app.config;
    if let Some(expected) = &config.api_key {
        let query = request.uri().query().unwrap_or("");
        if !presented_keys(request.headers(), query).any(|key| same_key(key, expected)) {
            return RestReply::error(401, "missing or wrong API key").into_response();
        }
    }
    if !config.allowed_origins.is_empty() {
        let origin = request.headers().get(header::ORIGIN);
        let allowed = origin.is_none_or(|origin| {
            config
                .allowed_origins
                .iter()
                .any(|allowed| allowed.as_bytes() == origin.as_bytes())
        });
        if !allowed {
            return RestReply::error(403, "origin not allowed").into_response();
        }
    }
    next.run(request).await
}

/// CORS for the configured origins: any origin when the allow-list is empty.
pub fn cors(allowed_origins: &[String]) -> CorsLayer {
    if allowed_origins.is_empty() {
        return CorsLayer::permissive();
    }
    let origins = allowed_origins
        .iter()
        .filter_map(|origin| origin.parse().ok())
        .collect::<Vec<_>>();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods(Any)
        .allow_headers(Any)
}

/// The path and query without any `api_key` parameter, for the protocol and the logs.
pub fn without_key(path_and_query: &str) -> Cow<'_, str> {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return Cow::Borrowed(path_and_query);
    };
    if !query.split('&').any(is_key_pair) {
        return Cow::Borrowed(path_and_query);
    }
    let kept = query
        .split('&')
        .filter(|pair| !is_key_pair(pair))
        .collect::<Vec<_>>();
    if kept.is_empty() {
        Cow::Owned(path.to_string())
    } else {
        Cow::Owned(format!("{path}?{}", kept.join("&")))
    }
}

/// Whether a query pair (`name=value` or a bare `name`) is the API key.
fn is_key_pair(pair: &str) -> bool {
    pair.split_once('=').map_or(pair, |(name, _)| name) == KEY_PARAMETER
}

/// Every key the request presents, in headers or query.
fn presented_keys<'a>(headers: &'a HeaderMap, query: &'a str) -> impl Iterator<Item = &'a str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let api_key_header = headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok());
    let in_query = query
        .split('&')
        .filter(|pair| is_key_pair(pair))
        .filter_map(|pair| pair.split_once('=').map(|(_, value)| value));
    bearer.into_iter().chain(api_key_header).chain(in_query)
}

/// Compares keys in time independent of where they differ.
fn same_key(presented: &str, expected: &str) -> bool {
    let (a, b) = (presented.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_parameter_is_removed_and_others_kept() {
        assert_eq!(
            without_key("/speech_summary_stream?api_key=s3cret&frames=new"),
            "/speech_summary_stream?frames=new"
        );
        assert_eq!(
            without_key("/speech_endpoint_detector?api_key=s3cret"),
            "/speech_endpoint_detector"
        );
        assert_eq!(
            without_key("/speech_summary_stream?frames=new"),
            "/speech_summary_stream?frames=new"
        );
        assert_eq!(without_key("/verify_stream"), "/verify_stream");
    }

    #[test]
    fn keys_are_found_in_headers_and_query() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer one".parse().unwrap());
        headers.insert("x-api-key", "two".parse().unwrap());
        let keys: Vec<_> = presented_keys(&headers, "frames=new&api_key=three").collect();
        assert_eq!(keys, ["one", "two", "three"]);
    }

    #[test]
    fn keys_must_match_exactly() {
        assert!(same_key("s3cret", "s3cret"));
        assert!(!same_key("s3cres", "s3cret"));
        assert!(!same_key("s3cre", "s3cret"));
        assert!(!same_key("", "s3cret"));
    }
}
