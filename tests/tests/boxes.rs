//! Paired boxes: pairing by code on both sides, mutual TLS that refuses unpaired boxes in the
//! handshake, a shared class's records, documents and messages crossing (both ways when both
//! share), unpairing that stops it at once, catching up after a restart, and deletions that
//! reach the paired box. Two real servers on loopback; the two-network test with a link taken
//! down is `tests/js/boxes.test.js`.

use std::future::Future;
use std::time::Duration;

use reqwest::StatusCode;
use tavla::service::boxes::federation::client;
use tavla::service::boxes::federation::identity::BoxIdentity;
use tavla::service::boxes::federation::trust::Trust;
use tavla::service::boxes::federation::FederationError;
use tavla_e2e::serde_json;
use tavla_e2e::serde_json::{json, Value};
use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;

fn s(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// Waits for `check` to hold, looking again after every short pause; fails after a minute (a
/// hang guard, not a timing assertion).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

fn sync_port(server: &TestServer) -> u16 {
    server.running.state.services.boxes.port()
}

/// Pairs `b` with `a`: a's teacher makes a code, b's teacher enters it (and a's fingerprint).
/// Returns a's box id as b knows it, and b's as a knows it.
async fn pair(a: &TestServer, a_teacher: &User, b_teacher: &User) -> (String, String) {
    let (status, code) = a_teacher.post("/api/boxes/pairing", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{code}");
    let (status, paired) = b_teacher
        .post(
            "/api/boxes/paired",
            json!({
                "address": format!("127.0.0.1:{}", sync_port(a)),
                "code": code["code"],
                "fingerprint": code["fingerprint"],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paired}");
    let (_, overview) = a_teacher.get("/api/boxes/paired").await;
    let b_on_a = overview["paired"][0]["box_id"].clone();
    assert!(b_on_a.is_string(), "{overview}");
    assert_eq!(paired["box_id"], a_overview_id(a_teacher).await);
    (s(&paired["box_id"]), s(&b_on_a))
}

async fn a_overview_id(teacher: &User) -> Value {
    teacher.get("/api/boxes/paired").await.1["box_id"].clone()
}

async fn share(teacher: &User, box_id: &str, classes: &[&str]) {
    let (status, body) = teacher
        .put(
            &format!("/api/boxes/paired/{box_id}/shares"),
            json!({ "classes": classes }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn class_names(teacher: &User) -> Vec<String> {
    let (_, list) = teacher.get("/api/classes").await;
    list["classes"]
        .as_array()
        .map(|c| c.iter().map(|c| s(&c["name"])).collect())
        .unwrap_or_default()
}

/// A document's text as its plain-text export, if the teacher can open it there.
async fn doc_text(teacher: &User, doc: &str) -> Option<String> {
    let (status, _, body) = teacher
        .download(&format!("/api/docs/{doc}/export?format=txt"))
        .await;
    (status == StatusCode::OK).then(|| String::from_utf8_lossy(&body).into_owned())
}

/// Two boxes, a teacher on each, a class "7B" with Ada and Bo on the first and a lesson running.
struct Two {
    a: TestServer,
    b: TestServer,
    kari: User,
    nils: User,
    class_id: String,
    lesson_id: String,
    class: Value,
}

async fn two_boxes() -> Two {
    two_boxes_asking_every(200).await
}

/// Two boxes that ask each other every `ms` (besides when told to).
async fn two_boxes_asking_every(ms: u64) -> Two {
    let a = TestServer::start_with(|c| {
        c.host_name = Some("rom-101".into());
        c.boxes.sync_every_ms = ms;
    })
    .await;
    let b = TestServer::start_with(|c| {
        c.host_name = Some("rom-102".into());
        c.boxes.sync_every_ms = ms;
    })
    .await;
    let kari = a.first_teacher("Kari").await;
    let nils = b.first_teacher("Nils").await;
    let class = class_with(&kari, "7B", &["Adalheid", "Bodvar"]).await;
    let class_id = s(&class["id"]);
    let lesson = start_lesson(&kari, &class_id).await;
    Two {
        a,
        b,
        kari,
        nils,
        lesson_id: s(&lesson["id"]),
        class_id,
        class,
    }
}

#[tokio::test]
async fn a_shared_class_crosses_with_its_documents_and_messages_both_ways() {
    let t = two_boxes().await;
    let class_doc = format!("lesson.{}.class", t.lesson_id);
    let mut on_a = DocClient::connect(&t.kari, &class_doc)
        .await
        .expect("doc on a");
    on_a.write_paragraph("Skrevet i rom 101. ")
        .await
        .expect("typed");
    let ada = pupil_id(&t.class, "Adalheid");
    let thread = format!("pm.c.{}.{ada}", t.class_id);
    let mut kari_live = Live::open(&t.kari, &format!("?lesson={}", t.lesson_id)).await;
    kari_live.sync(0).await;
    kari_live
        .request(json!({ "type": "send", "client_id": "k1", "thread": thread, "text": "Hei Ada" }))
        .await
        .expect("sent on a");

    // Groups: their documents cross with their records.
    let (status, groups) = t
        .kari
        .post(
            &format!("/api/lessons/{}/groups/random", t.lesson_id),
            json!({ "size": 2, "present_only": false }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{groups}");
    let group_doc = s(&groups["groups"][0]["doc"]);
    let mut group_on_a = DocClient::connect(&t.kari, &group_doc)
        .await
        .expect("group doc");
    group_on_a
        .write_paragraph("Gruppearbeid i rom 101.")
        .await
        .expect("typed");

    let (a_on_b, b_on_a) = pair(&t.a, &t.kari, &t.nils).await;
    // Paired, but nothing is shared yet: nothing crosses.
    assert!(class_names(&t.nils).await.is_empty());
    share(&t.kari, &b_on_a, &[&t.class_id]).await;
    eventually("the class arrives on b", || async {
        class_names(&t.nils).await == ["7B"]
    })
    .await;
    eventually("the class document arrives on b", || async {
        doc_text(&t.nils, &class_doc)
            .await
            .is_some_and(|text| text.contains("rom 101"))
    })
    .await;

    eventually("the group document arrives on b", || async {
        doc_text(&t.nils, &group_doc)
            .await
            .is_some_and(|text| text.contains("Gruppearbeid"))
    })
    .await;

    // b's teacher shares her copy back; her edits and messages reach a.
    share(&t.nils, &a_on_b, &[&t.class_id]).await;
    let mut on_b = DocClient::connect(&t.nils, &class_doc)
        .await
        .expect("doc on b");
    on_b.write_paragraph("Og i rom 102.").await.expect("typed");
    on_a.until_rich("rom 102")
        .await
        .expect("a sees b's edit live");
    let mut nils_live = Live::open(&t.nils, &format!("?lesson={}", t.lesson_id)).await;
    nils_live
        .request(
            json!({ "type": "send", "client_id": "n1", "thread": thread, "text": "Hei fra 102" }),
        )
        .await
        .expect("sent on b");
    kari_live
        .until(|m| m["type"] == "message" && m["message"]["text"] == "Hei fra 102")
        .await;
    let texts = |history: Vec<Value>| -> Vec<String> {
        history
            .iter()
            .filter(|m| m["type"] == "message")
            .map(|m| s(&m["message"]["text"]))
            .collect()
    };
    // Each message once on each box, in the order written.
    eventually("b has both messages", || async {
        let mut again = Live::open(&t.nils, &format!("?lesson={}", t.lesson_id)).await;
        texts(again.sync(0).await) == ["Hei Ada", "Hei fra 102"]
    })
    .await;
    let mut again = Live::open(&t.kari, &format!("?lesson={}", t.lesson_id)).await;
    assert_eq!(texts(again.sync(0).await), ["Hei Ada", "Hei fra 102"]);
    // Ada's card works on b too.
    let cards = card_secrets(&t.kari, &t.class_id).await;
    let (status, _) =
        t.b.client()
            .post("/api/card-login", json!({ "secret": cards[0].1 }))
            .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_box_that_is_not_paired_is_refused_in_the_handshake() {
    let t = two_boxes().await;
    let stranger_dir = tempfile::tempdir().expect("dir");
    let stranger = BoxIdentity::load_or_create(stranger_dir.path(), "fremmed").expect("identity");
    let trust = Trust::new([]);
    let address = format!("127.0.0.1:{}", sync_port(&t.a));
    let ask = |path: &'static str| {
        let config = trust.client_config(&stranger, None).expect("config");
        let address = address.clone();
        async move { client::request(config, &address, hyper::Method::GET, path, None, 1 << 20).await }
    };
    let refused_before = t.a.running.state.services.boxes.trust.refused_handshakes();
    match ask("/sync/classes").await {
        Err(FederationError::Refused(_)) | Err(FederationError::Unreachable(_)) => {}
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(answer) => panic!("an unpaired box got an answer: {}", answer.status),
    }
    assert!(t.a.running.state.services.boxes.trust.refused_handshakes() > refused_before);

    // While a pairing code is open the handshake passes, but only pairing is possible, and
    // only with the code.
    let (_, code) = t.kari.post("/api/boxes/pairing", json!({})).await;
    let answer = ask("/sync/classes").await.expect("handshake while pairing");
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let config = trust.client_config(&stranger, None).expect("config");
    let wrong = client::request(
        config,
        &address,
        hyper::Method::POST,
        "/pair",
        Some(
            json!({ "name": "fremmed", "port": 9, "proof": "00" })
                .to_string()
                .into_bytes(),
        ),
        1 << 20,
    )
    .await
    .expect("an answer");
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let refusal: Value = serde_json::from_slice(&wrong.body).expect("json");
    assert_eq!(refusal["error"]["code"], "pairing_refused");
    // The code itself still pairs the right box.
    let (status, body) = t
        .nils
        .post(
            "/api/boxes/paired",
            json!({ "address": address, "code": code["code"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Used once, it is gone.
    let (status, body) = t
        .nils
        .post(
            "/api/boxes/paired",
            json!({ "address": address, "code": code["code"] }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "pairing_refused");
}

/// The class document open on a with `first` written in it, the boxes paired, the class shared
/// with b, and `first` arrived there. Returns the open document, its name and the box ids (a's
/// on b, b's on a).
async fn shared_document(t: &Two, first: &str) -> (DocClient, String, String, String) {
    let class_doc = format!("lesson.{}.class", t.lesson_id);
    let mut on_a = DocClient::connect(&t.kari, &class_doc).await.expect("doc");
    on_a.write_paragraph(first).await.expect("typed");
    let (a_on_b, b_on_a) = pair(&t.a, &t.kari, &t.nils).await;
    share(&t.kari, &b_on_a, &[&t.class_id]).await;
    eventually("the document arrives", || async {
        doc_text(&t.nils, &class_doc)
            .await
            .is_some_and(|text| text.contains(first.trim()))
    })
    .await;
    (on_a, class_doc, a_on_b, b_on_a)
}

#[tokio::test]
async fn after_unpairing_a_new_edit_does_not_cross() {
    let t = two_boxes().await;
    let (mut on_a, class_doc, a_on_b, b_on_a) = shared_document(&t, "Før. ").await;

    let (status, _) = t.kari.delete(&format!("/api/boxes/paired/{b_on_a}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    on_a.write_paragraph("Etter.").await.expect("typed");
    // b keeps asking and is refused in the handshake; wait for two refusals after the edit.
    let trust = &t.a.running.state.services.boxes.trust;
    let refused = trust.refused_handshakes();
    eventually("b is refused twice", || async {
        trust.refused_handshakes() >= refused + 2
    })
    .await;
    let text = doc_text(&t.nils, &class_doc).await.expect("still there");
    assert!(text.contains("Før") && !text.contains("Etter"), "{text}");
    // b's teacher sees why.
    eventually("b's page says it was refused", || async {
        let (_, overview) = t.nils.get("/api/boxes/paired").await;
        overview["paired"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["box_id"] == a_on_b.as_str()))
            .is_some_and(|p| p["last_error"] == "refused")
    })
    .await;
    // a lists no paired box; a second unpair finds nothing.
    let (_, overview) = t.kari.get("/api/boxes/paired").await;
    assert_eq!(overview["paired"], json!([]));
    let (status, _) = t.kari.delete(&format!("/api/boxes/paired/{b_on_a}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_box_that_was_stopped_catches_up_after_it_starts() {
    let t = two_boxes().await;
    let (mut on_a, class_doc, _, _) = shared_document(&t, "Mandag. ").await;
    let b_dir = t.b.stop().await;
    on_a.write_paragraph("Tirsdag, mens rom 102 var av.")
        .await
        .expect("typed");
    let b = TestServer::start_in(b_dir, |c| c.host_name = Some("rom-102".into())).await;
    let nils = b.sign_in("Nils").await;
    eventually("tuesday arrives after the restart", || async {
        doc_text(&nils, &class_doc)
            .await
            .is_some_and(|t| t.contains("Mandag") && t.contains("Tirsdag"))
    })
    .await;
}

#[tokio::test]
async fn deleting_a_pupil_or_a_class_reaches_the_paired_box() {
    let t = two_boxes().await;
    let (_, b_on_a) = pair(&t.a, &t.kari, &t.nils).await;
    share(&t.kari, &b_on_a, &[&t.class_id]).await;
    let roster_on_b = || async {
        let (_, class) = t.nils.get(&format!("/api/classes/{}", t.class_id)).await;
        class["pupils"]
            .as_array()
            .map(|p| p.iter().map(|p| s(&p["name"])).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    eventually("the class list arrives", || async {
        roster_on_b().await == ["Adalheid", "Bodvar"]
    })
    .await;
    let ada = pupil_id(&t.class, "Adalheid");
    let (status, body) = t
        .kari
        .delete(&format!("/api/classes/{}/pupils/{ada}", t.class_id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually("Ada is deleted on b too", || async {
        roster_on_b().await == ["Bodvar"]
    })
    .await;
    assert!(store_files_holding(&t.b.dir.path().join("data"), "Adalheid").is_empty());
    // The whole class deleted where it came from is deleted on the box that took it.
    let (status, body) = t.kari.delete(&format!("/api/classes/{}", t.class_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually("the class is deleted on b too", || async {
        class_names(&t.nils).await.is_empty()
    })
    .await;
    assert!(store_files_holding(&t.b.dir.path().join("data"), "Bodvar").is_empty());
}

#[tokio::test]
async fn pairing_refuses_bad_and_unauthorized_input() {
    let t = two_boxes().await;
    let address = format!("127.0.0.1:{}", sync_port(&t.a));
    // Nobody and pupils may not pair or look.
    let nobody = t.a.client();
    assert_eq!(
        nobody.post("/api/boxes/pairing", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        nobody.get("/api/boxes/paired").await.0,
        StatusCode::UNAUTHORIZED
    );
    let cards = card_secrets(&t.kari, &t.class_id).await;
    let ada = card_login(&t.a, &cards[0].1).await;
    assert_eq!(
        ada.post("/api/boxes/pairing", json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ada.post(
            "/api/boxes/paired",
            json!({ "address": address, "code": "ABCDE-FGHJK" })
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // Malformed, mistyped and oversized bodies.
    for (body, code) in [
        (
            json!({ "address": "https://x/y", "code": "ABCDE-FGHJK" }),
            "invalid_input",
        ),
        (
            json!({ "address": address, "code": "KORT" }),
            "invalid_input",
        ),
        (
            json!({ "address": address, "code": "ABCDE-FGHJK", "fingerprint": "ab" }),
            "invalid_input",
        ),
        (
            json!({ "address": address, "code": "ABCDE-FGHJK", "extra": 1 }),
            "malformed_json",
        ),
        (
            json!({ "address": "x".repeat(100_000), "code": "ABCDE-FGHJK" }),
            "too_large",
        ),
    ] {
        let (_, answer) = t.nils.post("/api/boxes/paired", body).await;
        assert_eq!(answer["error"]["code"], code, "{answer}");
    }
    // No code open there: refused; nobody listening: unreachable.
    let (status, answer) = t
        .nils
        .post(
            "/api/boxes/paired",
            json!({ "address": address, "code": "ABCDE-FGHJK" }),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (StatusCode::BAD_GATEWAY, &json!("box_unreachable")),
        "{answer}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (status, answer) = t
        .nils
        .post(
            "/api/boxes/paired",
            json!({ "address": format!("127.0.0.1:{port}"), "code": "ABCDE-FGHJK" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    // A wrong fingerprint fails in the handshake, before the code is shown to anyone.
    let (_, code) = t.kari.post("/api/boxes/pairing", json!({})).await;
    let (status, answer) = t
        .nils
        .post(
            "/api/boxes/paired",
            json!({ "address": address, "code": code["code"], "fingerprint": "ab".repeat(32) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    // Shares: unknown box, another teacher's class, a bad class id.
    let (_, b_on_a) = pair(&t.a, &t.kari, &t.nils).await;
    let per = t.a.invited_teacher(&t.kari, "Per").await;
    assert_eq!(
        per.put(
            &format!("/api/boxes/paired/{b_on_a}/shares"),
            json!({ "classes": [t.class_id] })
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.kari
            .put(
                "/api/boxes/paired/0000000000000000/shares",
                json!({ "classes": [] })
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, answer) = t
        .kari
        .put(
            &format!("/api/boxes/paired/{b_on_a}/shares"),
            json!({ "classes": ["../x"] }),
        )
        .await;
    assert_eq!(answer["error"]["code"], "malformed_json", "{answer}");
}

/// A box of the test's own called `name`: its identity (kept in the returned dir) and the TLS
/// configuration it talks to other boxes with.
fn test_box(
    name: &str,
) -> (
    tempfile::TempDir,
    BoxIdentity,
    std::sync::Arc<rustls::ClientConfig>,
) {
    let dir = tempfile::tempdir().expect("dir");
    let identity = BoxIdentity::load_or_create(dir.path(), name).expect("identity");
    let config = Trust::new([])
        .client_config(&identity, None)
        .expect("config");
    (dir, identity, config)
}

/// `identity` asks `a` to pair, proving `code`; the status `a` answers.
async fn offer_pairing(
    t: &Two,
    identity: &BoxIdentity,
    config: std::sync::Arc<rustls::ClientConfig>,
    code: &str,
) -> StatusCode {
    let own = identity.fingerprint().clone();
    let answer = client::request_with(
        config,
        &format!("127.0.0.1:{}", sync_port(&t.a)),
        hyper::Method::POST,
        "/pair",
        1 << 20,
        |peer| {
            let peer = peer.expect("a shows its certificate");
            let proof = tavla::service::boxes::federation::trust::proof(code, "client", &own, peer);
            Some(
                json!({ "name": "testboks", "port": 9, "proof": proof })
                    .to_string()
                    .into_bytes(),
            )
        },
    )
    .await
    .expect("an answer");
    answer.status
}

/// A box of the test's own, paired with `a` through the real pairing request: its identity and
/// the TLS configuration it talks to `a` with.
async fn paired_stranger(t: &Two) -> (tempfile::TempDir, std::sync::Arc<rustls::ClientConfig>) {
    let (dir, identity, config) = test_box("testboks");
    let (_, code) = t.kari.post("/api/boxes/pairing", json!({})).await;
    let status = offer_pairing(t, &identity, config.clone(), &s(&code["code"])).await;
    assert_eq!(status, StatusCode::OK);
    (dir, config)
}

#[tokio::test]
async fn the_sync_listener_refuses_bad_input_from_a_paired_box_and_goes_on() {
    let t = two_boxes().await;
    let (_dir, config) = paired_stranger(&t).await;
    let address = format!("127.0.0.1:{}", sync_port(&t.a));
    let ask = |method: hyper::Method, path: &str, body: Option<Vec<u8>>| {
        let (config, address, path) = (config.clone(), address.clone(), path.to_string());
        async move {
            let answer = client::request(config, &address, method, &path, body, 1 << 24)
                .await
                .expect("an answer");
            let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
            (answer.status, body)
        }
    };
    let post = hyper::Method::POST;
    let get = hyper::Method::GET;
    for (method, path, body, status, code) in [
        (
            post.clone(),
            "/sync/docs",
            Some(b"{not json".to_vec()),
            400,
            "malformed_json",
        ),
        (
            post.clone(),
            "/sync/docs",
            Some(br#"{"docs": [], "x": 1}"#.to_vec()),
            400,
            "malformed_json",
        ),
        (
            post.clone(),
            "/sync/docs",
            Some(
                json!({ "docs": [{ "name": "lesson.x.class", "state_vector": "***" }] })
                    .to_string()
                    .into_bytes(),
            ),
            400,
            "malformed_json",
        ),
        (
            post.clone(),
            "/sync/docs",
            Some(vec![b' '; 2 << 20]),
            413,
            "too_large",
        ),
        (
            get.clone(),
            "/sync/messages?after=-1",
            None,
            400,
            "invalid_input",
        ),
        (get.clone(), "/sync/messages", None, 400, "invalid_input"),
        (get.clone(), "/sync/nothing", None, 404, "not_found"),
        (
            post.clone(),
            "/pair",
            Some(
                json!({ "name": "x", "port": 9, "proof": "00" })
                    .to_string()
                    .into_bytes(),
            ),
            403,
            "pairing_refused",
        ),
    ] {
        let (got, answer) = ask(method, path, body).await;
        assert_eq!(
            (got.as_u16(), &answer["error"]["code"]),
            (status, &json!(code)),
            "{path}: {answer}"
        );
    }
    // Too many documents at once, and a state vector that is not one.
    let many: Vec<Value> = (0..65)
        .map(|i| json!({ "name": format!("lesson.l{i}.class"), "state_vector": "" }))
        .collect();
    let (got, _) = ask(
        post.clone(),
        "/sync/docs",
        Some(json!({ "docs": many }).to_string().into_bytes()),
    )
    .await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    // Nothing is shared with it: it learns nothing, and asking for a document gets nothing.
    let (got, manifest) = ask(get.clone(), "/sync/classes", None).await;
    assert_eq!((got, &manifest["classes"]), (StatusCode::OK, &json!([])));
    let name = format!("lesson.{}.class", t.lesson_id);
    let one_doc = |state_vector: &str| {
        Some(
            json!({ "docs": [{ "name": name, "state_vector": state_vector }] })
                .to_string()
                .into_bytes(),
        )
    };
    let (got, docs) = ask(post.clone(), "/sync/docs", one_doc("AA==")).await;
    assert_eq!((got, &docs["docs"]), (StatusCode::OK, &json!([])));
    // Shared, a state vector that does not decode is a clear error, and the box goes on.
    let (_, overview) = t.kari.get("/api/boxes/paired").await;
    let stranger = s(&overview["paired"][0]["box_id"]);
    share(&t.kari, &stranger, &[&t.class_id]).await;
    let (got, answer) = ask(post.clone(), "/sync/docs", one_doc("//8=")).await;
    assert_eq!(
        (got, &answer["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_input")),
        "{answer}"
    );
    let (got, manifest) = ask(get, "/sync/classes", None).await;
    assert_eq!(got, StatusCode::OK);
    assert_eq!(manifest["classes"][0]["class"]["name"], "7B");
}

#[tokio::test]
async fn a_class_shared_shows_on_the_other_box_at_once_not_at_its_next_round() {
    // Rounds every ten minutes: only being told can bring the class over within the test.
    let t = two_boxes_asking_every(600_000).await;
    let (_, b_on_a) = pair(&t.a, &t.kari, &t.nils).await;
    share(&t.kari, &b_on_a, &[&t.class_id]).await;
    eventually(
        "the class arrives on b without waiting for its round",
        || async { class_names(&t.nils).await == ["7B"] },
    )
    .await;
}

/// Opens the relay of `lesson_id` on `t.a` as the paired stranger.
async fn open_relay(
    t: &Two,
    config: &std::sync::Arc<rustls::ClientConfig>,
    lesson_id: &str,
) -> Result<client::Socket, FederationError> {
    client::open_socket(
        config.clone(),
        &format!("127.0.0.1:{}", sync_port(&t.a)),
        &format!("/sync/relay?lesson={lesson_id}"),
        1 << 20,
    )
    .await
}

/// The next text message on a relay, or the close code it ended with.
async fn next_on(socket: &mut client::Socket) -> Result<Value, Option<u16>> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("the relay says something within 30 s (a hang guard)");
        match next {
            Some(Ok(Message::Text(text))) => {
                return Ok(serde_json::from_str(text.as_str()).expect("JSON"))
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Err(None),
        }
    }
}

async fn say(socket: &mut client::Socket, text: &str) {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            text.to_string(),
        ))
        .await
        .expect("sent");
}

fn refused_with(status: u16) -> impl Fn(&FederationError) -> bool {
    move |e| matches!(e, FederationError::Refused(why) if why.contains(&status.to_string()))
}

#[tokio::test]
async fn a_lessons_stream_is_relayed_only_while_its_class_is_shared_and_the_lesson_runs() {
    let t = two_boxes().await;
    let (_dir, config) = paired_stranger(&t).await;
    // Not shared: a lesson of the class is not told apart from no lesson; bad ids are bad input.
    for (lesson, status) in [
        (t.lesson_id.as_str(), 404),
        ("nosuchlesson", 404),
        ("a%2F..", 400),
    ] {
        let refused = open_relay(&t, &config, lesson).await.expect_err("refused");
        assert!(refused_with(status)(&refused), "{lesson}: {refused}");
    }
    let (_, overview) = t.kari.get("/api/boxes/paired").await;
    let stranger = s(&overview["paired"][0]["box_id"]);
    share(&t.kari, &stranger, &[&t.class_id]).await;

    // Shared: the relay opens. A paired box may only receive: publishing, letting a pupil talk
    // and calling are refused, and the relay stays open.
    let mut relay = open_relay(&t, &config, &t.lesson_id).await.expect("opens");
    for request in [
        json!({ "type": "media_publish", "stream": "camera", "sdp": "v=0" }),
        json!({ "type": "grant_talk", "participant": "p-x" }),
        json!({ "type": "media_watch", "sources": ["call"] }),
    ] {
        say(&mut relay, &request.to_string()).await;
        let answer = next_on(&mut relay).await.expect("an answer");
        assert_eq!(answer["type"], "media_refused", "{request}: {answer}");
        assert_eq!(answer["code"], "forbidden", "{request}: {answer}");
    }
    // A malformed message closes this relay (4000); another opens as before.
    say(&mut relay, "{not json").await;
    assert_eq!(next_on(&mut relay).await.err(), Some(Some(4000)));
    let mut relay = open_relay(&t, &config, &t.lesson_id)
        .await
        .expect("opens again");
    say(&mut relay, r#"{"type":"media_watch","sources":["lesson"]}"#).await;
    // No longer shared: the open relay closes at once (4012).
    share(&t.kari, &stranger, &[]).await;
    assert_eq!(next_on(&mut relay).await.err(), Some(Some(4012)));

    // Shared again: the lesson's end closes it (4001), and an ended lesson is not relayed.
    share(&t.kari, &stranger, &[&t.class_id]).await;
    let mut relay = open_relay(&t, &config, &t.lesson_id).await.expect("opens");
    let (status, _) = t
        .kari
        .post(&format!("/api/lessons/{}/end", t.lesson_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(next_on(&mut relay).await.err(), Some(Some(4001)));
    let refused = open_relay(&t, &config, &t.lesson_id)
        .await
        .expect_err("refused");
    assert!(refused_with(410)(&refused), "{refused}");

    // Unpairing closes a relay of the next lesson (4011); the box is then refused outright.
    let next_lesson = s(&start_lesson(&t.kari, &t.class_id).await["id"]);
    let mut relay = open_relay(&t, &config, &next_lesson).await.expect("opens");
    let (status, _) = t
        .kari
        .delete(&format!("/api/boxes/paired/{stranger}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(next_on(&mut relay).await.err(), Some(Some(4011)));
    assert!(open_relay(&t, &config, &next_lesson).await.is_err());
}

/// Hardening round two, finding 4: a guest's private thread (their name and question) stays on
/// the box it was written on; the class list's threads cross.
#[tokio::test]
async fn a_guests_private_thread_does_not_cross_to_a_paired_box() {
    let t = two_boxes().await;
    let (_dir, config) = paired_stranger(&t).await;
    let (_, overview) = t.kari.get("/api/boxes/paired").await;
    let stranger = overview["paired"]
        .as_array()
        .and_then(|p| p.iter().find(|b| b["name"] == "testboks"))
        .map(|b| s(&b["box_id"]))
        .expect("the test's box is paired");
    share(&t.kari, &stranger, &[&t.class_id]).await;

    let ada = pupil_id(&t.class, "Adalheid");
    let mut kari_live = Live::open(&t.kari, &format!("?lesson={}", t.lesson_id)).await;
    kari_live.sync(0).await;
    kari_live
        .request(json!({ "type": "send", "client_id": "k1", "thread": format!("pm.c.{}.{ada}", t.class_id), "text": "Hei Ada" }))
        .await
        .expect("sent");
    let (_, lesson) = t.kari.get(&format!("/api/lessons/{}", t.lesson_id)).await;
    let gjest = guest(&t.a, &s(&lesson["code"]), "Gjestenavn").await;
    let mut gjest_live = Live::try_open(&gjest, "", 0).await.expect("connected");
    let thread = gjest_live.thread("private");
    gjest_live
        .request(json!({ "type": "send", "client_id": "g1", "thread": thread, "text": "Gjestens spørsmål" }))
        .await
        .expect("sent");

    let answer = client::request(
        config,
        &format!("127.0.0.1:{}", sync_port(&t.a)),
        hyper::Method::GET,
        "/sync/messages?after=0",
        None,
        1 << 24,
    )
    .await
    .expect("an answer");
    assert_eq!(answer.status, StatusCode::OK);
    let body = String::from_utf8_lossy(&answer.body);
    assert!(
        body.contains("Hei Ada"),
        "the class list's thread crosses: {body}"
    );
    assert!(
        !body.contains("Gjest"),
        "neither the guest's question nor their name crosses: {body}"
    );
}

/// Hardening round two, finding 7: five wrong codes from anyone closed the pairing window. Now
/// each box has its own tries: a stranger's wrong codes (more than five, from more than one
/// certificate) leave the real box's pairing working.
#[tokio::test]
async fn strangers_wrong_codes_do_not_spend_the_real_boxs_tries() {
    let t = two_boxes().await;
    let (status, code) = t.kari.post("/api/boxes/pairing", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{code}");
    for stranger in 0..3 {
        let (_dir, identity, config) = test_box(&format!("fremmed{stranger}"));
        for guess in 0..4 {
            let wrong = format!("FEIL{stranger}{guess}XXXX");
            let status = offer_pairing(&t, &identity, config.clone(), &wrong).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
    }
    // Twelve wrong codes later, the box the teacher typed the code into pairs.
    let (status, paired) = t
        .nils
        .post(
            "/api/boxes/paired",
            json!({
                "address": format!("127.0.0.1:{}", sync_port(&t.a)),
                "code": code["code"],
                "fingerprint": code["fingerprint"],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paired}");
}
