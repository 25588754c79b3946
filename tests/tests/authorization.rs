//! Every teacher route tried by every role: no session, a pupil of the lesson, a pupil of
//! another lesson, the lesson's classroom camera, another teacher, the owner. Only the owner may touch a class or lesson;
//! any teacher may list their own things and create classes. This test is the spec.

use reqwest::{Method, StatusCode};
use tavla_e2e::serde_json::{json, Value};
use tavla_e2e::*;

struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    /// Whether a teacher who does not own the class/lesson may call it (lists, create, invite).
    any_teacher: bool,
}

fn route(method: Method, path: String, body: Option<Value>, any_teacher: bool) -> Route {
    Route {
        method,
        path,
        body,
        any_teacher,
    }
}

#[tokio::test]
async fn every_route_refuses_every_role_but_its_own() {
    let server = TestServer::start().await;
    let owner = server.first_teacher("Kari").await;
    let other_teacher = server.invited_teacher(&owner, "Per").await;
    let class = class_with(&owner, "7B", &["Ada", "Bo"]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let ada_id = class["pupils"][0]["id"].as_str().unwrap().to_string();
    let bo_id = class["pupils"][1]["id"].as_str().unwrap().to_string();
    let lesson = start_lesson(&owner, &class_id).await;
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    let pupil = guest(&server, lesson["code"].as_str().unwrap(), "Gjest").await;
    let participant_id = pupil.get("/api/me").await.1["pupil"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let other_class = class_with(&other_teacher, "8A", &[]).await;
    let other_lesson = start_lesson(&other_teacher, other_class["id"].as_str().unwrap()).await;
    let foreign_pupil = guest(&server, other_lesson["code"].as_str().unwrap(), "Fremmed").await;
    let camera = server.client();
    let (_, link) = owner
        .post(&format!("/api/lessons/{lesson_id}/camera"), json!({}))
        .await;
    let token = link["url"].as_str().unwrap().split_once('#').unwrap().1;
    let (status, _) = camera.post("/api/camera", json!({ "token": token })).await;
    assert_eq!(status, StatusCode::OK);

    let c = &class_id;
    let l = &lesson_id;
    // Destructive routes last, so the owner's successful calls do not disturb the others.
    let routes = vec![
        route(Method::GET, "/api/teachers".into(), None, true),
        route(
            Method::POST,
            "/api/teachers/invite".into(),
            Some(json!({})),
            true,
        ),
        route(Method::GET, "/api/classes".into(), None, true),
        route(
            Method::POST,
            "/api/classes".into(),
            Some(json!({ "name": "9C" })),
            true,
        ),
        route(Method::GET, "/api/lessons".into(), None, true),
        route(Method::GET, "/api/retention".into(), None, true),
        route(Method::GET, "/api/boxes".into(), None, true),
        route(Method::GET, "/api/boxes/paired".into(), None, true),
        route(
            Method::POST,
            "/api/boxes/pairing".into(),
            Some(json!({})),
            true,
        ),
        route(
            Method::PUT,
            "/api/me/lang".into(),
            Some(json!({ "lang": "en" })),
            true,
        ),
        route(Method::GET, format!("/api/classes/{c}"), None, false),
        route(Method::GET, format!("/api/classes/{c}/cards"), None, false),
        route(Method::GET, format!("/api/classes/{c}/vpn"), None, false),
        route(
            Method::POST,
            format!("/api/classes/{c}/pupils/{ada_id}/vpn"),
            Some(json!({})),
            false,
        ),
        route(
            Method::GET,
            format!("/api/classes/{c}/pupils/{ada_id}/export"),
            None,
            false,
        ),
        route(
            Method::GET,
            format!("/api/classes/{c}/pupils/{ada_id}/card.svg"),
            None,
            false,
        ),
        route(
            Method::POST,
            format!("/api/classes/{c}/pupils"),
            Some(json!({ "names": ["Cecilie"] })),
            false,
        ),
        route(
            Method::POST,
            "/api/lessons".into(),
            Some(json!({ "class_id": c })),
            false,
        ),
        route(Method::GET, format!("/api/lessons/{l}"), None, false),
        route(Method::GET, format!("/api/lessons/{l}/qr.svg"), None, false),
        route(
            Method::GET,
            format!("/api/lessons/{l}/participants"),
            None,
            false,
        ),
        route(Method::GET, format!("/api/lessons/{l}/groups"), None, false),
        route(
            Method::POST,
            format!("/api/lessons/{l}/camera"),
            Some(json!({})),
            false,
        ),
        route(
            Method::PUT,
            format!("/api/lessons/{l}/groups"),
            Some(json!({ "groups": [[participant_id]] })),
            false,
        ),
        route(
            Method::POST,
            format!("/api/lessons/{l}/groups/random"),
            Some(json!({ "size": 2, "present_only": false })),
            false,
        ),
        route(
            Method::POST,
            format!("/api/lessons/{l}/groups/repeat"),
            Some(json!({})),
            false,
        ),
        route(
            Method::POST,
            format!("/api/classes/{c}/pupils/{ada_id}/card"),
            Some(json!({})),
            false,
        ),
        route(
            Method::DELETE,
            format!("/api/classes/{c}/pupils/{bo_id}"),
            None,
            false,
        ),
        route(
            Method::DELETE,
            format!("/api/lessons/{l}/participants/{participant_id}"),
            None,
            false,
        ),
        route(
            Method::POST,
            format!("/api/lessons/{l}/end"),
            Some(json!({})),
            false,
        ),
        route(Method::DELETE, format!("/api/classes/{c}"), None, false),
    ];

    let nobody = server.client();
    for r in &routes {
        let what = format!("{} {}", r.method, r.path);
        let (status, body) = nobody.send(r.method.clone(), &r.path, r.body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "nobody: {what}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
        for (who, user) in [
            ("pupil of the lesson", &pupil),
            ("pupil of another lesson", &foreign_pupil),
            ("classroom camera", &camera),
        ] {
            let (status, body) = user.send(r.method.clone(), &r.path, r.body.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {what}: {body}");
        }
        let (status, body) = other_teacher
            .send(r.method.clone(), &r.path, r.body.clone())
            .await;
        if r.any_teacher {
            assert!(
                status.is_success(),
                "other teacher: {what}: {status} {body}"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "other teacher sees a foreign class/lesson as absent: {what}: {body}"
            );
        }
    }
    // Nothing the refused calls tried has happened.
    let (_, detail) = owner.get(&format!("/api/classes/{c}")).await;
    assert_eq!(detail["pupils"].as_array().unwrap().len(), 2);
    assert_eq!(pupil.get("/api/me").await.1["role"], "pupil");
    assert_eq!(camera.get("/api/me").await.1["role"], "camera");

    for r in &routes {
        let (status, body) = owner.send(r.method.clone(), &r.path, r.body.clone()).await;
        assert!(
            status.is_success(),
            "owner: {} {}: {status} {body}",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn guessed_and_foreign_ids_are_not_found() {
    let server = TestServer::start().await;
    let owner = server.first_teacher("Kari").await;
    let class = class_with(&owner, "7B", &["Ada"]).await;
    let c = class["id"].as_str().unwrap();
    for path in [
        "/api/classes/000000000000000000".to_string(),
        format!("/api/classes/{c}/pupils/000000000000000000/card.svg"),
        "/api/lessons/%2e%2e%2fclasses".to_string(),
        "/api/lessons/%00".to_string(),
        "/api/no-such-route".to_string(),
    ] {
        let (status, body) = owner.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
}

#[tokio::test]
async fn the_live_socket_refuses_the_wrong_people() {
    let server = TestServer::start().await;
    let owner = server.first_teacher("Kari").await;
    let other_teacher = server.invited_teacher(&owner, "Per").await;
    let class = class_with(&owner, "7B", &[]).await;
    let lesson = start_lesson(&owner, class["id"].as_str().unwrap()).await;
    let lesson_id = lesson["id"].as_str().unwrap();
    let query = format!("?lesson={lesson_id}");

    let refused = |result: Result<Socket, tokio_tungstenite::tungstenite::Error>| match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => 101,
    };
    assert_eq!(refused(server.client().ws(&query).await), 401, "no session");
    assert_eq!(
        refused(other_teacher.ws(&query).await),
        404,
        "another teacher's lesson"
    );
    assert_eq!(
        refused(owner.ws("").await),
        404,
        "a teacher must name the lesson"
    );
    assert_eq!(
        refused(
            owner
                .ws_with(&query, |r| {
                    r.headers_mut()
                        .insert("origin", "https://evil.example".parse().unwrap());
                })
                .await
        ),
        403,
        "another site's page"
    );

    // A pupil of another lesson asking for this lesson still lands in their own.
    let other_class = class_with(&other_teacher, "8A", &[]).await;
    let other_lesson = start_lesson(&other_teacher, other_class["id"].as_str().unwrap()).await;
    let foreign = guest(&server, other_lesson["code"].as_str().unwrap(), "Fremmed").await;
    let mut socket = foreign.ws(&query).await.unwrap();
    let welcome = next_json(&mut socket).await;
    assert_eq!(welcome["lesson_id"], other_lesson["id"]);
    assert_eq!(welcome["role"], "pupil");
}

/// The "after revocation" column: for each use-case that withdraws access, everything the
/// pupil (or teacher) could do before — read and list documents, export, open `/ws` and
/// `/yjs`, ask for a file upload — is refused after it, over HTTP and at the socket upgrade.
#[tokio::test]
async fn after_access_is_withdrawn_everything_that_was_allowed_is_refused() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ada", "Bo", "Cy", "Di"]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let lesson = start_lesson(&kari, &class_id).await;
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    let cards = card_secrets(&kari, &class_id).await;
    let pupil_id = |name: &str| pupil_id(&class, name);
    let signed_in = |name: &'static str| {
        let secret = cards.iter().find(|(n, _)| n == name).unwrap().1.clone();
        let server = &server;
        async move {
            let pupil = server.client();
            let (status, _) = pupil
                .post("/api/card-login", json!({ "secret": secret }))
                .await;
            assert_eq!(status, StatusCode::OK);
            pupil
        }
    };
    let class_doc = format!("lesson.{lesson_id}.class");

    /// What a pupil may do, each `true` when allowed.
    async fn pupil_can(user: &User, class_doc: &str) -> Vec<(&'static str, bool)> {
        let ok = |status: StatusCode| status == StatusCode::OK;
        vec![
            ("list documents", ok(user.get("/api/docs").await.0)),
            (
                "read the class document",
                ok(user.get(&format!("/api/docs/{class_doc}")).await.0),
            ),
            (
                "export it",
                ok(user
                    .get(&format!("/api/docs/{class_doc}/export?format=txt"))
                    .await
                    .0),
            ),
            (
                "say who they are",
                user.get("/api/me").await.1["role"] == "pupil",
            ),
            ("open /ws", user.ws("").await.is_ok()),
            (
                "open /yjs",
                yjs::DocClient::connect(user, class_doc).await.is_ok(),
            ),
        ]
    }
    let withdrawals: Vec<(&str, &'static str, String, Value)> = vec![
        (
            "removed from the lesson",
            "Ada",
            format!(
                "DELETE /api/lessons/{lesson_id}/participants/p-{}",
                pupil_id("Ada")
            ),
            Value::Null,
        ),
        (
            "card reissued",
            "Bo",
            format!(
                "POST /api/classes/{class_id}/pupils/{}/card",
                pupil_id("Bo")
            ),
            json!({}),
        ),
        (
            "deleted from the class list",
            "Cy",
            format!("DELETE /api/classes/{class_id}/pupils/{}", pupil_id("Cy")),
            Value::Null,
        ),
        ("logged out", "Di", "POST /api/logout".into(), json!({})),
    ];
    for (what, name, call, body) in withdrawals {
        let pupil = signed_in(name).await;
        let before = pupil_can(&pupil, &class_doc).await;
        assert!(
            before.iter().all(|(_, allowed)| *allowed),
            "{what}: {before:?}"
        );
        let (method, path) = call.split_once(' ').unwrap();
        let caller = if what == "logged out" { &pupil } else { &kari };
        let status = match method {
            "DELETE" => caller.delete(path).await.0,
            _ => caller.post(path, body).await.0,
        };
        assert_eq!(status, StatusCode::OK, "{what}");
        let after = pupil_can(&pupil, &class_doc).await;
        let still: Vec<_> = after.iter().filter(|(_, allowed)| *allowed).collect();
        assert!(still.is_empty(), "{what}: still allowed {still:?}");
    }

    // The lesson ends: every pupil of it, however signed in, is refused everything.
    let guest = guest(&server, lesson["code"].as_str().unwrap(), "Gjest").await;
    assert!(pupil_can(&guest, &class_doc)
        .await
        .iter()
        .all(|(_, allowed)| *allowed));
    let (status, _) = kari
        .post(&format!("/api/lessons/{lesson_id}/end"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = pupil_can(&guest, &class_doc).await;
    assert!(after.iter().all(|(_, allowed)| !*allowed), "{after:?}");

    // The teacher logs out: her routes and sockets are refused.
    let (status, _) = kari.post("/api/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kari.get("/api/classes").await.0, StatusCode::UNAUTHORIZED);
    assert!(kari.ws(&format!("?lesson={lesson_id}")).await.is_err());
    assert!(yjs::DocClient::connect(&kari, &class_doc).await.is_err());
}
