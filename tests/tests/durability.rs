//! `kill -9` in the middle of a burst: after a restart, every document update the server had
//! applied more than 100 ms before the kill is still there, and every message it had
//! acknowledged is there exactly once. Runs the real binary as a child.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::yjs::DocClient;
use tavla_e2e::{Live, User, PASSWORD};

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

/// Starts the binary on `port` (0: any), so a restart can come back where clients expect it.
fn start(data: &std::path::Path, port: u16) -> Child9 {
    // A burst faster than the default per-connection limits allow.
    let config = data.with_file_name("tavla.toml");
    std::fs::write(
        &config,
        "[limits]\ndoc_messages_per_second = 100000\nws_messages_per_second = 100000\n",
    )
    .unwrap();
    let mut child = Command::new(tavla_binary())
        .args(["serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args([
            "--http-listen",
            "127.0.0.1:0",
            "--sync-listen",
            "127.0.0.1:0",
            "--media-udp-port",
            "0",
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
    let mut server = start(&data, 0);
    let ca = std::fs::read(data.join("tls/ca.crt")).unwrap();

    let (teacher, ada, lesson_id) = lesson_with_ada(&server, &ca).await;
    let name = format!("lesson.{lesson_id}.class");

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

    let server = start(&data, 0);
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

/// A new box with a teacher, a class, a running lesson and a guest pupil "Ada".
async fn lesson_with_ada(server: &Child9, ca: &[u8]) -> (User, User, String) {
    let teacher = User::new(server.https_port, ca, None);
    let token = server.setup_url.clone().unwrap();
    let token = token.split("token=").nth(1).unwrap();
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
    let ada = User::new(server.https_port, ca, None);
    let (status, _) = ada
        .post(
            "/api/join",
            json!({ "code": lesson["code"], "name": "Ada" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    (teacher, ada, lesson_id)
}

#[tokio::test]
async fn kill_9_loses_no_acknowledged_message_and_a_resend_is_not_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data, 0);
    let port = server.https_port;
    let ca = std::fs::read(data.join("tls/ca.crt")).unwrap();
    let (teacher, ada, lesson_id) = lesson_with_ada(&server, &ca).await;

    let mut live = Live::try_open(&ada, "", 0).await.expect("connected");
    let thread = live.thread("private");
    let send = |k: usize| json!({ "type": "send", "client_id": format!("m{k}"), "thread": thread, "text": format!("<{k}>") });
    // Ask, one after the other, for a while; then kill the box without warning.
    let mut acked = Vec::new();
    let started = Instant::now();
    let mut k = 0;
    while started.elapsed() < Duration::from_millis(500) {
        let answer = live.try_request(send(k)).await.expect("the box is up");
        assert!(answer.iter().any(|m| m["type"] == "sent"), "{answer:?}");
        acked.push(k);
        k += 1;
    }
    // One more on its way when the box dies.
    let in_flight = k;
    let _ = live.try_request(send(in_flight)).await;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    drop(live);

    let _server = start(&data, port);
    let mut live = Live::try_open(&ada, "", 0).await.expect("reconnected");
    // The web client resends what it has no `sent` for; here, the last one (maybe twice).
    for _ in 0..2 {
        let answer = live.try_request(send(in_flight)).await.expect("up");
        assert!(answer.iter().any(|m| m["type"] == "sent"), "{answer:?}");
    }
    let mut teacher_live = Live::try_open(&teacher, &format!("?lesson={lesson_id}"), 0)
        .await
        .expect("teacher connected");
    teacher_live.send(json!({ "type": "ping", "id": 1 })).await;
    teacher_live.until(|m| m["type"] == "pong").await;
    let texts: Vec<String> = teacher_live
        .received
        .iter()
        .filter(|m| m["type"] == "message")
        .map(|m| m["message"]["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        acked.len() > 20,
        "the burst meant something ({})",
        acked.len()
    );
    let expected: Vec<String> = (0..=in_flight).map(|k| format!("<{k}>")).collect();
    assert_eq!(texts, expected, "every message once, in order");
}
