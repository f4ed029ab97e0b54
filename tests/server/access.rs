//! The optional API key and origin allow-list, over a real socket.

use crate::common::socket::TestServer;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderName;

const KEY: &str = "k3y-for-tests";
const MATCH: &str = "/voice_template_matcher/match_voice_templates";
const SUMMARY: &str = "/speech_summary_stream";

/// The HTTP status of a WebSocket handshake on `path` with `headers`: 101 when upgraded.
async fn handshake_status(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = format!("ws://{}{path}", server.addr)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut socket, response)) => {
            let _ = socket.close(None).await;
            response.status().as_u16()
        }
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

/// The status of a REST call that passes the guard and then fails validation (400).
async fn rest_status(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    server.request("POST", path, &all, b"{}").await.status
}

#[tokio::test]
async fn without_settings_everything_is_open() {
    let server = TestServer::default().await;
    assert_eq!(handshake_status(&server, SUMMARY, &[]).await, 101);
    let origin = [("origin", "https://anywhere.example")];
    assert_eq!(handshake_status(&server, SUMMARY, &origin).await, 101);
    assert_eq!(rest_status(&server, MATCH, &origin).await, 400);
    server.stop().await;
}

#[tokio::test]
async fn the_api_key_is_required_on_api_routes_only() {
    let server = TestServer::with_flags(&["--api-key", KEY]).await;
    assert_eq!(handshake_status(&server, SUMMARY, &[]).await, 401);
    let wrong = format!("{SUMMARY}?api_key=k3y-for-tesTs");
    assert_eq!(handshake_status(&server, &wrong, &[]).await, 401);
    assert_eq!(rest_status(&server, MATCH, &[]).await, 401);
    let bearer = format!("Bearer {KEY}");
    assert_eq!(
        rest_status(&server, MATCH, &[("authorization", &bearer)]).await,
        400
    );
    assert_eq!(
        rest_status(&server, MATCH, &[("x-api-key", KEY)]).await,
        400
    );
    assert_eq!(server.get("/health").await.0, 200);

    // In the query (browsers cannot set WebSocket headers), beside the protocol's own options.
    let mut client = server
        .connect(&format!("{SUMMARY}?api_key={KEY}&frames=new"))
        .await;
    assert_eq!(client.ask("16000").await, "200");
    let silence = vec![0u8; 3200];
    client.ask_binary(&silence).await;
    let reply = client.ask_binary(&silence).await;
    let summary: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let frames = summary["current_speech_summary"]["vad_result"]["frames"]
        .as_array()
        .expect("frames")
        .len();
    client.close().await;
    assert_eq!(
        frames, 3,
        "only the second message's frames (frames=new): {reply}"
    );
    server.stop().await;
}

#[tokio::test]
async fn origins_outside_the_allow_list_are_refused() {
    let allowed = "https://app.example,https://admin.example";
    let server = TestServer::with_flags(&["--allowed-origins", allowed]).await;
    let from = |origin| [("origin", origin)];
    assert_eq!(
        handshake_status(&server, SUMMARY, &from("https://admin.example")).await,
        101
    );
    assert_eq!(
        handshake_status(&server, SUMMARY, &from("https://evil.example")).await,
        403
    );
    assert_eq!(
        rest_status(&server, MATCH, &from("https://evil.example")).await,
        403
    );
    assert_eq!(
        rest_status(&server, MATCH, &from("https://app.example")).await,
        400
    );
    // Non-browser clients send no Origin.
    assert_eq!(handshake_status(&server, SUMMARY, &[]).await, 101);

    let preflight = server
        .request(
            "OPTIONS",
            MATCH,
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
            ],
            b"",
        )
        .await;
    assert!(
        preflight
            .head
            .contains("access-control-allow-origin: https://app.example"),
        "{}",
        preflight.head
    );
    server.stop().await;
}
