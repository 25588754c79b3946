//! Malformed, oversized and unexpected input: a clear error for the sender, nothing lost, and
//! everyone else carries on.

use futures_util::SinkExt;
use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn json_endpoints_answer_bad_bodies_with_their_error_code() {
    let server = TestServer::start_with(|c| c.limits.max_body_bytes = 4096).await;
    let teacher = server.first_teacher("Kari").await;
    let url = server.url("/api/classes");

    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "not JSON",
            teacher
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body("{nope"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "wrong shape",
            teacher.http.post(&url).json(&json!({ "name": 7 })),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "unknown field",
            teacher
                .http
                .post(&url)
                .json(&json!({ "name": "7B", "admin": true })),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "not UTF-8",
            teacher
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(vec![b'"', 0xff, 0xfe, b'"']),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "no content type",
            teacher.http.post(&url).body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "oversized",
            teacher
                .http
                .post(&url)
                .json(&json!({ "name": "x".repeat(10_000) })),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            "empty name",
            teacher.http.post(&url).json(&json!({ "name": "   " })),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "long name",
            teacher
                .http
                .post(&url)
                .json(&json!({ "name": "x".repeat(41) })),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "control chars",
            teacher.http.post(&url).json(&json!({ "name": "7\u{0}B" })),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "a right-to-left override in a pupil's name",
            teacher
                .http
                .post(&url)
                .json(&json!({ "name": "7B", "pupils": ["Ada\u{202E}rerøl"] })),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "roster too big",
            teacher
                .http
                .post(&url)
                .json(&json!({ "name": "7B", "pupils": vec!["P"; 61] })),
            StatusCode::CONFLICT,
            "roster_full",
        ),
    ];
    for (what, request, status, code) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{what}");
        let body: tavla_e2e::serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }
    let (_, classes) = teacher.get("/api/classes").await;
    assert_eq!(
        classes["classes"].as_array().unwrap().len(),
        0,
        "nothing half-made"
    );

    let (status, body) = server
        .client()
        .post(
            "/api/join",
            json!({ "code": "ABCDEF", "name": "x".repeat(61) }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the code is checked first: {body}"
    );
    let class = class_with(&teacher, "7B", &[]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let (status, body) = server
        .client()
        .post(
            "/api/join",
            json!({ "code": lesson["code"], "name": "x".repeat(61) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "name");
}

/// Ids are parsed once where they come in: an id that could not name anything (a dot, a
/// slash, too long) in a path is 404 in the API's JSON shape, in a query or a body a 400 —
/// and nothing behind the edge ever sees it.
#[tokio::test]
async fn malformed_ids_are_refused_at_the_edge_in_the_api_shape() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &["Ola"]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let lesson = start_lesson(&teacher, &class_id).await;
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    let long = "x".repeat(41);

    for path in [
        format!("/api/classes/{long}"),
        "/api/classes/a.b".to_string(),
        format!("/api/classes/{class_id}/pupils/a.b/card.svg"),
        "/api/lessons/a%2Fb".to_string(),
        "/api/lessons/a.b/participants".to_string(),
        "/api/lessons/a.b/groups".to_string(),
    ] {
        let response = teacher.http.get(server.url(&path)).send().await.unwrap();
        let status = response.status();
        let body: tavla_e2e::serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    let (status, body) = teacher
        .delete(&format!("/api/lessons/{lesson_id}/participants/a.b"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "not_found");

    let (status, body) = teacher.get("/api/docs?lesson=a.b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input");
    assert_eq!(body["error"]["field"], "query");

    let (status, body) = teacher
        .post("/api/lessons", json!({ "class_id": "../x" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "malformed_json");

    let response = teacher
        .http
        .put(server.url(&format!("/api/lessons/{lesson_id}/groups")))
        .json(&json!({ "groups": [["p-a/b"]] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The class and lesson are untouched.
    let (status, _) = teacher.get(&format!("/api/classes/{class_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = teacher.get(&format!("/api/lessons/{lesson_id}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let host = server.url("/").replace("https://", "");
    let host = host.trim_end_matches('/');
    // Another site; the box's own name over plain HTTP (another origin); another port.
    for origin in [
        "https://evil.example".to_string(),
        format!("http://{host}"),
        format!("https://{}:1", host.rsplit_once(':').unwrap().0),
    ] {
        let response = teacher
            .http
            .post(server.url("/api/classes"))
            .header("origin", &origin)
            .json(&json!({ "name": "7B" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    let (_, classes) = teacher.get("/api/classes").await;
    assert_eq!(classes["classes"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn join_is_rate_limited() {
    let server = TestServer::start_with(|c| c.limits.join_per_minute_per_address = 3).await;
    let pupil = server.client();
    for _ in 0..3 {
        assert_eq!(
            pupil
                .post("/api/join", json!({ "code": "QQQQQQ", "name": "A" }))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }
    let (status, body) = pupil
        .post("/api/join", json!({ "code": "QQQQQQ", "name": "A" }))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limited");
    let (status, _) = pupil
        .post("/api/card-login", json!({ "secret": "x" }))
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "cards share the budget"
    );
    let (status, _) = pupil.post("/api/camera", json!({ "token": "x" })).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "camera links share the budget"
    );
    let neighbour = server.client_from(Some("127.0.0.3".parse().unwrap()));
    assert_eq!(
        neighbour
            .post("/api/join", json!({ "code": "QQQQQQ", "name": "B" }))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

/// A lesson with a watching teacher and two pupils on sockets.
async fn lesson_with_sockets(server: &TestServer) -> (User, Socket, Vec<(User, Socket)>) {
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &[]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let mut watch = teacher
        .ws(&format!("?lesson={}", lesson["id"].as_str().unwrap()))
        .await
        .unwrap();
    next_of_type(&mut watch, "presence").await;
    let mut pupils = Vec::new();
    for name in ["Ada", "Bo"] {
        let pupil = guest(server, lesson["code"].as_str().unwrap(), name).await;
        let mut socket = pupil.ws("").await.unwrap();
        next_of_type(&mut socket, "welcome").await;
        pupils.push((pupil, socket));
    }
    (teacher, watch, pupils)
}

/// The other pupil's connection still answers.
async fn still_answers(socket: &mut Socket) {
    send_text(socket, r#"{"type":"ping","id":42}"#).await;
    assert_eq!(next_of_type(socket, "pong").await["id"], 42);
}

#[tokio::test]
async fn bad_socket_frames_close_only_the_sender_with_a_documented_code() {
    let server = TestServer::start_with(|c| {
        c.limits.ws_max_message_bytes = 1024;
        c.limits.ws_messages_per_second = 5;
    })
    .await;
    let (teacher, mut watch, mut pupils) = lesson_with_sockets(&server).await;
    let (_, mut bystander) = pupils.pop().unwrap();
    let (offender, _) = pupils.pop().unwrap();

    let cases: Vec<(&str, Message, u16)> = vec![
        ("malformed JSON", Message::Text("{not json".into()), 4000),
        (
            "unknown type",
            Message::Text(r#"{"type":"become_teacher"}"#.into()),
            4000,
        ),
        ("missing type", Message::Text(r#"{"id":1}"#.into()), 4000),
        ("binary frame", Message::Binary(vec![1, 2, 3].into()), 1003),
        ("oversized", Message::Text("x".repeat(4096).into()), 1009),
    ];
    for (what, message, code) in cases {
        let mut socket = offender.ws("").await.unwrap();
        next_of_type(&mut socket, "welcome").await;
        let _ = socket.send(message).await;
        if code != 1009 {
            let error = next_of_type(&mut socket, "error").await;
            assert!(error["message"].as_str().is_some(), "{what}");
        }
        let frame = close_frame(&mut socket).await;
        assert_eq!(frame.map(|f| u16::from(f.code)), Some(code), "{what}");
        still_answers(&mut bystander).await;
    }

    let mut flooder = offender.ws("").await.unwrap();
    next_of_type(&mut flooder, "welcome").await;
    for i in 0..50 {
        if flooder
            .send(Message::Text(
                format!(r#"{{"type":"ping","id":{i}}}"#).into(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(
        close_frame(&mut flooder).await.map(|f| u16::from(f.code)),
        Some(4008)
    );
    still_answers(&mut bystander).await;

    // The teacher's view and the lesson are intact.
    send_text(&mut watch, r#"{"type":"ping"}"#).await;
    next_of_type(&mut watch, "pong").await;
    let (status, participants) = teacher
        .get(&format!(
            "/api/lessons/{}/participants",
            watch_lesson(&teacher).await
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(participants["participants"].as_array().unwrap().len(), 2);
}

async fn watch_lesson(teacher: &User) -> String {
    teacher.get("/api/lessons").await.1["lessons"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}
