//! How the commands deal with the process's supervisor and the signals it sends.
//!
//! Owns: the SIGHUP listener of the long-running commands (`daemon`, `serve`), installed before
//! anything else they do (so a reload asked for while one starts, even while it waits for the
//! store, is a reload once it runs, never the signal's default action of ending the process);
//! the service manager's readiness protocol (systemd's `Type=notify`: `READY=1` once the command
//! runs and listens to signals, `RELOADING=1` and `READY=1` around a reload, `STOPPING=1`), sent
//! only when the manager asked for it with `NOTIFY_SOCKET`; and for `run` and `backfill`, the
//! first SIGINT or SIGTERM heard ([`on_stop`]: a second one has the default action again) and
//! the end by that signal once they stopped cleanly ([`end_by`]). Must not: decide what a
//! reload or a stop does (that is `daemon`, `server::standalone` and `cli`).

use std::sync::{Arc, OnceLock};

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

/// SIGINT (Ctrl-C) or SIGTERM: what stops `run` and `backfill` early (see [`on_stop`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Int,
    Term,
}

impl StopSignal {
    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Int => "SIGINT",
            StopSignal::Term => "SIGTERM",
        }
    }

    fn number(self) -> libc::c_int {
        match self {
            StopSignal::Int => libc::SIGINT,
            StopSignal::Term => libc::SIGTERM,
        }
    }
}

/// The stop signal [`on_stop`] heard, once it heard one.
#[derive(Debug, Clone, Default)]
pub struct Heard(Arc<OnceLock<StopSignal>>);

impl Heard {
    pub fn signal(&self) -> Option<StopSignal> {
        self.0.get().copied()
    }
}

/// Hear SIGINT and SIGTERM from now on, on `runtime`: the first one is kept (see [`Heard`]),
/// both signals get their default action back, so that a second one ends the process where it
/// stands (Ctrl-C twice never waits), and `then` is called with it. A signal the process was
/// started ignoring (a background job of a script ignores SIGINT) stays ignored.
pub fn on_stop(
    runtime: &tokio::runtime::Runtime,
    then: impl FnOnce(StopSignal) + Send + 'static,
) -> Result<Heard, String> {
    let _in_runtime = runtime.enter();
    let hear = |sig: StopSignal, kind| (!ignored(sig)).then(|| listen(kind)).transpose();
    let mut int = hear(StopSignal::Int, SignalKind::interrupt())?;
    let mut term = hear(StopSignal::Term, SignalKind::terminate())?;
    let listened: Vec<StopSignal> = [
        int.as_ref().map(|_| StopSignal::Int),
        term.as_ref().map(|_| StopSignal::Term),
    ]
    .into_iter()
    .flatten()
    .collect();
    let heard = Heard::default();
    let keep = heard.clone();
    runtime.spawn(async move {
        let sig = tokio::select! {
            Some(()) = next(int.as_mut()) => StopSignal::Int,
            Some(()) = next(term.as_mut()) => StopSignal::Term,
            else => return,
        };
        default_action(&listened);
        let _ = keep.0.set(sig);
        then(sig);
    });
    Ok(heard)
}

/// The next signal `listener` hears; never without one.
async fn next(listener: Option<&mut Signal>) -> Option<()> {
    match listener {
        Some(l) => l.recv().await,
        None => std::future::pending().await,
    }
}

/// Whether the process was started with `signal` ignored.
fn ignored(signal: StopSignal) -> bool {
    // SAFETY: a zeroed `sigaction` is a valid value to be overwritten; with no new action given,
    // `sigaction` only reads the current one.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let read = unsafe { libc::sigaction(signal.number(), std::ptr::null(), &mut current) };
    read == 0 && current.sa_sigaction == libc::SIG_IGN
}

/// Give `signals` their default action (ending the process) back.
fn default_action(signals: &[StopSignal]) {
    for sig in signals {
        // SAFETY: sets the disposition of a signal to the default, which needs no handler code;
        // tokio's handler, installed for it before, is simply no longer called.
        unsafe { libc::signal(sig.number(), libc::SIG_DFL) };
    }
}

/// End the process by `signal`, with its default action, once the command it stopped has
/// finished cleanly (its store closed, its lines written): as a program ended by the signal,
/// so that a shell says so (`$?` is 128 + its number: 130, 143) and a script running it stops
/// too, and a service manager sees it stopped by the signal it sent. Returns only if the
/// process is still there (the signal blocked): the caller then exits with 128 + its number.
pub fn end_by(signal: StopSignal) {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    default_action(&[signal]);
    // SAFETY: raises a signal in this thread; its default action ends the process.
    unsafe { libc::raise(signal.number()) };
}
