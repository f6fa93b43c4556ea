//! CONTROL THREAD (and the host's main thread when an instance goes): the
//! OSC remote's life in a plugin instance ([`Remote`], in
//! [`Shared::remote`]): started, stopped and rebound as the persisted
//! `osc_port` field changes, polled by the instance's control thread. It
//! belongs to the instance, not to one activation: a new sample rate
//! starts a new control thread, but the remote keeps its socket and its
//! subscribers. A port that cannot be bound is an error in the log and in
//! [`crate::view::ControlView::remote`], tried again every
//! [`RETRY_BIND`]; never a panic.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use super::{RemoteCounters, RemoteServer, RemoteStatus, RETRY_BIND};
use crate::plugin::control::Shared;
use crate::plugin::params::TraxParams;

/// A plugin instance's OSC remote: its counters and its running server.
#[derive(Default)]
pub struct Remote {
    /// What the remote's thread counts (packets, malformed, subscribers…).
    pub counters: RemoteCounters,
    /// Taken by control threads (and the instance's drop), never by the
    /// audio thread or the remote's own thread.
    link: Mutex<Link>,
}

#[derive(Default)]
struct Link {
    server: Option<RemoteServer>,
    /// The port the server runs for, or failed on (0: off).
    port: u16,
    /// When a failed bind is tried again.
    retry_at: Option<Instant>,
    /// The last bind error logged (logged again only when it changes).
    error: Option<String>,
    /// The instance is going: nothing starts any more.
    shut: bool,
}

impl Remote {
    /// Follows `params.osc_port`: starts the server on it, rebinds when it
    /// changes, stops at 0, retries a failed bind every [`RETRY_BIND`];
    /// publishes [`RemoteStatus`] in the view when it changes. Called at
    /// every poll of the instance's control thread (`shared.remote` is
    /// this remote). Not realtime-safe (binds a socket, joins a thread).
    pub fn follow(shared: &Arc<Shared>, params: &Arc<TraxParams>) {
        let (wanted, _) = params.osc_port.get();
        let mut link = shared.remote.link.lock();
        if link.shut {
            return;
        }
        if wanted != link.port {
            if link.server.take().is_some() {
                tracing::info!("trax: OSC remote on UDP port {} stopped", link.port);
            }
            link.port = wanted;
            link.retry_at = None;
            link.error = None;
            if wanted == 0 {
                publish(shared, RemoteStatus::Off);
            }
        }
        let now = Instant::now();
        if wanted == 0 || link.server.is_some() || link.retry_at.is_some_and(|t| now < t) {
            return;
        }
        match RemoteServer::start(wanted, Arc::clone(params), Arc::clone(shared)) {
            Ok(server) => {
                let port = server.local_addr().port();
                tracing::info!("trax: OSC remote listening on UDP port {port}");
                link.server = Some(server);
                link.retry_at = None;
                link.error = None;
                publish(shared, RemoteStatus::Listening { port });
            }
            Err(e) => {
                let error = e.to_string();
                link.retry_at = Some(now + RETRY_BIND);
                if link.error.as_deref() != Some(error.as_str()) {
                    tracing::error!("trax: {error}");
                    link.error = Some(error.clone());
                    publish(
                        shared,
                        RemoteStatus::Failed {
                            port: wanted,
                            error,
                        },
                    );
                }
            }
        }
    }

    /// The bound port, if the remote listens. Takes the remote's lock
    /// briefly (the editor reads [`crate::view::ControlView::remote`]
    /// instead).
    pub fn port(&self) -> Option<u16> {
        let link = self.link.lock();
        link.server.as_ref().map(|s| s.local_addr().port())
    }

    /// Stops the remote for good and waits for its thread (the instance
    /// goes): its port is free when this returns. Not realtime-safe.
    pub fn shut_down(&self) {
        let server = {
            let mut link = self.link.lock();
            link.shut = true;
            link.server.take()
        };
        drop(server);
    }
}

fn publish(shared: &Shared, status: RemoteStatus) {
    if shared.view.get().remote != status {
        shared.view.update(|v| v.remote = status);
    }
}
