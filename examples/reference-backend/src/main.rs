//! `reference-backend`: the reference login backend as a process. Configuration comes from the
//! environment (see README.md); exit code 2 means the configuration is wrong.

use std::io::Write as _;
use std::process::ExitCode;

use tokio::net::TcpListener;
use wxmock_reference_backend::{start_on, Config};

const EXIT_CONFIG: u8 = 2;
const EXIT_BIND: u8 = 1;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("reference-backend: {}", error_chain(&err));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let listen = listen_address();
    let listener = match TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("reference-backend: cannot listen on {listen}: {err}");
            return ExitCode::from(EXIT_BIND);
        }
    };
    let backend = start_on(config, listener).await;
    println!("listening on {}", backend.base_url());
    let _ = std::io::stdout().flush();
    shutdown_signal().await;
    tracing::info!("shutting down");
    backend.shutdown().await;
    ExitCode::SUCCESS
}

/// `LISTEN` (host:port), else `127.0.0.1:$PORT`, else `127.0.0.1:3000`.
fn listen_address() -> String {
    let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(listen) = var("LISTEN") {
        return listen;
    }
    match var("PORT") {
        Some(port) => format!("127.0.0.1:{}", port.trim()),
        None => "127.0.0.1:3000".to_owned(),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
