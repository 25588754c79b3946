//! A connection flood with the open-files limit as low as some systems set it (256): one
//! address opens far more stalled TLS and plain-HTTP connections than its share, and another
//! device still gets `/healthz` on both ports and a pupil still joins, at once; every stalled
//! connection is closed by the box. The flood comes from a separate process (as it would from
//! another device), so only the box's own descriptors count against its limit.
//!
//! Its own test binary: it lowers this process's open-files limit for good.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::*;

const FILES: libc::rlim_t = 256;
const STALLED_PER_PORT: usize = 150;

fn lower_open_files_limit() {
    let limit = libc::rlimit {
        rlim_cur: FILES,
        rlim_max: FILES,
    };
    // SAFETY: setrlimit reads the struct we pass; lowering both limits is always permitted.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

/// The flood: a Python process (started before this process's limit is lowered, so it keeps
/// its own) that reads "<port> <count>" lines, opens that many connections to each port from
/// 127.0.0.2, says "ready", then reports how many the box closed within 15 s.
const FLOOD: &str = r#"
import select, socket, sys, time
targets = [tuple(int(x) for x in sys.stdin.readline().split()) for _ in range(2)]
socks = []
for port, count in targets:
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
print("ready", flush=True)
open_ = set(socks)
deadline = time.time() + 15
while open_ and time.time() < deadline:
    readable, _, _ = select.select(list(open_)[:500], [], [], 0.5)
    for s in readable:
        try:
            data = s.recv(1)
        except OSError:
            data = b""
        if not data:
            open_.discard(s)
print("closed", len(socks) - len(open_), "of", len(socks), flush=True)
"#;

#[tokio::test]
async fn a_flood_from_one_address_under_a_low_open_files_limit_leaves_room_for_others() {
    let mut flood = Command::new("python3")
        .arg("-c")
        .arg(FLOOD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the flood");
    lower_open_files_limit();
    let server = TestServer::start_with(|c| {
        c.limits.connections_per_address = 16;
        c.limits.tls_handshake_ms = 500;
        c.limits.header_read_ms = 500;
    })
    .await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;

    {
        use std::io::Write;
        let stdin = flood.stdin.as_mut().unwrap();
        for port in [
            server.running.https_addr.port(),
            server.running.http_addr.port(),
        ] {
            writeln!(stdin, "{port} {STALLED_PER_PORT}").unwrap();
        }
    }
    let mut lines = BufReader::new(flood.stdout.take().unwrap()).lines();
    let ready = tokio::task::spawn_blocking(move || {
        let first = lines.next().and_then(Result::ok);
        (first, lines)
    });
    let (first, lines) = ready.await.unwrap();
    assert_eq!(first.as_deref(), Some("ready"));

    // Another device: health on both ports, and a pupil joining.
    let (status, _) = server.client().get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let plain = reqwest::Client::new()
        .get(server.http_url("/healthz"))
        .send()
        .await
        .expect("plain HTTP answers");
    assert_eq!(plain.status(), StatusCode::OK);
    let pupil = server.client();
    let (status, body) = pupil
        .post(
            "/api/join",
            json!({ "code": lesson["code"], "name": "Ada" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut lines = lines;
    let report = tokio::task::spawn_blocking(move || lines.next().and_then(Result::ok))
        .await
        .unwrap()
        .unwrap_or_default();
    let total = 2 * STALLED_PER_PORT;
    assert_eq!(
        report,
        format!("closed {total} of {total}"),
        "every stalled connection is closed by the box"
    );
    let _ = flood.wait();
}
