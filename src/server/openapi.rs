//! The REST routes described as an OpenAPI 3 document, generated from the
//! handlers' annotations: `/openapi.json`, and an interactive page at
//! `/swagger-ui.html` (as the original server has) that reads it.

use axum::Json;
use axum::response::Html;
use utoipa::OpenApi;

use super::rest;
use crate::protocol::rest::RestRoute;

/// The annotated REST handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "voiceport",
        description = "The REST routes of the voiceport server: voice templates, template \
            matching, speech summaries, enrollment quality (a voiceport extension), build info. The streaming API (WebSocket endpoints) is \
            described in the README."
    ),
    paths(
        rest::template_from_samples,
        rest::template_from_file,
        rest::merge,
        rest::match_templates,
        rest::summary_from_samples,
        rest::summary_from_file,
        rest::quality_from_samples,
        rest::quality_from_file,
        rest::build_info,
    )
)]
struct Annotated;

/// The OpenAPI document of every REST route, the older route names included.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = Annotated::openapi();
    let paths = &mut document.paths.paths;
    for route in RestRoute::ALL {
        for alias in route.aliases() {
            let item = paths
                .get(route.path())
                .cloned()
                .expect("aliases name documented routes");
            paths.insert(alias.to_string(), item);
        }
    }
    document
}

/// `GET /openapi.json`.
pub async fn json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// `GET /swagger-ui.html`: Swagger UI (its files served from `--www`,
/// copied there from the `swagger-ui-dist` npm package by the web build).
pub async fn page() -> Html<&'static str> {
    Html(include_str!("swagger-ui.html"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_routed_path_is_documented_and_every_documented_path_routed() {
        let routed: BTreeSet<String> = rest::routes()
            .into_iter()
            .map(|(path, _)| path.to_string())
            .collect();
        let documented: BTreeSet<String> = document().paths.paths.keys().cloned().collect();
        assert_eq!(routed, documented);
    }
}
