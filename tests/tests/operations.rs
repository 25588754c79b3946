//! What an IT admin relies on: plain HTTP redirects, the CA download, security headers,
//! health and metrics, clean shutdown, and refusing a data dir that is not Tavla's.

use reqwest::StatusCode;
use tavla::Config;
use tavla_e2e::*;

#[tokio::test]
async fn plain_http_redirects_and_serves_the_certificate() {
    let server = TestServer::start().await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = plain
        .get(server.http_url("/join?code=ABCDEF"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        response.headers()["location"],
        format!(
            "https://localhost:{}/join?code=ABCDEF",
            server.running.https_addr.port()
        )
        .as_str()
    );

    // A Host the box does not answer to is not reflected: the redirect goes to the box.
    let forged = plain
        .get(server.http_url("/join"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::PERMANENT_REDIRECT);
    let location = forged.headers()["location"].to_str().unwrap();
    assert!(
        !location.contains("evil") && location.ends_with("/join"),
        "{location}"
    );
    assert!(
        location.starts_with(&server.running.base_url),
        "{location} is the box's own address"
    );
    assert!(
        !forged.headers().contains_key("strict-transport-security"),
        "HSTS means nothing over plain HTTP"
    );

    let ca = plain.get(server.http_url("/ca.crt")).send().await.unwrap();
    assert_eq!(ca.status(), StatusCode::OK);
    assert_eq!(ca.headers()["content-type"], "application/x-x509-ca-cert");
    let pem = ca.text().await.unwrap();
    assert_eq!(
        pem.as_bytes(),
        std::fs::read(server.dir.path().join("data/tls/ca.crt")).unwrap()
    );

    let profile = plain
        .get(server.http_url("/ca.mobileconfig"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(profile.contains("com.apple.security.root"));
    let der_b64 = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    assert!(
        profile.contains(&der_b64),
        "the profile carries the same CA"
    );

    let install = plain.get(server.http_url("/install")).send().await.unwrap();
    assert_eq!(
        install.status(),
        StatusCode::OK,
        "the install page works before the CA is trusted"
    );
    let tls = server.tls_info().await;
    assert_eq!(tls["local_ca"], true);
    assert_eq!(tls["fingerprint_sha256"].as_str().unwrap().len(), 95);
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let server = TestServer::start().await;
    let client = server.client();
    for path in [
        "/",
        "/join",
        "/app.js",
        "/api/me",
        "/api/nothing",
        "/healthz",
    ] {
        let response = client.http.get(server.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(
            headers["strict-transport-security"], "max-age=31536000",
            "{path}"
        );
    }
    let page = client
        .http
        .get(server.url("/teacher/class?id=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["content-type"], "text/html");
    let html = page.text().await.unwrap();
    assert!(html.contains("/app.js"), "app routes get the app");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from outside"
    );
    assert_eq!(
        client
            .http
            .get(server.url("/missing.png"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn health_and_metrics_count_without_naming_anyone() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari Nordmann").await;
    let class = class_with(&teacher, "7B", &["Ada Lovelace"]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let pupil = guest(&server, lesson["code"].as_str().unwrap(), "Gjest").await;
    let mut socket = pupil.ws("").await.unwrap();
    next_of_type(&mut socket, "welcome").await;

    let client = server.client();
    assert_eq!(client.get("/healthz").await.1, "ok\n");
    let (_, metrics) = client.get("/metrics").await;
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains("tavla_ws_connections 1"), "{metrics}");
    assert!(metrics.contains("tavla_lessons_active 1"), "{metrics}");
    assert!(metrics.contains("tavla_lessons_live 1"), "{metrics}");
    assert!(metrics.contains("tavla_memory_rss_bytes "), "{metrics}");
    for private in ["Kari", "Ada", "Gjest", "7B"] {
        assert!(!metrics.contains(private), "metrics name nobody");
    }
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away_and_keeps_data() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &[]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let pupil = guest(&server, lesson["code"].as_str().unwrap(), "Ada").await;
    let mut socket = pupil.ws("").await.unwrap();
    next_of_type(&mut socket, "welcome").await;
    let running = server.running;
    let closing = tokio::spawn(async move { close_frame(&mut socket).await });
    running.shutdown().await;
    let frame = closing.await.unwrap();
    assert_eq!(frame.map(|f| u16::from(f.code)), Some(1001));

    let restarted = TestServer::start_in(server.dir, |_| {}).await;
    let again = restarted.client();
    let (status, _) = again
        .post(
            "/api/login",
            tavla_e2e::serde_json::json!({ "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        again.get("/api/lessons").await.1["lessons"][0]["code"],
        lesson["code"]
    );
}

#[tokio::test]
async fn a_data_dir_with_foreign_or_corrupt_files_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("elevliste.xlsx"), b"precious").unwrap();
    let err = tavla::start(Config::for_tests(dir.path()))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("elevliste.xlsx"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("elevliste.xlsx")).unwrap(),
        b"precious"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing was added"
    );

    let server = TestServer::start().await;
    let dir = server.stop().await;
    let key = dir.path().join("data/tls/ca.key");
    std::fs::write(
        &key,
        b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = tavla::start(Config::for_tests(&dir.path().join("data")))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("ca.key"), "{err}");
}

#[tokio::test]
async fn a_provided_certificate_is_used_instead_of_the_local_ca() {
    // Make a certificate the way a municipality's CA would hand one over: a PEM pair on disk.
    let made = tempfile::tempdir().unwrap();
    TestServer::start_with(|c| c.data_dir = made.path().join("data"))
        .await
        .stop()
        .await;
    let cert = made.path().join("data/tls/server.crt");
    let key = made.path().join("data/tls/server.key");
    let server = TestServer::start_with(|c| {
        c.tls_cert = Some(cert.clone());
        c.tls_key = Some(key.clone());
    })
    .await;
    let plain = reqwest::Client::new();
    let tls = server.tls_info().await;
    assert_eq!(tls["local_ca"], false);
    assert_eq!(
        plain
            .get(server.http_url("/ca.crt"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        !server.dir.path().join("data/tls/ca.key").exists(),
        "no local CA is made"
    );

    let issuer = reqwest::Certificate::from_pem(
        &std::fs::read(made.path().join("data/tls/ca.crt")).unwrap(),
    )
    .unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(issuer)
        .build()
        .unwrap();
    let health = trusting.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok\n");
}

/// Everything Tavla stores is its user's alone — files 0600, directories 0700 — whatever
/// umask it was started with, also files the store makes while it runs (a picture big enough
/// to be kept as a blob of its own).
#[tokio::test]
async fn stored_files_are_private_whatever_the_umask() {
    // SAFETY: umask(2) only sets this test process's file mode creation mask.
    unsafe {
        libc::umask(0o022);
    }
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ada"]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let doc = format!("lesson.{}.class", lesson["id"].as_str().unwrap());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png.resize(3 * 1024 * 1024, 7);
    let (status, body) = kari
        .upload(
            &format!("/api/files?doc={doc}&name=bilde.png"),
            "image/png",
            png,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dir = server.stop().await;

    fn walk(path: &std::path::Path, seen: &mut Vec<(String, u32)>) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        seen.push((path.display().to_string(), mode));
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                walk(&entry.unwrap().path(), seen);
            }
        }
    }
    let mut seen = Vec::new();
    walk(&dir.path().join("data"), &mut seen);
    assert!(seen.len() > 5, "{seen:?}");
    let open: Vec<_> = seen.iter().filter(|(_, mode)| mode & 0o077 != 0).collect();
    assert!(open.is_empty(), "readable by others: {open:?}");
}

/// One device (a pupil's script) opening connections and leaving them stalled cannot take the
/// box: over its share they are closed at once, within it they are closed when the handshake
/// timeout passes, and everyone else — `/healthz`, a pupil joining — is answered meanwhile.
#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let server = TestServer::start_with(|c| {
        c.limits.connections_per_address = 4;
        c.limits.tls_handshake_ms = 500;
    })
    .await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;

    let stalled = stalled_from_another_device(server.running.https_addr, 40).await;
    let (status, _) = server.client().get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let pupil = server.client();
    let (status, body) = pupil
        .post(
            "/api/join",
            tavla_e2e::serde_json::json!({ "code": lesson["code"], "name": "Ada" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Every stalled connection is closed by the box: the ones over the share at once, the
    // others when their handshake runs out of time.
    each_closed_by_the_box(stalled).await;
    // The address has its share back.
    let again = server.client_from(Some("127.0.0.2".parse().unwrap()));
    let (status, _) = again.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn one_address_cannot_take_every_plain_http_connection_either() {
    let server = TestServer::start_with(|c| {
        c.limits.connections_per_address = 4;
        c.limits.header_read_ms = 500;
    })
    .await;
    let stalled = stalled_from_another_device(server.running.http_addr, 40).await;
    // Another device still installs the certificate and checks the box's health.
    let plain = reqwest::Client::new();
    let health = plain
        .get(server.http_url("/healthz"))
        .send()
        .await
        .expect("plain HTTP answers");
    assert_eq!(health.status(), StatusCode::OK);
    // Every stalled connection is closed by the box: over the share at once, the others when
    // their headers do not come.
    each_closed_by_the_box(stalled).await;
}

/// `count` connections to `to` from 127.0.0.2 (another device) that never send a byte.
async fn stalled_from_another_device(
    to: std::net::SocketAddr,
    count: usize,
) -> Vec<tokio::net::TcpStream> {
    let attacker: std::net::SocketAddr = "127.0.0.2:0".parse().unwrap();
    let mut stalled = Vec::new();
    for _ in 0..count {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(attacker).unwrap();
        stalled.push(socket.connect(to).await.unwrap());
    }
    stalled
}

/// Every stream is closed by the box within 10 s.
async fn each_closed_by_the_box(stalled: Vec<tokio::net::TcpStream>) {
    use tokio::io::AsyncReadExt;
    for mut stream in stalled {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("the box closes a stalled connection");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
}
