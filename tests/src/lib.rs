//! Helpers for Tavla's end-to-end tests: a real server on port 0 with a real store in a temp
//! dir, HTTPS clients that trust its CA, and WebSocket clients carrying a session cookie.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tavla::clock::ManualClock;
use tavla::{Config, Running};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

pub use serde_json;

pub mod rtc;

pub const PASSWORD: &str = "riktig hest batteri";

pub struct TestServer {
    pub running: Running,
    pub clock: Arc<ManualClock>,
    pub dir: Arc<TempDir>,
    ca_pem: Vec<u8>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_in(Arc::new(tempfile::tempdir().expect("temp dir")), adjust).await
    }

    /// Starts on an existing data dir (restarts).
    pub async fn start_in(dir: Arc<TempDir>, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_tests(&dir.path().join("data"));
        adjust(&mut config);
        let clock = Arc::new(ManualClock::new());
        let running = tavla::start_with_clock(config.clone(), clock.clone())
            .await
            .expect("server starts");
        // Empty when the server uses a provided certificate instead of its own CA.
        let ca_pem = std::fs::read(config.data_dir.join("tls/ca.crt")).unwrap_or_default();
        Self {
            running,
            clock,
            dir,
            ca_pem,
        }
    }

    /// Shuts down cleanly and gives back the data dir for a restart.
    pub async fn stop(self) -> Arc<TempDir> {
        self.running.shutdown().await;
        self.dir
    }

    /// Stops cleanly and starts again on the same data dir and port, so clients (their
    /// cookies, their base URL) carry on as after a power cut and reboot of the box.
    pub async fn restart(self) -> Self {
        let addr = self.running.https_addr;
        let dir = self.stop().await;
        Self::start_in(dir, |c| c.listen = addr).await
    }

    /// Restarts on the same data dir and signs the teacher `name` (set up with [`PASSWORD`])
    /// in again.
    pub async fn restart_signed_in(self, name: &str) -> (Self, User) {
        let dir = self.stop().await;
        let server = Self::start_in(dir, |_| {}).await;
        let teacher = server.sign_in(name).await;
        (server, teacher)
    }

    /// Signs the teacher `name` (set up with [`PASSWORD`]) in on a new client.
    pub async fn sign_in(&self, name: &str) -> User {
        let teacher = self.client();
        let (status, body) = teacher
            .post("/api/login", json!({ "name": name, "password": PASSWORD }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        teacher
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.running.https_addr.port())
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("wss://localhost:{}{path}", self.running.https_addr.port())
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.running.http_addr.port())
    }

    /// A browser-like client with its own cookie jar.
    pub fn client(&self) -> User {
        self.client_from(None)
    }

    /// A client whose requests come from another loopback address (another device).
    pub fn client_from(&self, address: Option<IpAddr>) -> User {
        User::new(self.running.https_addr.port(), &self.ca_pem, address)
    }

    /// Sets up the first teacher through the printed setup link; returns them signed in.
    pub async fn first_teacher(&self, name: &str) -> User {
        let link = self
            .running
            .setup_url
            .clone()
            .expect("a fresh box prints a setup link");
        self.redeem(link.split("token=").nth(1).expect("token in link"), name)
            .await
    }

    /// Another teacher, invited by `inviter`.
    pub async fn invited_teacher(&self, inviter: &User, name: &str) -> User {
        let (_, invite) = inviter
            .post("/api/teachers/invite", json!({ "name": name }))
            .await;
        let url = invite["url"].as_str().expect("invite url");
        self.redeem(url.split("token=").nth(1).expect("token"), name)
            .await
    }

    /// Uses a setup link's token to create a teacher; returns them signed in.
    async fn redeem(&self, token: &str, name: &str) -> User {
        let teacher = self.client();
        let (status, body) = teacher
            .post(
                "/api/setup",
                json!({ "token": token, "name": name, "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        teacher
    }

    /// `/api/tls` over plain HTTP, as a device that does not trust the box yet asks it.
    pub async fn tls_info(&self) -> Value {
        reqwest::get(self.http_url("/api/tls"))
            .await
            .expect("plain HTTP answers")
            .json()
            .await
            .expect("JSON")
    }
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Clone)]
pub struct User {
    pub http: Client,
    jar: Arc<Jar>,
    server_url: String,
    ws_base: String,
    ca_pem: Vec<u8>,
    /// The loopback address this client's connections come from (another device).
    address: Option<IpAddr>,
    https_port: u16,
}

impl User {
    /// A browser-like client of the server on `https_port` (on localhost) trusting `ca_pem`.
    pub fn new(https_port: u16, ca_pem: &[u8], address: Option<IpAddr>) -> Self {
        let jar = Arc::new(Jar::default());
        let mut builder = Client::builder();
        if !ca_pem.is_empty() {
            builder = builder
                .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).expect("CA PEM"));
        }
        let http = builder
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .local_address(address)
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        User {
            http,
            jar,
            server_url: format!("https://localhost:{https_port}"),
            ws_base: format!("wss://localhost:{https_port}"),
            ca_pem: ca_pem.to_vec(),
            address,
            https_port,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// A GET whose body is a file: status, headers and the raw bytes.
    pub async fn download(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.server_url))
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        (status, headers, body)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// A POST whose body is raw bytes of `content_type` (a file upload).
    pub async fn upload(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.server_url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    pub fn cookie_header(&self) -> Option<HeaderValue> {
        let url = self.server_url.parse().expect("url");
        self.jar
            .cookies(&url)
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
    }

    /// Opens `/ws` (with `?lesson=` for teachers) carrying this user's cookie.
    pub async fn ws(&self, query: &str) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        self.ws_with(query, |_| {}).await
    }

    pub async fn ws_with(
        &self,
        query: &str,
        adjust: impl FnOnce(&mut tokio_tungstenite::tungstenite::handshake::client::Request),
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("{}/ws{query}", self.ws_base).into_client_request()?;
        if let Some(cookie) = self.cookie_header() {
            request.headers_mut().insert("cookie", cookie);
        }
        adjust(&mut request);
        self.open_socket(request).await
    }

    /// Opens a WebSocket from this client's address (its own device), over TLS.
    pub async fn open_socket(
        &self,
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let connector = Connector::Rustls(Arc::new(client_tls(&self.ca_pem)));
        let Some(address) = self.address else {
            let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
                request,
                None,
                false,
                Some(connector),
            )
            .await?;
            return Ok(socket);
        };
        let tcp = tokio::net::TcpSocket::new_v4()?;
        tcp.bind(std::net::SocketAddr::new(address, 0))?;
        let stream = tcp
            .connect(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                self.https_port,
            )))
            .await?;
        let (socket, _) =
            tokio_tungstenite::client_async_tls_with_config(request, stream, None, Some(connector))
                .await?;
        Ok(socket)
    }
}

