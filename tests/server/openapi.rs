//! `/openapi.json` describes the REST routes, every documented route and
//! method answers, the older route names work, and the interactive page is
//! served.

use crate::common::socket::TestServer;
use crate::common::*;
use serde_json::Value;

#[tokio::test]
async fn every_documented_route_answers() {
    let server = TestServer::default().await;
    let (status, body) = server.get("/openapi.json").await;
    assert_eq!(status, 200, "{body}");
    let document: Value = serde_json::from_str(&body).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 9, "{paths:?}");
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let response = server.request(&method.to_uppercase(), path, &[], b"").await;
            assert!(
                ![404, 405].contains(&response.status),
                "{method} {path}: {}",
                response.status
            );
            // Each answer is one the document lists for it.
            let listed = &item[method]["responses"][response.status.to_string()];
            assert!(
                !listed.is_null(),
                "{method} {path}: {} not documented",
                response.status
            );
        }
    }
    let (status, page) = server.get("/swagger-ui.html").await;
    assert_eq!(status, 200);
    assert!(page.contains("/openapi.json"), "{page}");
    server.stop().await;
}

#[tokio::test]
async fn the_older_template_routes_are_served() {
    let server = TestServer::default().await;
    let (speech, rate) = wav_samples(LIBRIVOX_GAPS_WAV);
    let pcm = pcm16_bytes(&speech[..5 * rate as usize]);
    let path = format!("/verify_engine/create_voice_template_from_samples?sample_rate={rate}");
    let (status, old) = server.post(&path, "application/octet-stream", &pcm).await;
    assert_eq!(status, 200, "{old}");
    let path =
        format!("/voice_template_factory/create_voice_template_from_samples?sample_rate={rate}");
    let (_, new) = server.post(&path, "application/octet-stream", &pcm).await;
    assert_eq!(old, new);
    let wav = wav_bytes(&speech[..5 * rate as usize], rate, 1);
    let (content_type, body) = crate::common::socket::multipart("wav_file", &wav);
    let path = "/verify_engine/create_voice_template_from_file";
    let (status, from_file) = server.post(path, &content_type, &body).await;
    assert_eq!(status, 200, "{from_file}");
    server.stop().await;
}
