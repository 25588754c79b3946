//! Telling systemd how the server is (`sd_notify`): ready once it listens, alive while its
//! runtime answers (the unit's `WatchdogSec`), stopping at shutdown. Without `NOTIFY_SOCKET`
//! (not started by systemd with `Type=notify`) nothing is sent.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `state` (`READY=1`, `WATCHDOG=1` …) to systemd, if it asked for it.
fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = UnixDatagram::unbound() else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    let sent = match path.strip_prefix('@') {
        // An abstract socket (systemd uses these in containers).
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
        }
        None => socket.send_to(state.as_bytes(), &path),
    };
    if let Err(e) = sent {
        tracing::debug!("could not notify systemd: {e}");
    }
}

/// The server listens and serves.
pub fn ready() {
    notify("READY=1");
}

/// The server is shutting down.
pub fn stopping() {
    notify("STOPPING=1");
}

/// The server's runtime is alive (feeds the unit's watchdog).
pub fn alive() {
    notify("WATCHDOG=1");
}

/// How often to say [`alive`]: half the watchdog time systemd set, if it set one.
pub fn watchdog_every() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}
