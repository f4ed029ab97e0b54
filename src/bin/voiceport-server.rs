//! `voiceport-server`: the native server (WebSocket + REST + demo page).

/// mimalloc returns freed memory to the system: after a burst of large
/// messages the server's resident memory comes back down (glibc's malloc
/// kept hundreds of MiB in per-thread arenas; BENCHMARKS.md, hostile soak).
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use clap::Parser;
    use voiceport::server::{ServerConfig, serve, shutdown_signal};

    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let config = ServerConfig::parse();
    let models = match voiceport::models::Models::bundled() {
        Ok(models) => models,
        Err(error) => {
            tracing::error!(%error, "cannot load the bundled models");
            return std::process::ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %config.addr, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    match serve(listener, config, models, shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The server is native only; the browser face is the library's wasm build.
#[cfg(target_arch = "wasm32")]
fn main() {}
