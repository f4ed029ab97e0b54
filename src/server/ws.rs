//! WebSocket endpoints: one [`Session`] per connection, messages in order.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::errors::{bad_request, unavailable};
use super::{AppState, access};
use crate::protocol::Session;

/// Upgrades a request on any streaming endpoint path to a protocol session.
pub async fn upgrade(
    State(app): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    ws: WebSocketUpgrade,
) -> Response {
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let path_without_key = access::without_key(path_and_query);
    let path = path_without_key.as_ref();
    let session = match Session::for_path(path, app.models.clone()) {
        Ok(session) => session,
        Err(error) => return bad_request(error).into_response(),
    };
    let Ok(permit) = app.connections.clone().try_acquire_owned() else {
        tracing::warn!(path, "connection refused: too many connections");
        return unavailable("too many connections").into_response();
    };
    let limit = app.config.max_message_bytes;
    let span = tracing::info_span!("ws", id = app.next_connection_id(), path);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| {
            Connection {
                socket,
                app,
                _permit: permit,
            }
            .run(session)
            .instrument(span)
        })
}

/// One upgraded connection and the resources it holds.
struct Connection {
    socket: WebSocket,
    app: Arc<AppState>,
    _permit: OwnedSemaphorePermit,
}

/// Why a connection ended, when the server ends it.
struct Ending {
    code: u16,
    reason: &'static str,
}

impl Connection {
    async fn run(mut self, session: Session) {
        tracing::info!("connection opened");
        let ending = self.serve(session).await;
        if let Some(Ending { code, reason }) = ending {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            // The peer may already be gone; nothing more to do then.
            let _ = self.socket.send(Message::Close(Some(frame))).await;
        }
        tracing::info!("connection closed");
    }

    /// Answers messages until the client leaves (`None`) or the server ends it.
    async fn serve(&mut self, mut session: Session) -> Option<Ending> {
        let mut shutdown = self.app.shutdown.clone();
        let idle = self.app.config.idle_timeout();
        loop {
            let received = tokio::select! {
                received = tokio::time::timeout(idle, self.socket.recv()) => received,
                _ = shutdown.changed() => return Some(Ending { code: close_code::AWAY, reason: "server shutting down" }),
            };
            let message = match received {
                Err(_) => {
                    tracing::info!(seconds = idle.as_secs(), "closing idle connection");
                    return Some(Ending {
                        code: close_code::AWAY,
                        reason: "idle timeout",
                    });
                }
                Ok(None) => return None,
                Ok(Some(Err(error))) => return read_failure(error),
                Ok(Some(Ok(message))) => message,
            };
            let reply = match message {
                Message::Text(text) => session.on_text(text.as_str()),
                Message::Binary(bytes) => {
                    let (back, reply) =
                        off_reactor(&self.app, session, move |s| s.on_binary(&bytes)).await?;
                    session = back;
                    reply
                }
                // Keep reading: the next read sends the close echo and then ends
                // (dropping the socket now would lose the echo: code 1006 in browsers).
                Message::Close(_) => continue,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if self.socket.send(Message::Text(reply.into())).await.is_err() {
                tracing::info!("client left before its reply was sent");
                return None;
            }
        }
    }
}

/// Runs model work on the blocking pool so one busy stream never stalls the
/// reactor; hands the session back with the reply.
async fn off_reactor<F>(app: &AppState, mut session: Session, work: F) -> Option<(Session, String)>
where
    F: FnOnce(&mut Session) -> String + Send + 'static,
{
    let task = app.run_blocking(move || {
        let reply = work(&mut session);
        (session, reply)
    });
    match task.await {
        Ok(done) => Some(done),
        Err(error) => {
            tracing::error!(%error, "session task failed");
            None
        }
    }
}

/// Logs why reading failed and picks the close frame, if one can still be sent.
fn read_failure(error: axum::Error) -> Option<Ending> {
    let too_big = error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)));
    if too_big {
        tracing::warn!("closing: message larger than --max-message-bytes");
        return Some(Ending {
            code: close_code::SIZE,
            reason: "message too big",
        });
    }
    tracing::info!("connection dropped by the client");
    None
}
