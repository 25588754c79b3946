//! The box's local admin socket, `<data dir>/admin.sock` (0600 in a 0700 directory: only
//! Tavla's own user, which the IT contact reaches with sudo, can use it). `tavla backup` talks
//! to it while the server runs, since the store can be opened by one process only.
//!
//! One line in, one line out: `backup <absolute path>` → `ok <records>` or `error <why>`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::http::state::AppState;

/// The socket's file name in the data directory.
pub const SOCKET: &str = "admin.sock";

/// The longest command line taken.
const MAX_LINE: u64 = 4096;

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// Serves the socket until shutdown; removes it then.
pub async fn serve(state: Arc<AppState>) {
    let path = socket_path(&state.config.data_dir);
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!("no admin socket ({e}); backups need Tavla stopped");
            return;
        }
    };
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let state = state.clone();
                    tokio::spawn(async move { handle(state, stream).await });
                }
            }
        }
    }
    let _ = std::fs::remove_file(&path);
}

async fn handle(state: Arc<AppState>, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_LINE));
    let got = tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line)).await;
    let answer = match got {
        Ok(Ok(_)) => answer(&state, line.trim_end()).await,
        _ => "error no command within 10 s".to_string(),
    };
    let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
}

async fn answer(state: &Arc<AppState>, line: &str) -> String {
    let Some(target) = line.strip_prefix("backup ") else {
        return "error unknown command; try: backup <absolute path>".into();
    };
    let target = PathBuf::from(target);
    if !target.is_absolute() {
        return "error the path must be absolute".into();
    }
    // Every edit the box has taken in is written first, so the backup has it. A disk too full
    // to take them is when a backup is needed most: it goes ahead with what is stored.
    if let Err(e) = state.services.docs.durable().await {
        tracing::warn!("backing up while the latest edits cannot be stored: {e}");
    }
    let store = state.services.store.clone();
    let data_dir = state.config.data_dir.clone();
    let done = tokio::task::spawn_blocking(move || {
        crate::backup::write(store.as_ref(), &data_dir, &target)
    })
    .await;
    match done {
        Ok(Ok(records)) => {
            tracing::info!(records, "backup written");
            format!("ok {records}")
        }
        Ok(Err(e)) => format!("error {e}"),
        Err(e) => format!("error {e}"),
    }
}
