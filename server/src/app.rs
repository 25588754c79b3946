//! Startup and ordered shutdown. `start` opens the data dir, store and certificates, binds the
//! listeners and returns a [`Running`] handle; tests use it with port 0 and a temp dir.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::grants::Grants;
use crate::auth::teachers::{self, TokenKind};
use crate::channels::{ChannelError, Channels};
use crate::clock::{Clock, SystemClock, DAY_MS};
use crate::config::Config;
use crate::datadir::{DataDir, DataDirError};
use crate::discovery::{Announcement, Nearby, Profile};
use crate::docs::hub::DocHub;
use crate::docs::persist::Persister;
use crate::docs::quota::DocLimits;
use crate::http::state::{base_url, AppState};
use crate::http::{self, ratelimit::RateLimits};
use crate::lessons::presence::Presence;
use crate::media::Media;
use crate::service::boxes::federation::identity::BoxIdentity;
use crate::service::boxes::federation::pairs;
use crate::service::boxes::federation::trust::Trust;
use crate::service::boxes::federation::Federation;
use crate::service::{self, FileRoom, Services};
use crate::store::disk::Disk;
use crate::store::{Guarded, SledStore, Store, StoreError};
use crate::tls::{Tls, TlsError};
use crate::uploads::Quotas;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory: {0}")]
    DataDir(#[from] DataDirError),
    #[error("store: {0} (is another Tavla running with this data directory?)")]
    Store(#[from] StoreError),
    #[error("certificates: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Auth(#[from] crate::auth::AuthError),
    #[error("messages: {0}")]
    Channels(#[from] ChannelError),
    #[error("media: {0}")]
    Media(#[from] crate::media::MediaError),
    #[error("paired boxes: {0}")]
    Boxes(#[from] crate::service::boxes::federation::FederationError),
}

/// A started server.
pub struct Running {
    pub https_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// Where paired boxes connect (mutual TLS).
    pub sync_addr: SocketAddr,
    /// Where browsers send audio and video (UDP).
    pub media: crate::media::engine::Udp,
    /// The one-time link for the first teacher, when the box has no teacher yet.
    pub setup_url: Option<String>,
    pub base_url: String,
    pub state: Arc<AppState>,
    done: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, closes every socket with a close code, flushes the store.
    pub async fn shutdown(self) {
        self.state.shutdown.cancel();
        let _ = self.done.await;
    }

    /// Waits until something else (a signal) shut the server down.
    pub async fn finished(self) {
        let _ = self.done.await;
    }
}

pub async fn start(config: Config) -> Result<Running, StartError> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<Running, StartError> {
    match crate::limits_os::raise_open_files_limit() {
        Some(files) => tracing::info!(open_files = files, "open-files limit"),
        None => tracing::warn!("could not read the open-files limit"),
    }
    let data = DataDir::open(&config.data_dir)?;
    let disk = Arc::new(Disk::new(
        &config.data_dir,
        config.limits.min_free_disk_bytes,
        config.limits.disk_floor_bytes,
    ));
    let store: Arc<dyn Store> = Arc::new(Guarded::new(
        SledStore::open(&data.store_dir())?,
        disk.clone(),
    ));
    data.restrict_store_permissions()?;
    let names = service::vpn::certificate_names(config.host_name.as_deref(), store.as_ref());
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Tls::provided(cert, key)?,
        _ => Tls::local(&data.tls_dir(), names.clone(), clock.now_ms())?,
    };

    let identity = BoxIdentity::load_or_create(&data.tls_dir(), names.host())?;
    let paired = pairs::all(store.as_ref())?
        .into_iter()
        .map(|p| (p.fingerprint, p.box_id));
    let trust = Trust::new(paired);
    let sync_tls = trust.server_config(&identity)?;
    let boxes = Arc::new(Federation::new(
        identity,
        trust,
        names.host(),
        Duration::from_millis(config.boxes.sync_every_ms),
    ));

    let https = bind(config.listen).await?;
    let http = bind(config.http_listen).await?;
    let sync = bind(config.boxes.listen).await?;
    let sync_addr = local_addr(&sync, config.boxes.listen)?;
    boxes.set_port(sync_addr.port());
    let https_addr = local_addr(&https, config.listen)?;
    let http_addr = local_addr(&http, config.http_listen)?;

    let (persister, persist_worker) = Persister::start(store.clone(), clock.now_ms());
    let docs = DocHub::new(
        store.clone(),
        persister,
        DocLimits {
            max_doc_bytes: config.limits.max_doc_bytes,
            per_person: config.limits.doc_quota_per_person_bytes,
            per_address: config.limits.doc_quota_per_address_bytes,
            per_lesson: config.limits.doc_quota_per_lesson_bytes,
            share_of_shared: config.limits.doc_share_of_shared_bytes,
        },
        disk.clone(),
        Duration::from_millis(config.limits.doc_idle_unload_ms),
    )?;
    let (channels, commit_worker) = Channels::start(store.clone(), clock.clone())?;
    let media = Media::start(&config.media, config.listen.ip()).await?;
    let media_udp = media.udp();
    let state = Arc::new(AppState {
        services: Services {
            store,
            clock,
            presence: Presence::new(),
            docs,
            media,
            channels,
            grants: Grants::new(),
            files: FileRoom {
                quotas: Quotas {
                    per_sender: config.limits.upload_quota_per_sender_bytes,
                    per_address: config.limits.upload_quota_per_address_bytes,
                    per_lesson: config.limits.upload_quota_per_lesson_bytes,
                    per_box: config.limits.upload_quota_box_bytes,
                },
                data_dir: config.data_dir.clone(),
                by_address: Default::default(),
            },
            disk,
            nearby: Arc::new(Nearby::new(config.discovery.enabled, names.host())),
            boxes,
        },
        limits: RateLimits::new(&config.limits),
        config,
        tls: Arc::new(tls),
        names,
        ws_connections: AtomicUsize::new(0),
        https_port: https_addr.port(),
        shutdown: CancellationToken::new(),
        tasks: TaskTracker::new(),
    });
    let base_url = base_url(state.config.listen.ip(), https_addr.port(), &state.names);
    let setup_url = first_teacher_link(&state, &base_url)?;

    let done = tokio::spawn(serve(
        state.clone(),
        Listeners { https, http, sync },
        sync_tls,
        [persist_worker, commit_worker],
    ));
    tracing::info!(%https_addr, %http_addr, media = %media_udp, sync_port = state.services.boxes.port(), "tavla is listening");
    Ok(Running {
        https_addr,
        http_addr,
        sync_addr,
        media: media_udp,
        setup_url,
        base_url,
        state,
        done,
    })
}

fn first_teacher_link(state: &AppState, base_url: &str) -> Result<Option<String>, StartError> {
    if teachers::any_exists(state.services.store.as_ref())? {
        return Ok(None);
    }
    let token = teachers::issue_setup_token(
        state.services.store.as_ref(),
        state.services.clock.as_ref(),
        TokenKind::FirstTeacher,
        None,
    )?;
    Ok(Some(format!("{base_url}/setup?token={token}")))
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

fn local_addr(listener: &TcpListener, addr: SocketAddr) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })
}

struct Listeners {
    https: TcpListener,
    http: TcpListener,
    /// For paired boxes (mutual TLS).
    sync: TcpListener,
}

/// Runs the listeners and the maintenance loop until shutdown, then closes in order.
async fn serve(
    state: Arc<AppState>,
    Listeners { https, http, sync }: Listeners,
    sync_tls: Arc<rustls::ServerConfig>,
    [persist_worker, commit_worker]: [tokio::task::JoinHandle<()>; 2],
) {
    let https_task = tokio::spawn(http::serve::serve_https(https, state.clone()));
    let http_task = tokio::spawn(http::plain::serve_plain(http, state.clone()));
    let sync_task = tokio::spawn(http::serve::serve_sync(sync, state.clone(), sync_tls));
    let box_sync = tokio::spawn(sync_boxes(state.clone()));
    let relays = tokio::spawn(relay_paired_lessons(state.clone()));
    let maintenance = tokio::spawn(maintain(state.clone()));
    let store_keeper = tokio::spawn(keep_store_working(state.clone()));
    let lessons = tokio::spawn(wrap_up_lessons(state.clone()));
    let sweeper = tokio::spawn(
        state
            .services
            .docs
            .clone()
            .sweep_until(state.shutdown.clone()),
    );
    let announcement = announce(&state);
    let admin = tokio::spawn(crate::admin::serve(state.clone()));
    crate::notify::ready();
    let watchdog = crate::notify::watchdog_every().map(|every| {
        tokio::spawn(async move {
            // Fed from a task: if the runtime stops answering, systemd restarts the box.
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                crate::notify::alive();
            }
        })
    });

    state.shutdown.cancelled().await;
    crate::notify::stopping();
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    // Devices stop being told about a box that is going away before its connections close.
    if let Some(announcement) = announcement {
        let _ = tokio::task::spawn_blocking(move || announcement.stop()).await;
    }
    tracing::info!("shutting down: closing connections");
    // WebSocket tasks see the same token and send 1001 before ending.
    state.tasks.close();
    if tokio::time::timeout(Duration::from_secs(5), state.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close within 5 s");
    }
    let _ = tokio::join!(https_task, http_task, sync_task, sweeper, admin);
    // A sync cut off mid-transfer resumes from what was kept (CRDT updates and numbered
    // messages are taken at most once each).
    box_sync.abort();
    relays.abort();
    let _ = box_sync.await;
    let _ = relays.await;
    // Every connection closed its peer connections on the way out.
    state.services.media.close().await;
    // Every connection has ended, so nothing waits for a message commit any more.
    maintenance.abort();
    store_keeper.abort();
    lessons.abort();
    commit_worker.abort();
    // Aborted tasks hold the state (and so the store's lock) until they are really gone.
    let _ = maintenance.await;
    let _ = store_keeper.await;
    let _ = lessons.await;
    let _ = commit_worker.await;
    // Every document is snapshotted and every queued write made durable before we exit.
    state.services.docs.flush_all().await;
    state.services.docs.close_persistence();
    let _ = persist_worker.await;
    if let Err(e) = state.services.store.flush() {
        tracing::error!("flushing the store at shutdown failed: {e}");
    }
    tracing::info!("stopped");
}