fn client_tls(ca_pem: &[u8]) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.expect("CA cert")).expect("CA accepted");
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The next JSON text message, skipping pings; panics after 10 s (a hang is a failure).
pub async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("no socket error");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("server sends JSON"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a JSON message, got {other:?}"),
        }
    }
}

/// The next message of the given type, skipping others.
pub async fn next_of_type(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let message = next_json(socket).await;
        if message["type"] == kind {
            return message;
        }
    }
}

/// Reads until the server closes; returns its close frame.
pub async fn close_frame(socket: &mut Socket) -> Option<CloseFrame> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server closes within 10 s");
        match next {
            Some(Ok(Message::Close(frame))) => return frame,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

pub async fn send_text(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.expect("sent");
}

/// A class with a roster, owned by `teacher`. Returns the class JSON.
pub async fn class_with(teacher: &User, name: &str, pupils: &[&str]) -> Value {
    let (status, class) = teacher
        .post("/api/classes", json!({ "name": name, "pupils": pupils }))
        .await;
    assert_eq!(status, StatusCode::OK, "{class}");
    class
}

pub async fn start_lesson(teacher: &User, class_id: &str) -> Value {
    let (status, lesson) = teacher
        .post("/api/lessons", json!({ "class_id": class_id }))
        .await;
    assert_eq!(status, StatusCode::OK, "{lesson}");
    lesson
}

/// The card secrets of a class, by pupil name (from the card sheet's links).
pub async fn card_secrets(teacher: &User, class_id: &str) -> Vec<(String, String)> {
    let (status, sheet) = teacher.get(&format!("/api/classes/{class_id}/cards")).await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    sheet["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .map(|c| {
            let url = c["url"].as_str().expect("url");
            (
                c["name"].as_str().expect("name").to_string(),
                url.split('#')
                    .nth(1)
                    .expect("secret in fragment")
                    .to_string(),
            )
        })
        .collect()
}

