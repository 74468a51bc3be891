//! `feedwright serve`: the server on its own, until SIGTERM or SIGINT, with its configuration
//! reloaded on SIGHUP.
//!
//! Owns: the signals of the `serve` process (SIGHUP's listener comes from `cli`, installed by
//! `service` before start-up) and its reloads, and telling the service manager of each state
//! through `service`. A reload reads the configuration
//! file again and checks it as `feedwright check` does (it must also keep a `[server]` table);
//! one that fails is logged and the running configuration goes on. One that passes restarts
//! the server with it on the listening socket bound at start-up (connections still answering
//! get [`RELOAD_GRACE`], then are closed; new ones wait in the socket's backlog meanwhile): new
//! feeds on `/`, `/healthz` and `/metrics`, a new `output_dir`, `store.path` or `[server]`
//! limits. A new `listen` address needs a restart, and each reload says so while it differs.
//! Must not: write anything, or decide anything about requests (that is `server`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::{ServerError, serve_until};
use crate::config::Config;

/// How long the requests in progress of a server being restarted by a reload may go on before
/// their connections are closed (as in `daemon`).
pub const RELOAD_GRACE: Duration = Duration::from_secs(1);

/// Serve `cfg` on `listener` until SIGTERM or SIGINT (requests in progress then get `grace`),
/// reloading the configuration from `config_path` on each SIGHUP.
pub async fn run(
    config_path: &Path,
    cfg: Config,
    listener: TcpListener,
    grace: Duration,
    mut hup: Signal,
) -> Result<(), ServerError> {
    let listen = cfg
        .server
        .as_ref()
        .map(|s| s.listen.clone())
        .unwrap_or_default();
    let socket_error = |source: std::io::Error| ServerError::Socket {
        addr: listen.clone(),
        source,
    };
    let signals = (|| {
        Ok::<_, std::io::Error>((
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        ))
    })();
    let (mut term, mut int) = signals.map_err(ServerError::Signals)?;
    // The address the socket was bound for, and the one it listens on (its port chosen by the
    // system for port 0).
    let started_on = listen.parse::<std::net::SocketAddr>().ok();
    let serving = listener
        .local_addr()
        .map_or_else(|_| listen.clone(), |a| a.to_string());
    let socket = listener.into_std().map_err(&socket_error)?;
    let mut cfg = cfg;
    loop {
        let listener = socket
            .try_clone()
            .and_then(TcpListener::from_std)
            .map_err(&socket_error)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<Duration>();
        let served = cfg.clone();
        let mut server = tokio::spawn(async move {
            let conns = crate::server::conns_for(&served);
            let shutdown = async move { stopped.await.unwrap_or(RELOAD_GRACE) };
            serve_until(&served, listener, shutdown, conns).await
        });
        crate::service::ready(&format!("serving on {serving}"));
        let next = loop {
            tokio::select! {
                _ = term.recv() => break None,
                _ = int.recv() => break None,
                _ = hup.recv() => {
                    crate::service::reloading();
                    tracing::info!(
                        "SIGHUP: reloading the configuration from {}",
                        config_path.display()
                    );
                    match checked(config_path) {
                        Ok(new) => break Some(new),
                        Err(e) => {
                            tracing::error!(
                                "reload rejected, keeping the running configuration: {}",
                                crate::terminal::one_line(&e)
                            );
                            crate::service::ready(&format!(
                                "serving on {serving} (reload rejected: the previous configuration)"
                            ));
                        }
                    }
                }
                ended = &mut server => {
                    return ended.unwrap_or_else(|e| Err(ServerError::Crashed(e.to_string())));
                }
            }
        };
        if next.is_none() {
            crate::service::stopping();
        }
        let _ = stop.send(if next.is_some() { RELOAD_GRACE } else { grace });
        let ended = server
            .await
            .unwrap_or_else(|e| Err(ServerError::Crashed(e.to_string())));
        let Some(new) = next else {
            return ended;
        };
        ended?;
        let wanted = new.server.as_ref().map(|s| s.listen.as_str()).unwrap_or("");
        if wanted.parse::<std::net::SocketAddr>().ok() != started_on {
            tracing::warn!(
                "server.listen changed to {wanted}: restart `feedwright serve` to listen there; \
                 still serving on {serving} meanwhile"
            );
        }
        cfg = new;
        tracing::info!("configuration reloaded from {}", config_path.display());
    }
}

/// The configuration at `path`, if `feedwright check` accepts it and it has a `[server]` table;
/// else why not.
fn checked(path: &Path) -> Result<Config, String> {
    let cfg = Config::load(path).map_err(|e| e.to_string())?;
    cfg.check_paths(path).map_err(|e| e.to_string())?;
    let dir = config_dir(path);
    if cfg.digest.is_some() {
        crate::digest::check_templates(&cfg, &dir)
            .map_err(|e| e.in_config_file(path).to_string())?;
    }
    crate::pipeline::stylesheet(&dir)?;
    if cfg.server.is_none() {
        return Err(format!(
            "{}: no [server] table: `feedwright serve` needs one (stop it to stop serving)",
            path.display()
        ));
    }
    Ok(cfg)
}

fn config_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
