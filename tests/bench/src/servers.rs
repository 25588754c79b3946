//! The two servers under test, started fresh for every scenario: Tavla's release binary (HTTPS,
//! sessions, its own CA) and the reference `@y/websocket-server` (plain ws, no auth), both on
//! loopback. Also what the kernel says about their CPU time and memory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::Connector;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One client's way in: the WebSocket URL of its document and its cookie, if any.
#[derive(Clone)]
pub struct Seat {
    pub url: String,
    pub cookie: Option<String>,
}

pub struct Server {
    child: Child,
    pub pid: u32,
    pub connector: Option<Connector>,
    /// Tavla's HTTPS base, for `/metrics`.
    https_base: Option<String>,
    /// Tavla: the teacher's `/ws` for the lesson, and each pupil's `/ws` (same cookies as the
    /// document seats).
    pub teacher_ws: Option<Seat>,
    pub pupils_ws: Vec<Seat>,
    /// Tavla: where paired boxes reach it, and its lesson's class.
    pub sync_address: Option<String>,
    pub class_id: Option<String>,
    /// Tavla: its lesson's join code.
    pub lesson_code: Option<String>,
    http: Option<reqwest::Client>,
    _data_dir: Option<tempfile::TempDir>,
}

/// How many clients sit in which documents.
pub enum Layout {
    /// `n` clients in one document.
    OneDoc(usize),
    /// `n` clients, each in a document of their own.
    OwnDocs(usize),
}

impl Layout {
    fn clients(&self) -> usize {
        match self {
            Layout::OneDoc(n) | Layout::OwnDocs(n) => *n,
        }
    }
}

impl Server {
    /// Starts Tavla with limits raised for a load test and `layout`'s pupils joined as guests.
    pub async fn tavla(binary: &Path, layout: &Layout) -> Result<(Self, Vec<Seat>), BoxError> {
        Self::tavla_with(binary, layout, "").await
    }