/// A pupil on the class list, signed in with their card's secret.
pub async fn card_login(server: &TestServer, secret: &str) -> User {
    let pupil = server.client();
    let (status, body) = pupil
        .post("/api/card-login", json!({ "secret": secret }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    pupil
}

/// The id of the pupil called `name` in a class as the API answers it.
pub fn pupil_id(class: &Value, name: &str) -> String {
    class["pupils"]
        .as_array()
        .expect("a class list")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} on the class list"))["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

/// A guest pupil who joined with the code.
pub async fn guest(server: &TestServer, code: &str, name: &str) -> User {
    guest_from(server, code, name, None).await
}

/// A guest who joined with the code from another loopback address (another device).
pub async fn guest_from(
    server: &TestServer,
    code: &str,
    name: &str,
    address: Option<IpAddr>,
) -> User {
    let pupil = server.client_from(address);
    let (status, body) = pupil
        .post("/api/join", json!({ "code": code, "name": name }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    pupil
}

/// The name of a pupil's own document, from their `/api/docs` list.
pub async fn own_doc(user: &User) -> String {
    let (_, list) = user.get("/api/docs").await;
    list["docs"]
        .as_array()
        .expect("a list of documents")
        .iter()
        .find(|d| d["kind"] == "personal")
        .expect("the pupil's own document")["name"]
        .as_str()
        .expect("a document name")
        .to_string()
}

/// The files of a test server's store (under `<dir>/data/store*`) whose raw bytes hold
/// `needle`: what a deletion must leave none of.
pub fn store_files_holding(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join("data"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("store"))
        })
        .collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        } else if std::fs::read(&path)
            .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
        {
            found.push(path);
        }
    }
    found
}

