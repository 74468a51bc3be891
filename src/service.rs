//! How the long-running commands (`daemon`, `serve`) deal with the process's supervisor.
//!
//! Owns: the SIGHUP listener, installed before anything else a long-running command does (so
//! a reload asked for while it starts, even while it waits for the store, is a reload once it
//! runs, never the signal's default action of ending the process), and the service manager's
//! readiness protocol (systemd's `Type=notify`: `READY=1` once the command runs and listens to
//! signals, `RELOADING=1` and `READY=1` around a reload, `STOPPING=1`), sent only when the
//! manager asked for it with `NOTIFY_SOCKET`. Must not: decide what a reload or a stop does
//! (that is `daemon` and `server::standalone`).

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Listen for SIGHUP from now on; `runtime` is the runtime the command runs on. A SIGHUP that
/// comes before the command asks for it is kept, and read as its first reload.
pub fn hangup(runtime: &tokio::runtime::Runtime) -> Result<Signal, String> {
    let _in_runtime = runtime.enter();
    listen(SignalKind::hangup())
}

/// Listen for signals of `kind` (from within a runtime).
pub fn listen(kind: SignalKind) -> Result<Signal, String> {
    signal(kind).map_err(|e| format!("cannot install a signal handler: {e}"))
}

/// Tell the service manager that the command is running: started up, listening to signals,
/// serving when it serves. `status` is the one line `systemctl status` shows.
pub fn ready(status: &str) {
    tell(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(status),
    ]);
}

/// Tell the service manager that a reload has begun ([`ready`] says it ended).
pub fn reloading() {
    match sd_notify::NotifyState::monotonic_usec_now() {
        Ok(now) => tell(&[sd_notify::NotifyState::Reloading, now]),
        Err(_) => tell(&[sd_notify::NotifyState::Reloading]),
    }
}

/// Tell the service manager that the command is stopping.
pub fn stopping() {
    tell(&[sd_notify::NotifyState::Stopping]);
}

/// Send `states` when the manager asked for them (`NOTIFY_SOCKET`); a manager that cannot be
/// told is said in a warning, since it then thinks the service failed to start.
fn tell(states: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        let socket = std::env::var_os("NOTIFY_SOCKET").unwrap_or_default();
        tracing::warn!(
            "cannot notify the service manager at NOTIFY_SOCKET={}: {e}",
            socket.to_string_lossy()
        );
    }
}
