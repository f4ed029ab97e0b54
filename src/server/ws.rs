//! WebSocket endpoints: one [`Session`] per connection, messages in order.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::metrics::{Metrics, Refusal};
use super::{AppState, WorkFailed, access};
use crate::protocol::rest::RestReply;
use crate::protocol::{REJECTED, Session};

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
        Ok(session) => Box::new(session),
        Err(error) => return RestReply::bad_request(error).into_response(),
    };
    let Ok(permit) = app.connections.clone().try_acquire_owned() else {
        app.metrics.refused(Refusal::TooManyConnections);
        tracing::warn!(path, "connection refused: too many connections");
        return RestReply::error(503, "too many connections").into_response();
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
    async fn run(mut self, session: Box<Session>) {
        tracing::info!("connection opened");
        let _open = self.app.metrics.session_opened(session.endpoint().path());
        let ending = self.serve(session).await;
        if let Some(Ending { code, reason }) = ending {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            // The peer may already be gone, or not reading: nothing more to do then.
            let close = self.socket.send(Message::Close(Some(frame)));
            let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, close).await;
        }
        tracing::info!("connection closed");
    }

    /// Answers messages until the client leaves (`None`) or the server ends it.
    async fn serve(&mut self, mut session: Box<Session>) -> Option<Ending> {
        // A message read while the previous one was being worked on.
        let mut read_ahead = None;
        loop {
            let (message, arrived) = match read_ahead.take() {
                Some(early) => early,
                None => match self.next_message().await {
                    Ok(message) => (message, Instant::now()),
                    Err(ending) => return ending,
                },
            };
            let kind = if matches!(message, Message::Text(_)) {
                "text"
            } else {
                "binary"
            };
            let reply = match message {
                Message::Text(text) => session.on_text(text.as_str()),
                Message::Binary(bytes) => match self.work_on(session, bytes, &mut read_ahead).await
                {
                    Worked::Replied(back, reply) => {
                        session = back;
                        reply
                    }
                    Worked::Ended(ending) => return ending,
                },
                // Keep reading: the next read sends the close echo and then ends
                // (dropping the socket now would lose the echo: code 1006 in browsers).
                Message::Close(_) => continue,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            let rejected = reply == REJECTED;
            if !self.send_reply(reply).await {
                return None;
            }
            let endpoint = session.endpoint().path();
            self.app
                .metrics
                .replied(endpoint, kind, rejected, arrived.elapsed());
        }
    }

    /// The next message, or why the connection ends instead.
    async fn next_message(&mut self) -> Result<Message, Option<Ending>> {
        let mut shutdown = self.app.shutdown.clone();
        let idle = self.app.config.idle_timeout();
        // The end may have come while the previous message was worked on.
        if *shutdown.borrow_and_update() {
            return Err(Some(SHUTTING_DOWN));
        }
        let received = tokio::select! {
            received = tokio::time::timeout(idle, self.socket.recv()) => received,
            _ = shutdown.changed() => return Err(Some(SHUTTING_DOWN)),
        };
        match received {
            Err(_) => {
                self.app.metrics.refused(Refusal::IdleTimeout);
                tracing::info!(seconds = idle.as_secs(), "closing idle connection");
                Err(Some(Ending {
                    code: close_code::AWAY,
                    reason: "idle timeout",
                }))
            }
            Ok(None) => Err(None),
            Ok(Some(Err(error))) => Err(read_failure(error, &self.app.metrics)),
            Ok(Some(Ok(message))) => Ok(message),
        }
    }

    /// Runs a binary message through the model workers a slice at a time,
    /// reading the socket meanwhile: a client that leaves (or starts closing)
    /// cancels the work at its next step; any other message it sends is kept
    /// in `read_ahead`, to be answered in order.
    async fn work_on(
        &mut self,
        session: Box<Session>,
        bytes: axum::body::Bytes,
        read_ahead: &mut Option<(Message, Instant)>,
    ) -> Worked {
        let work = self.app.workers.run_steps(
            (session, bytes, self.app.clone()),
            |(session, bytes, app), waited| {
                // A step that waited for the workers (the server is past
                // capacity) does less optional model work, so the stream
                // catches up instead of falling behind.
                session.set_pace(app.thinning.pace(waited));
                session.thin_results(app.thinning.interval());
                session.step_binary(bytes)
            },
        );
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return match done {
                    Ok(((session, ..), reply)) => Worked::Replied(session, reply),
                    Err(WorkFailed::Panicked(message)) => {
                        self.app.metrics.refused(Refusal::InternalError);
                        tracing::error!(%message, "model work panicked; closing the connection");
                        Worked::Ended(Some(Ending { code: close_code::ERROR, reason: "internal error" }))
                    }
                    Err(WorkFailed::Stopped) => Worked::Ended(Some(SHUTTING_DOWN)),
                },
                received = self.socket.recv(), if read_ahead.is_none() => match received {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        tracing::info!("client left while its message was processed; work cancelled");
                        // One more read sends the close echo, if the client is still there.
                        let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, self.socket.recv()).await;
                        return Worked::Ended(None);
                    }
                    Some(Ok(message)) => *read_ahead = Some((message, Instant::now())),
                },
            }
        }
    }

    /// Sends a reply; false if the connection is to end: the client has
    /// left, or has not read its replies within the send timeout.
    async fn send_reply(&mut self, reply: String) -> bool {
        let timeout = self.app.config.send_timeout();
        let send = self.socket.send(Message::Text(reply.into()));
        match tokio::time::timeout(timeout, send).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => {
                tracing::info!("client left before its reply was sent");
                false
            }
            Err(_) => {
                self.app.metrics.refused(Refusal::SendTimeout);
                tracing::warn!(
                    seconds = timeout.as_secs(),
                    "closing connection: the client has not read its replies"
                );
                false
            }
        }
    }
}

/// How streams end when the server stops.
const SHUTTING_DOWN: Ending = Ending {
    code: close_code::AWAY,
    reason: "server shutting down",
};

/// Bounds sending a close frame (or its echo) to a client that may not read.
const CLOSE_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// What working on a binary message came to.
enum Worked {
    /// The session back, with its reply.
    Replied(Box<Session>, String),
    /// The connection ends (with a close frame to send, if any).
    Ended(Option<Ending>),
}

/// Logs why reading failed and picks the close frame, if one can still be sent.
fn read_failure(error: axum::Error, metrics: &Metrics) -> Option<Ending> {
    let too_big = error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)));
    if too_big {
        metrics.refused(Refusal::MessageTooBig);
        tracing::warn!("closing: message larger than --max-message-bytes");
        return Some(Ending {
            code: close_code::SIZE,
            reason: "message too big",
        });
    }
    tracing::info!("connection dropped by the client");
    None
}
