//! The accept loop: HTTP/1.1 connections served by the router, with the
//! limits `axum::serve` leaves out — a deadline for request headers (slow
//! "slowloris" clients), a cap on connections not yet upgraded to WebSocket —
//! and a graceful end that lets in-flight requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// Limits on plain HTTP connections.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Most connections open at once (upgraded WebSockets no longer count).
    pub max_connections: usize,
    /// Time a client has to send each request's headers.
    pub header_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting, asks open HTTP connections to finish their current request,
/// and returns once they have.
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_seen) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, usually: back off instead of spinning.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: too many open HTTP connections");
            continue;
        };
        let connection = serve_connection(stream, router.clone(), limits, closing_seen.clone());
        tokio::spawn(async move {
            connection.await;
            drop::<OwnedSemaphorePermit>(slot);
        });
    }
    let _ = closing.send(true);
    let everyone = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(everyone).await;
}

/// One TCP connection, HTTP/1.1 only (what browsers speak to a plain-http
/// server, and what the header deadline covers): requests until the client
/// leaves, its headers are too slow, it upgrades to a WebSocket, or the
/// server closes.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: HttpLimits,
    mut closing: watch::Receiver<bool>,
) {
    // hyper's header deadline starts with the first byte: a client that
    // connects and stays silent gets the same deadline here.
    let mut first = [0u8; 1];
    let first_byte = tokio::time::timeout(limits.header_timeout, stream.peek(&mut first));
    tokio::select! {
        peeked = first_byte => match peeked {
            Ok(Ok(1..)) => {}
            Ok(_) => return, // the client left without a request
            Err(_) => {
                tracing::warn!("connection closed: no request sent in time");
                return;
            }
        },
        _ = closing.changed() => return,
    }
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let service = TowerToHyperService::new(router);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = closing.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        let timed_out = error
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_timeout);
        if timed_out {
            tracing::warn!("connection closed: request headers not sent in time");
        } else {
            tracing::debug!(%error, "connection ended with an error");
        }
    }
}