    /// Like [`Server::tavla`], with more lines for its `tavla.toml`.
    pub async fn tavla_with(
        binary: &Path,
        layout: &Layout,
        extra_config: &str,
    ) -> Result<(Self, Vec<Seat>), BoxError> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("tavla.toml");
        let pupils = layout.clients() + 10;
        // Every simulated pupil connects from loopback: one address for the whole class.
        let connections = 2 * pupils + 100;
        std::fs::write(
            &config,
            format!(
                "[limits]\njoin_per_minute_per_address = 1000000\njoin_per_minute_per_code = 1000000\n\
                 max_pupils_per_lesson = {pupils}\ndoc_idle_unload_ms = 1000\n\
                 connections_per_address = {connections}\n{extra_config}"
            ),
        )?;
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
                "--sync-listen",
                "127.0.0.1:0",
                "--media-udp-port",
                "0",
                "--no-mdns",
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let pid = child.id().ok_or("tavla exited")?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let (mut https, mut setup, mut sync_address) = (None, None, None);
        while https.is_none() || setup.is_none() || sync_address.is_none() {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await?
                .map_err(|e| e.to_string())?
                .ok_or("tavla stopped before printing its addresses")?;
            if let Some(rest) = line.trim().strip_prefix("https: ") {
                https = Some(rest.trim().to_string());
            }
            if let Some(rest) = line.trim().strip_prefix("boxes: ") {
                sync_address = rest.split_whitespace().next().map(str::to_string);
            }
            if let Some((_, url)) = line.split_once("one-time link): ") {
                setup = Some(url.trim().to_string());
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let https = https.unwrap_or_default();
        let setup = setup.unwrap_or_default();
        let port = https.rsplit(':').next().unwrap_or_default().to_string();
        let base = format!("https://localhost:{port}");
        let ca = std::fs::read(dir.path().join("data/tls/ca.crt"))?;
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
            .build()?;

        let teacher = session(
            http.post(format!("{base}/api/setup"))
                .json(&serde_json::json!({
                    "token": setup.split("token=").nth(1).unwrap_or_default(),
                    "name": "Bench Lærer",
                    "password": "benk benk benk benk",
                })),
        )
        .await?;
        let class: serde_json::Value = http
            .post(format!("{base}/api/classes"))
            .header("cookie", &teacher)
            .json(&serde_json::json!({ "name": "Benk" }))
            .send()
            .await?
            .json()
            .await?;
        let lesson: serde_json::Value = http
            .post(format!("{base}/api/lessons"))
            .header("cookie", &teacher)
            .json(&serde_json::json!({ "class_id": class["id"] }))
            .send()
            .await?
            .json()
            .await?;
        let lesson_id = lesson["id"].as_str().ok_or("no lesson id")?.to_string();
        let code = lesson["code"].as_str().ok_or("no lesson code")?.to_string();
        let mut seats = Vec::with_capacity(layout.clients());
        let mut pupils_ws = Vec::with_capacity(layout.clients());
        for i in 0..layout.clients() {
            let response = http
                .post(format!("{base}/api/join"))
                .json(&serde_json::json!({ "code": code, "name": format!("Elev {i}") }))
                .send()
                .await?;
            let cookie = cookie_of(&response)?;
            let body: serde_json::Value = response.json().await?;
            let doc = match layout {
                Layout::OneDoc(_) => format!("lesson.{lesson_id}.class"),
                Layout::OwnDocs(_) => {
                    format!(
                        "lesson.{lesson_id}.pupil.{}",
                        body["pupil"]["id"].as_str().unwrap_or("")
                    )
                }
            };
            pupils_ws.push(Seat {
                url: format!("wss://localhost:{port}/ws"),
                cookie: Some(cookie.clone()),
            });
            seats.push(Seat {
                url: format!("wss://localhost:{port}/yjs/{doc}"),
                cookie: Some(cookie),
            });
        }
        let server = Server {
            child,
            pid,
            connector: Some(Connector::Rustls(Arc::new(client_tls(&ca)?))),
            https_base: Some(base),
            teacher_ws: Some(Seat {
                url: format!("wss://localhost:{port}/ws?lesson={lesson_id}"),
                cookie: Some(teacher),
            }),
            pupils_ws,
            sync_address,
            class_id: class["id"].as_str().map(str::to_string),
            lesson_code: Some(code),
            http: Some(http),
            _data_dir: Some(dir),
        };
        Ok((server, seats))
    }

    /// Starts `@y/websocket-server` from `node_dir` (its `y-websocket` binary) on a free port.
    pub async fn node(node_dir: &Path, layout: &Layout) -> Result<(Self, Vec<Seat>), BoxError> {
        let script: PathBuf = node_dir.join("node_modules/@y/websocket-server/src/server.js");
        if !script.exists() {
            return Err(format!(
                "{} is missing: run `npm ci` in {}",
                script.display(),
                node_dir.display()
            )
            .into());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = Command::new("node")
            .arg(&script)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .current_dir(node_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting node: {e}"))?;
        let pid = child.id().ok_or("node exited")?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await?
                .map_err(|e| e.to_string())?
                .ok_or("the node server stopped before listening")?;
            if line.contains("running at") {
                break;
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let seats = (0..layout.clients())
            .map(|i| Seat {
                url: match layout {
                    Layout::OneDoc(_) => format!("ws://127.0.0.1:{port}/bench-doc"),
                    Layout::OwnDocs(_) => format!("ws://127.0.0.1:{port}/bench-doc-{i}"),
                },
                cookie: None,
            })
            .collect();
        let server = Server {
            child,
            pid,
            connector: None,
            https_base: None,
            teacher_ws: None,
            pupils_ws: Vec::new(),
            sync_address: None,
            class_id: None,
            lesson_code: None,
            http: None,
            _data_dir: None,
        };
        Ok((server, seats))
    }

    /// A pupil at home joins a running lesson on this box by its `code`: their `/ws`.
    pub async fn join(&self, code: &str, name: &str) -> Result<Seat, BoxError> {
        let (http, base) = (
            self.http.as_ref().ok_or("Tavla only")?,
            self.https_base.as_ref().ok_or("Tavla only")?,
        );
        let response = http
            .post(format!("{base}/api/join"))
            .json(&serde_json::json!({ "code": code, "name": name, "at_home": true }))
            .send()
            .await?;
        Ok(Seat {
            url: format!("{}/ws", base.replace("https://", "wss://")),
            cookie: Some(cookie_of(&response)?),
        })
    }

    /// User plus system CPU seconds the server process has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of stat, 11 and 12 after the name.
        (ticks(11) + ticks(12)) / clock_ticks_per_second()
    }

    /// Resident memory now and at its peak, in MiB.
    pub fn memory_mib(&self) -> (f64, f64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
    }

    /// Tavla's count of documents in memory (`None` for the reference server).
    pub async fn docs_loaded(&self) -> Option<u64> {
        self.metric("tavla_docs_loaded").await
    }

    /// One of Tavla's `/metrics` values (`None` for the reference server).
    pub async fn metric(&self, name: &str) -> Option<u64> {
        let (base, http) = (self.https_base.as_ref()?, self.http.as_ref()?);
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }

    /// Calls Tavla's API as its teacher; the answer's JSON (`null` for none).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, BoxError> {
        let (base, http) = (
            self.https_base.as_ref().ok_or("not Tavla")?,
            self.http.as_ref().ok_or("not Tavla")?,
        );
        let cookie = self
            .teacher_ws
            .as_ref()
            .and_then(|s| s.cookie.clone())
            .unwrap_or_default();
        let mut request = http
            .request(method, format!("{base}{path}"))
            .header("cookie", cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(format!("{path} answered {status}: {text}").into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// The WebSocket URL of a document, with the teacher's cookie.
    pub fn teacher_doc(&self, name: &str) -> Option<Seat> {
        let base = self.https_base.as_ref()?.replace("https://", "wss://");
        Some(Seat {
            url: format!("{base}/yjs/{name}"),
            cookie: self.teacher_ws.as_ref()?.cookie.clone(),
        })
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn session(request: reqwest::RequestBuilder) -> Result<String, BoxError> {
    cookie_of(&request.send().await?)
}

fn cookie_of(response: &reqwest::Response) -> Result<String, BoxError> {
    if !response.status().is_success() {
        return Err(format!("{} answered {}", response.url(), response.status()).into());
    }
    let set = response
        .headers()
        .get("set-cookie")
        .ok_or("no session cookie")?
        .to_str()?;
    Ok(set.split(';').next().unwrap_or_default().to_string())
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn client_tls(ca_pem: &[u8]) -> Result<rustls::ClientConfig, BoxError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert?)?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth())
}
