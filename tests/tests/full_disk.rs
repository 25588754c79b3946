//! A full disk on a real (small) filesystem: the box answers every request, says what is wrong
//! on `/healthz`, loses nothing it acknowledged, and carries on by itself once space is back.
//!
//! The filesystem is a tmpfs the test mounts, so it needs root: it is `#[ignore]`d, so that
//! without root it counts as skipped, and `tests/run-all.sh` runs it (with the other ignored
//! tests) when it runs as root.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;

/// A tmpfs of `mib` MiB mounted for the test's life.
pub struct SmallDisk {
    pub path: PathBuf,
}

impl SmallDisk {
    /// `None` (after saying why) when the mount fails.
    pub fn mount(mib: u64) -> Option<Self> {
        let path = tempfile::tempdir().ok()?.keep();
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tavla-test",
            ])
            .arg(&path)
            .status()
            .ok()?;
        if !status.success() {
            eprintln!("could not mount a tmpfs at {}", path.display());
            return None;
        }
        Some(Self { path })
    }

    /// Fills what is left with one file (another program filling the disk).
    pub fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let _ = std::process::Command::new("dd")
            .args(["if=/dev/zero", "bs=1M", "status=none"])
            .arg(format!("of={}", filler.display()))
            .status();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .args(["-l"])
            .arg(&self.path)
            .status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

fn free_bytes(path: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .expect("df runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not answer within 20 s"))
}

/// Waits (a bounded number of short looks) until `/healthz` answers `status`.
async fn health_becomes(server: &TestServer, status: StatusCode) -> String {
    let client = server.client();
    for _ in 0..200 {
        let (now, body) = client.get("/healthz").await;
        if now == status {
            return body.as_str().unwrap_or_default().to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/healthz did not become {status} within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root to mount a small tmpfs; tests/run-all.sh runs it as root"]
async fn a_full_disk_gets_answers_not_a_hang_and_the_box_carries_on_when_space_is_back() {
    let disk = SmallDisk::mount(96).expect("root can mount a tmpfs");
    let dir = Arc::new(tempfile::TempDir::new_in(&disk.path).unwrap());
    let server = TestServer::start_in(dir, |c| {
        c.limits.min_free_disk_bytes = 8 * 1024 * 1024;
        c.limits.disk_floor_bytes = 2 * 1024 * 1024;
    })
    .await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let lesson = start_lesson(&kari, &class_id).await;
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    let code = lesson["code"].as_str().unwrap();
    let doc = format!("lesson.{lesson_id}.class");
    let per = guest(&server, code, "Per").await;
    let mut per_live = Live::try_open(&per, "", 0).await.expect("connected");
    let thread = per_live.thread("private");
    let mut kari_doc = DocClient::connect(&kari, &doc).await.unwrap();
    kari_doc.append("før ").await.unwrap();
    let mut per_doc = DocClient::connect(&per, &doc).await.unwrap();
    per_doc.until(|t| t.contains("før")).await.unwrap();

    // Another program fills the disk.
    let filler = disk.fill();
    assert!(free_bytes(&disk.path) < 1024 * 1024);

    // Every request is answered, with a clear refusal where nothing can be saved.
    let said = within(
        "healthz on a full disk",
        health_becomes(&server, StatusCode::SERVICE_UNAVAILABLE),
    )
    .await;
    assert!(said.contains("disk full"), "{said}");
    let refused = within(
        "a message on a full disk",
        per_live
            .request(json!({"type": "send", "client_id": "c1", "thread": thread, "text": "hei"})),
    )
    .await;
    assert_eq!(refused.unwrap_err(), "disk_full");
    per_doc.append("tapt ").await.unwrap();
    assert_eq!(
        within("a pupil's edit on a full disk", per_doc.closed_with()).await,
        Some(4014)
    );
    kari_doc.append("også tapt ").await.unwrap();
    assert_eq!(
        within("the teacher's edit below the floor", kari_doc.closed_with()).await,
        Some(4014),
        "below the floor nobody's edit can be kept, so nobody's is taken"
    );
    let (status, body) = within(
        "ending the lesson on a full disk",
        kari.post(&format!("/api/lessons/{lesson_id}/end"), json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["error"]["code"], "disk_full");

    // Room again: the box carries on by itself.
    std::fs::remove_file(&filler).unwrap();
    within(
        "healthz once space is back",
        health_becomes(&server, StatusCode::OK),
    )
    .await;
    let mut per_live = Live::try_open(&per, "", 0).await.expect("connected again");
    let sent = within(
        "a message once space is back",
        per_live
            .request(json!({"type": "send", "client_id": "c2", "thread": thread, "text": "etter"})),
    )
    .await;
    assert!(sent.is_ok(), "{sent:?}");
    let mut kari_doc = DocClient::connect(&kari, &doc).await.unwrap();
    assert!(kari_doc.text().contains("før"));
    assert!(
        !kari_doc.text().contains("tapt"),
        "a refused edit is not kept"
    );
    kari_doc.append("etter ").await.unwrap();
    let (status, body) = kari
        .post(&format!("/api/lessons/{lesson_id}/end"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(kari_doc);

    // Full again, and stopped: the box stops within the unit's stop timeout (15 s) and keeps
    // what it had acknowledged.
    let filler = disk.fill();
    let stopped = std::time::Instant::now();
    let dir = within("stopping on a full disk", server.stop()).await;
    assert!(stopped.elapsed() < Duration::from_secs(15));
    std::fs::remove_file(&filler).unwrap();
    let server = TestServer::start_in(dir, |_| {}).await;
    let kari = server.sign_in("Kari").await;
    let lesson = start_lesson(&kari, &class_id).await;
    assert_ne!(lesson["id"], lesson_id.as_str());
    let (status, versions) = kari.get(&format!("/api/docs/{doc}/versions")).await;
    assert_eq!(status, StatusCode::OK, "{versions}");
    assert_eq!(
        versions["versions"].as_array().map(Vec::len),
        Some(1),
        "the lesson ended once space was back, with its version: {versions}"
    );
    let kept = DocClient::connect(&kari, &doc).await;
    let text = kept.map(|d| d.text()).unwrap_or_default();
    assert!(text.contains("før") && text.contains("etter"), "{text}");
    server.stop().await;
}