/// A y-protocols client on a yrs document, as y-websocket would behave.
pub mod yjs {
    use super::*;
    use yrs::encoding::read::Cursor;
    use yrs::sync::protocol::MessageReader;
    use yrs::sync::{Message as YMessage, SyncMessage};
    use yrs::types::xml::{XmlElementPrelim, XmlTextPrelim};
    use yrs::updates::decoder::{Decode, DecoderV1};
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, OffsetKind, Options, ReadTxn, Text, Transact, Update, XmlFragment};

    pub struct DocClient {
        pub doc: Doc,
        pub socket: Socket,
        synced: bool,
        /// Sync update messages received (each may carry several people's edits).
        pub updates_received: usize,
    }

    pub type WsError = tokio_tungstenite::tungstenite::Error;

    impl DocClient {
        /// Connects to `/yjs/<name>` and completes the sync handshake.
        pub async fn connect(user: &User, name: &str) -> Result<Self, WsError> {
            let mut request = format!("{}/yjs/{name}", user.ws_base).into_client_request()?;
            if let Some(cookie) = user.cookie_header() {
                request.headers_mut().insert("cookie", cookie);
            }
            let socket = user.open_socket(request).await?;
            let doc = Doc::with_options(Options {
                offset_kind: OffsetKind::Utf16,
                ..Options::default()
            });
            let mut client = Self {
                doc,
                socket,
                synced: false,
                updates_received: 0,
            };
            let step1 =
                YMessage::Sync(SyncMessage::SyncStep1(client.doc.transact().state_vector()))
                    .encode_v1();
            client.send(step1).await?;
            while !client.synced {
                client.next_frame().await?;
            }
            Ok(client)
        }

        pub async fn send(&mut self, frame: Vec<u8>) -> Result<(), WsError> {
            self.socket.send(Message::Binary(frame.into())).await
        }

        /// Types `text` at the end of the shared text `t` and sends the update.
        pub async fn append(&mut self, text: &str) -> Result<(), WsError> {
            let before = self.doc.transact().state_vector();
            {
                let t = self.doc.get_or_insert_text("t");
                let mut txn = self.doc.transact_mut();
                let len = t.len(&txn);
                t.insert(&mut txn, len, text);
            }
            let update = self.doc.transact().encode_state_as_update_v1(&before);
            self.send(YMessage::Sync(SyncMessage::Update(update)).encode_v1())
                .await
        }

        /// Adds a paragraph to the rich text, as the web client's editor (y-prosemirror) would.
        pub async fn write_paragraph(&mut self, text: &str) -> Result<(), WsError> {
            let before = self.doc.transact().state_vector();
            {
                let fragment = self.doc.get_or_insert_xml_fragment("prosemirror");
                let mut txn = self.doc.transact_mut();
                let paragraph = fragment.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
                paragraph.push_back(&mut txn, XmlTextPrelim::new(text));
            }
            let update = self.doc.transact().encode_state_as_update_v1(&before);
            self.send(YMessage::Sync(SyncMessage::Update(update)).encode_v1())
                .await
        }

        pub fn text(&self) -> String {
            let t = self.doc.get_or_insert_text("t");
            t.get_string(&self.doc.transact())
        }

        /// Reads frames until the text satisfies `done`; 10 s at most.
        pub async fn until(&mut self, done: impl Fn(&str) -> bool) -> Result<String, WsError> {
            while !done(&self.text()) {
                self.next_frame().await?;
            }
            Ok(self.text())
        }

        /// The rich text (the editor's XML fragment) as XML.
        pub fn rich_text(&self) -> String {
            let fragment = self.doc.get_or_insert_xml_fragment("prosemirror");
            fragment.get_string(&self.doc.transact())
        }

        /// Reads frames until the rich text contains `needle`.
        pub async fn until_rich(&mut self, needle: &str) -> Result<(), WsError> {
            while !self.rich_text().contains(needle) {
                self.next_frame().await?;
            }
            Ok(())
        }

        /// Skips frames until an awareness frame arrives (10 s at most); returns it as text,
        /// unapplied, so tests can count frames and look at the states sent.
        pub async fn next_awareness_frame(&mut self) -> String {
            loop {
                let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                    .await
                    .expect("awareness within 10 s")
                    .expect("the connection stays open")
                    .expect("a frame");
                if let Message::Binary(bytes) = message {
                    if bytes.first() == Some(&1) {
                        return String::from_utf8_lossy(&bytes).into_owned();
                    }
                }
            }
        }

        /// Handles the next frame from the server. A close frame becomes an error carrying it.
        pub async fn next_frame(&mut self) -> Result<(), WsError> {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a frame within 10 s")
                .ok_or(WsError::ConnectionClosed)??;
            let bytes = match message {
                Message::Binary(bytes) => bytes,
                Message::Close(_) => return Err(WsError::ConnectionClosed),
                _ => return Ok(()),
            };
            let mut decoder = DecoderV1::new(Cursor::new(&bytes));
            let messages: Vec<YMessage> = MessageReader::new(&mut decoder)
                .collect::<Result<_, _>>()
                .expect("server frames decode");
            for message in messages {
                match message {
                    YMessage::Sync(SyncMessage::SyncStep1(sv)) => {
                        let reply = self.doc.transact().encode_state_as_update_v1(&sv);
                        self.send(YMessage::Sync(SyncMessage::SyncStep2(reply)).encode_v1())
                            .await?;
                    }
                    YMessage::Sync(SyncMessage::SyncStep2(update)) => {
                        self.apply(&update);
                        self.synced = true;
                    }
                    YMessage::Sync(SyncMessage::Update(update)) => {
                        self.updates_received += 1;
                        self.apply(&update);
                    }
                    _ => {}
                }
            }
            Ok(())
        }

        fn apply(&self, update: &[u8]) {
            let update = Update::decode_v1(update).expect("server updates decode");
            self.doc
                .transact_mut()
                .apply_update(update)
                .expect("server updates apply");
        }

        /// Appends `text` and waits for the box's answer to a sync asked right after it: frames
        /// are handled in order, so that answer means the edit was taken. `Err` with the close
        /// code when the box refused it instead.
        pub async fn append_taken(&mut self, text: &str) -> Result<(), Option<u16>> {
            self.append(text).await.map_err(|_| None)?;
            self.synced = false;
            let step1 = YMessage::Sync(SyncMessage::SyncStep1(self.doc.transact().state_vector()))
                .encode_v1();
            self.send(step1).await.map_err(|_| None)?;
            loop {
                let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                    .await
                    .expect("an answer within 10 s");
                match message {
                    Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
                    Some(Ok(Message::Binary(bytes))) => {
                        // Step 2 is message 0, sync type 1.
                        if bytes.starts_with(&[0, 1]) {
                            return Ok(());
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Err(None),
                }
            }
        }

        /// Reads until the server closes the connection; returns the close code.
        pub async fn closed_with(mut self) -> Option<u16> {
            close_frame(&mut self.socket)
                .await
                .map(|f| u16::from(f.code))
        }
    }
}

/// A `/ws` connection that keeps every JSON message it received, for requests that must be
/// answered or refused and for checking afterwards what a client was (never) sent.
pub struct Live {
    pub socket: Socket,
    pub received: Vec<Value>,
    next_ping: u64,
}

impl Live {
    /// Connects (`query` is `?lesson=…` for teachers) and reads the welcome.
    pub async fn open(user: &User, query: &str) -> Self {
        let socket = user.ws(query).await.expect("socket opens");
        let mut live = Live {
            socket,
            received: Vec::new(),
            next_ping: 1,
        };
        live.until_type("welcome").await;
        live
    }

    /// Connects and syncs after `after`, or `None` if the server is not (or no longer) there.
    pub async fn try_open(user: &User, query: &str, after: u64) -> Option<Self> {
        let socket = user.ws(query).await.ok()?;
        let mut live = Live {
            socket,
            received: Vec::new(),
            next_ping: 1,
        };
        loop {
            if live.try_next().await?["type"] == "welcome" {
                break;
            }
        }
        live.send(json!({ "type": "sync", "after": after })).await;
        loop {
            if live.try_next().await?["type"] == "synced" {
                return Some(live);
            }
        }
    }

    /// The next JSON message, or `None` once the socket is closed; panics after 10 s.
    pub async fn try_next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message within 10 s");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("server sends JSON");
                    self.received.push(value.clone());
                    return Some(value);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(other)) => panic!("expected a JSON message, got {other:?}"),
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.try_next().await.expect("socket open")
    }

    /// The thread of the given role (`private`, `announcements`, …) from the last `threads`.
    pub fn thread(&self, role: &str) -> String {
        self.received
            .iter()
            .rev()
            .find(|m| m["type"] == "threads")
            .and_then(|m| m[role].as_str())
            .expect("a threads message naming it")
            .to_string()
    }

    /// Like [`Live::request`], but `None` when the connection ends before the answer.
    pub async fn try_request(&mut self, request: Value) -> Option<Vec<Value>> {
        let id = self.next_ping;
        self.next_ping += 1;
        let sent = self
            .socket
            .send(Message::Text(request.to_string().into()))
            .await;
        let ping = json!({ "type": "ping", "id": id }).to_string();
        if sent.is_err() || self.socket.send(Message::Text(ping.into())).await.is_err() {
            return None;
        }
        let mut answer = Vec::new();
        loop {
            let message = self.try_next().await?;
            if message["type"] == "pong" && message["id"] == id {
                return Some(answer);
            }
            answer.push(message);
        }
    }

    pub async fn until(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.next().await;
            if done(&message) {
                return message;
            }
        }
    }

    pub async fn until_type(&mut self, kind: &str) -> Value {
        self.until(|m| m["type"] == kind).await
    }

    pub async fn send(&mut self, request: Value) {
        send_text(&mut self.socket, &request.to_string()).await;
    }

    /// Asks for history after `after`; returns everything up to and including `synced`.
    pub async fn sync(&mut self, after: u64) -> Vec<Value> {
        self.send(json!({ "type": "sync", "after": after })).await;
        let start = self.received.len();
        self.until_type("synced").await;
        self.received[start..].to_vec()
    }

    /// Sends a request, then a ping; everything before the pong is the request's answer.
    /// `Err(code)` when it was refused.
    pub async fn request(&mut self, request: Value) -> Result<Vec<Value>, String> {
        let id = self.next_ping;
        self.next_ping += 1;
        self.send(request).await;
        self.send(json!({ "type": "ping", "id": id })).await;
        let start = self.received.len();
        self.until(|m| m["type"] == "pong" && m["id"] == id).await;
        let answer = self.received[start..].to_vec();
        match answer.iter().find(|m| m["type"] == "refused") {
            Some(refusal) => Err(refusal["code"].as_str().unwrap_or("?").to_string()),
            None => Ok(answer),
        }
    }

    /// Reads (and keeps) messages until the server closes; returns the close code.
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("the server closes within 10 s");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("server sends JSON");
                    self.received.push(value);
                }
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Whether any message received so far mentions `needle` anywhere.
    pub fn ever_saw(&self, needle: &str) -> bool {
        self.received.iter().any(|m| m.to_string().contains(needle))
    }
}