/// Announces the box with mDNS, unless `[discovery]` says not to. A network without multicast
/// is no reason not to serve: the failure is logged and the box runs on without it.
fn announce(state: &AppState) -> Option<Announcement> {
    if !state.config.discovery.enabled {
        return None;
    }
    let profile = Profile {
        name: state.names.host().to_string(),
        https_port: state.https_port,
        ca_fingerprint: state.tls.ca_fingerprint(),
        sync_port: state.services.boxes.port(),
    };
    match Announcement::start(&profile) {
        Ok(announcement) => Some(announcement),
        Err(e) => {
            tracing::warn!("could not announce the box on the network: {e}");
            None
        }
    }
}

/// Asks every paired box for what it shares, every `boxes.sync_every_ms` or at once when a box
/// was paired or what it receives changed.
async fn sync_boxes(state: Arc<AppState>) {
    let boxes = state.services.boxes.clone();
    loop {
        service::boxes::sync_all(&state.services).await;
        tokio::select! {
            _ = tokio::time::sleep(boxes.interval) => {}
            _ = boxes.wake.notified() => {}
            _ = state.shutdown.cancelled() => return,
        }
    }
}

/// Each lesson whose stage is made here is followed: if its class came from a paired box, that
/// box's stream of it is received here while anyone watches (`service::boxes::relay`).
async fn relay_paired_lessons(state: Arc<AppState>) {
    let mut opened = state.services.media.stages_opened();
    loop {
        let lesson_id = tokio::select! {
            opened = opened.recv() => match opened {
                Ok(lesson_id) => lesson_id,
                // Stages made while this lagged have clients that make them again later.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = state.shutdown.cancelled() => return,
        };
        let state = state.clone();
        // Tracked like a connection: shutdown waits for it to let go of the stage.
        state.tasks.clone().spawn(async move {
            tokio::select! {
                _ = service::boxes::relay_while_watched(&state.services, &lesson_id) => {}
                _ = state.shutdown.cancelled() => {}
            }
        });
    }
}

/// How often a failed store is tried again.
const STORE_RECOVERY_EVERY: Duration = Duration::from_secs(1);

/// Every second: a store that failed (its disk filled up under it) is reopened once the disk
/// has room again, so the box carries on without a restart.
async fn keep_store_working(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(STORE_RECOVERY_EVERY);
    loop {
        tick.tick().await;
        service::health::recover_store(&state.services).await;
    }
}

/// Hourly: renew the certificate if needed, forget old rate-limit entries.
async fn maintain(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.tick().await;
    loop {
        tick.tick().await;
        let names = service::vpn::certificate_names(
            state.config.host_name.as_deref(),
            state.services.store.as_ref(),
        );
        match state.tls.refresh(names, state.services.clock.now_ms()) {
            Ok(true) => tracing::info!("serving a renewed certificate"),
            Ok(false) => {}
            Err(e) => tracing::error!("certificate renewal failed: {e}"),
        }
        state.limits.forget_old();
    }
}

/// Ends lessons whose time ran out (and any a stopped box missed), as the teacher's "end
/// lesson" does: their connections close, their documents get their end-of-lesson version.
/// Also sweeps files uploaded for messages that were never sent, and once a day (by the
/// box's clock) deletes what is older than `[retention]` allows.
async fn wrap_up_lessons(state: Arc<AppState>) {
    let mut tick =
        tokio::time::interval(Duration::from_millis(state.config.limits.lesson_check_ms));
    let mut last_retention_sweep: Option<u64> = None;
    loop {
        tick.tick().await;
        let now = state.services.clock.now_ms();
        if last_retention_sweep.is_none_or(|last| now.saturating_sub(last) >= DAY_MS) {
            last_retention_sweep = Some(now);
            let swept =
                service::privacy::sweep_expired(&state.services, &state.config.retention).await;
            if let Err(e) = swept {
                tracing::error!("the retention sweep failed: {e}");
            }
        }
        if let Err(e) = service::lessons::end_those_over(&state.services) {
            tracing::error!("closing lessons that ran out failed: {e}");
        }
        let unsent_after = state.config.limits.unsent_upload_ms;
        if let Err(e) = service::files::sweep_unsent(&state.services, unsent_after) {
            tracing::error!("sweeping unsent uploads failed: {e}");
        }
    }
}

/// Runs until Ctrl-C or SIGTERM, then shuts down cleanly. What `tavla serve` does.
pub async fn run(config: Config) -> Result<(), StartError> {
    let running = start(config).await?;
    println!("Tavla is running at {}", running.base_url);
    println!("  https: {}", running.https_addr);
    println!(
        "  http:  {} (redirects; serves the certificate at /ca.crt)",
        running.http_addr
    );
    println!("  boxes: {} (paired boxes only)", running.sync_addr);
    if let Some(url) = &running.setup_url {
        println!("Set up the first teacher account (one-time link): {url}");
    }
    println!("Press Ctrl-C to stop.");
    let token = running.state.shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        token.cancel();
    });
    running.finished().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
