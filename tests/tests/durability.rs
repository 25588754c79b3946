//! `kill -9` in the middle of a burst of edits: after a restart, every update the server had
//! applied more than 100 ms before the kill is still there. Runs the real binary as a child.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::yjs::DocClient;
use tavla_e2e::{User, PASSWORD};

/// The `tavla` binary next to this test's own executable (cargo builds it for the workspace).
fn tavla_binary() -> PathBuf {
    let mut dir = std::env::current_exe().expect("test executable");
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir.join("tavla");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p tavla` (run-all.sh does)",
        binary.display()
    );
    binary
}

struct Child9 {
    child: Child,
    https_port: u16,
    setup_url: Option<String>,
}

impl Drop for Child9 {
    /// A failing test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &std::path::Path) -> Child9 {
    // A burst faster than the default per-connection limit allows.
    let config = data.with_file_name("tavla.toml");
    std::fs::write(&config, "[limits]\ndoc_messages_per_second = 100000\n").unwrap();
    let mut child = Command::new(tavla_binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&config)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("tavla starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut https_port, mut setup_url) = (None, None);
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(rest) = line.trim().strip_prefix("https: 127.0.0.1:") {
            https_port = rest.parse().ok();
        }
        if let Some((_, url)) = line.split_once("one-time link): ") {
            setup_url = Some(url.to_string());
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Child9 {
        child,
        https_port: https_port.expect("printed the HTTPS port"),
        setup_url,
    }
}

#[tokio::test]
async fn kill_9_during_a_burst_loses_nothing_older_than_100_ms() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data);
    let ca = std::fs::read(data.join("tls/ca.crt")).unwrap();

    let teacher = User::new(server.https_port, &ca, None);
    let token = server
        .setup_url
        .clone()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string();
    let (status, _) = teacher
        .post(
            "/api/setup",
            json!({ "token": token, "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, class) = teacher.post("/api/classes", json!({ "name": "7B" })).await;
    let (_, lesson) = teacher
        .post("/api/lessons", json!({ "class_id": class["id"] }))
        .await;
    let ada = User::new(server.https_port, &ca, None);
    assert_eq!(
        ada.post(
            "/api/join",
            json!({ "code": lesson["code"], "name": "Ada" })
        )
        .await
        .0,
        StatusCode::OK
    );
    let name = format!("lesson.{}.class", lesson["id"].as_str().unwrap());

    let mut writer = DocClient::connect(&ada, &name).await.unwrap();
    let mut observer = DocClient::connect(&teacher, &name).await.unwrap();
    // Each line is written, then seen coming back through the server: from then on it has
    // "arrived". Keep going for a while, then kill the server without warning.
    let mut arrived: Vec<(usize, Instant)> = Vec::new();
    let burst_started = Instant::now();
    let mut k = 0;
    while burst_started.elapsed() < Duration::from_millis(700) {
        writer.append(&format!("<{k}>")).await.unwrap();
        let marker = format!("<{k}>");
        observer.until(|t| t.contains(&marker)).await.unwrap();
        arrived.push((k, Instant::now()));
        k += 1;
    }
    server.child.kill().unwrap(); // SIGKILL
    let killed_at = Instant::now();
    server.child.wait().unwrap();

    let server = start(&data);
    let again = User::new(server.https_port, &ca, None);
    let (status, _) = again
        .post(
            "/api/login",
            json!({ "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = DocClient::connect(&again, &name).await.unwrap().text();
    let must_survive: Vec<usize> = arrived
        .iter()
        .filter(|(_, at)| killed_at.duration_since(*at) > Duration::from_millis(100))
        .map(|(k, _)| *k)
        .collect();
    assert!(
        must_survive.len() > 50,
        "the burst was long enough to mean something ({})",
        must_survive.len()
    );
    let lost: Vec<usize> = must_survive
        .iter()
        .copied()
        .filter(|k| !text.contains(&format!("<{k}>")))
        .collect();
    assert!(
        lost.is_empty(),
        "lost {} of {} updates older than 100 ms: {lost:?}",
        lost.len(),
        must_survive.len()
    );
    drop(server);
}
