//! Classes, login cards, lessons, joining, presence, removing and ending.

use reqwest::StatusCode;
use tavla::clock::HOUR_MS;
use tavla_e2e::serde_json::json;
use tavla_e2e::*;

const ALPHABET: &str = "ACDEFGHJKMNPQRTUVWXY34679";

#[tokio::test]
async fn a_class_meets_for_a_lesson_by_code_and_by_card() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &["Ada Lovelace", "Bjørn"]).await;
    let class_id = class["id"].as_str().unwrap();

    let lesson = start_lesson(&teacher, class_id).await;
    let code = lesson["code"].as_str().unwrap().to_string();
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| ALPHABET.contains(c)), "{code}");
    assert!(lesson["join_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/join?code={code}")));
    assert_eq!(
        start_lesson(&teacher, class_id).await["id"],
        lesson["id"],
        "one running lesson per class"
    );

    let mut watch = teacher.ws(&format!("?lesson={lesson_id}")).await.unwrap();
    assert_eq!(next_json(&mut watch).await["type"], "welcome");
    let presence = next_of_type(&mut watch, "presence").await;
    let names: Vec<&str> = presence["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Ada Lovelace", "Bjørn"],
        "the roster shows before anyone joins"
    );
    assert!(presence["participants"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["online"] == false));

    // Ada signs in with her card, from home.
    let secrets = card_secrets(&teacher, class_id).await;
    let ada = server.client();
    let (status, body) = ada
        .post(
            "/api/card-login",
            json!({ "secret": secrets[0].1, "at_home": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, me) = ada.get("/api/me").await;
    assert_eq!(me["role"], "remote_pupil");
    assert_eq!(me["pupil"]["name"], "Ada Lovelace");
    assert_eq!(me["lesson"]["class_name"], "7B");

    // A guest joins with the code as typed from the board (lower case, a space).
    let guest_pupil = server.client();
    let typed = format!("{} {}", &code[..3].to_lowercase(), &code[3..]);
    let (status, body) = guest_pupil
        .post(
            "/api/join",
            json!({ "code": typed, "name": "Gjest Gjestesen" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(guest_pupil.get("/api/me").await.1["role"], "pupil");

    let mut ada_socket = ada.ws("").await.unwrap();
    assert_eq!(next_json(&mut ada_socket).await["role"], "remote_pupil");
    let mut guest_socket = guest_pupil.ws("").await.unwrap();
    next_json(&mut guest_socket).await;

    let seen = wait_for_presence(&mut watch, |list| {
        list.iter().filter(|p| p["online"] == true).count() == 2
    })
    .await;
    let ada_entry = seen.iter().find(|p| p["name"] == "Ada Lovelace").unwrap();
    assert_eq!(ada_entry["at_home"], true);
    assert_eq!(ada_entry["rostered"], true);
    let guest_entry = seen
        .iter()
        .find(|p| p["name"] == "Gjest Gjestesen")
        .unwrap();
    assert_eq!(guest_entry["rostered"], false);
    let bjorn = seen.iter().find(|p| p["name"] == "Bjørn").unwrap();
    assert_eq!(bjorn["online"], false);

    // The teacher removes the guest: their socket is told and closed with 4002.
    let guest_id = guest_entry["id"].as_str().unwrap();
    let (status, _) = teacher
        .delete(&format!("/api/lessons/{lesson_id}/participants/{guest_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        next_of_type(&mut guest_socket, "removed").await["type"],
        "removed"
    );
    assert_eq!(
        u16::from(close_frame(&mut guest_socket).await.unwrap().code),
        4002
    );
    assert_eq!(guest_pupil.get("/api/me").await.1["role"], "nobody");

    // Ending the lesson closes every pupil with 4001 and signs them out.
    let (status, _) = teacher
        .post(&format!("/api/lessons/{lesson_id}/end"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    next_of_type(&mut ada_socket, "lesson_ended").await;
    assert_eq!(
        u16::from(close_frame(&mut ada_socket).await.unwrap().code),
        4001
    );
    next_of_type(&mut watch, "lesson_ended").await;
    assert_eq!(ada.get("/api/me").await.1["role"], "nobody");

    let late = server.client();
    let (status, body) = late
        .post("/api/join", json!({ "code": code, "name": "Sen" }))
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["error"]["code"], "lesson_ended");
    let (status, body) = late
        .post("/api/card-login", json!({ "secret": secrets[1].1 }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "no_active_lesson");
}

async fn wait_for_presence(
    socket: &mut Socket,
    done: impl Fn(&[tavla_e2e::serde_json::Value]) -> bool,
) -> Vec<tavla_e2e::serde_json::Value> {
    loop {
        let message = next_of_type(socket, "presence").await;
        let list = message["participants"].as_array().unwrap().clone();
        if done(&list) {
            return list;
        }
    }
}

#[tokio::test]
async fn wrong_codes_and_cards_get_clear_errors() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &["Ada"]).await;
    start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let pupil = server.client();
    for code in ["QQQQQQ", "", "abc", "💥💥💥💥💥💥"] {
        let (status, body) = pupil
            .post("/api/join", json!({ "code": code, "name": "Ada" }))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{code}");
        assert_eq!(body["error"]["code"], "wrong_code");
    }
    let (status, body) = pupil
        .post("/api/card-login", json!({ "secret": "gjettet" }))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_card");
}

#[tokio::test]
async fn a_reissued_card_replaces_the_old_one_and_a_removed_pupil_stays_out() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &["Ada"]).await;
    let class_id = class["id"].as_str().unwrap();
    let lesson = start_lesson(&teacher, class_id).await;
    let old = card_secrets(&teacher, class_id).await.remove(0).1;
    let pupil_id = class["pupils"][0]["id"].as_str().unwrap();
    let (status, _) = teacher
        .post(
            &format!("/api/classes/{class_id}/pupils/{pupil_id}/card"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let new = card_secrets(&teacher, class_id).await.remove(0).1;
    assert_ne!(old, new);
    let ada = server.client();
    assert_eq!(
        ada.post("/api/card-login", json!({ "secret": old }))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ada.post("/api/card-login", json!({ "secret": new }))
            .await
            .0,
        StatusCode::OK
    );

    let lesson_id = lesson["id"].as_str().unwrap();
    let (status, _) = teacher
        .delete(&format!(
            "/api/lessons/{lesson_id}/participants/p-{pupil_id}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ada.post("/api/card-login", json!({ "secret": new })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "removed");
}

#[tokio::test]
async fn lessons_end_by_themselves_after_lesson_hours() {
    let server = TestServer::start_with(|c| c.lesson_hours = 1).await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &[]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    let pupil = guest(&server, code, "Ada").await;
    server.clock.advance(HOUR_MS);
    assert_eq!(
        pupil.get("/api/me").await.1["role"],
        "nobody",
        "the pupil's session ends with the lesson"
    );
    let (status, body) = server
        .client()
        .post("/api/join", json!({ "code": code, "name": "Bo" }))
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["error"]["code"], "lesson_ended");
    let (_, list) = teacher.get("/api/lessons").await;
    assert_eq!(list["lessons"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_teacher_manages_the_roster() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &["Ada"]).await;
    let class_id = class["id"].as_str().unwrap();
    let (status, updated) = teacher
        .post(
            &format!("/api/classes/{class_id}/pupils"),
            json!({ "names": ["Bo", "Cecilie"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["pupils"].as_array().unwrap().len(), 3);
    let bo = updated["pupils"][1]["id"].as_str().unwrap();
    let (_, updated) = teacher
        .delete(&format!("/api/classes/{class_id}/pupils/{bo}"))
        .await;
    let names: Vec<&str> = updated["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Cecilie"]);

    let response = teacher
        .http
        .get(server.url(&format!(
            "/api/classes/{class_id}/pupils/{}/card.svg",
            updated["pupils"][0]["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.text().await.unwrap().contains("<svg"));
}

/// A guest typing the name of a pupil on the class list (in full, or a first name only one
/// pupil has) is asked whether that is them instead of becoming a twin; one who says it is
/// not them joins as a guest.
#[tokio::test]
async fn a_class_list_name_typed_at_join_makes_no_twin() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ola Hansen", "Ola Berg", "Sara Lie"]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    for (typed, meant) in [("ola hansen", "Ola Hansen"), ("Sara", "Sara Lie")] {
        let (status, body) = server
            .client()
            .post("/api/join", json!({ "code": code, "name": typed }))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{typed}: {body}");
        assert_eq!(body["error"]["code"], "on_class_list");
        assert_eq!(body["error"]["name"], meant);
    }
    // Two Olas: the box cannot tell which, so "Ola" joins as a guest.
    let (status, _) = server
        .client()
        .post("/api/join", json!({ "code": code, "name": "Ola" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .client()
        .post(
            "/api/join",
            json!({ "code": code, "name": "Sara", "not_on_class_list": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "someone else called Sara");
}

/// A pupil on the class list at a device without a camera joins with the lesson's code, her
/// name and the code printed on her card, as her card would sign her in; a wrong code, another
/// pupil's, or a replaced card's is refused, and too many tries are slowed like any join.
#[tokio::test]
async fn the_code_on_a_card_signs_its_pupil_in_with_her_name() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Emma Hansen", "Jonas Berg"]).await;
    let class_id = class["id"].as_str().unwrap();
    let lesson = start_lesson(&kari, class_id).await;
    let code = lesson["code"].as_str().unwrap();
    let (_, sheet) = kari.get(&format!("/api/classes/{class_id}/cards")).await;
    let card_of = |name: &str| -> String {
        sheet["cards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["code"].as_str())
            .expect("a code on the card")
            .to_string()
    };
    let (emma, jonas) = (card_of("Emma Hansen"), card_of("Jonas Berg"));
    assert_ne!(emma, jonas);
    let join = |name: &str, card: &str| json!({ "code": code, "name": name, "card_code": card });
    for (name, card) in [
        ("Emma", jonas.as_str()),
        ("Emma", "ABCD-2345"),
        ("Nora", emma.as_str()),
    ] {
        let (status, body) = server.client().post("/api/join", join(name, card)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name} {card}: {body}");
        assert_eq!(body["error"]["code"], "invalid_card");
    }
    let pupil = server.client();
    let typed = emma.replace('-', " ").to_lowercase();
    let (status, body) = pupil.post("/api/join", join("emma", &typed)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pupil"]["name"], "Emma Hansen");
    assert_eq!(
        body["pupil"]["id"],
        format!("p-{}", pupil_id(&class, "Emma Hansen"))
    );
    // A new card has a new code; the old one stops working.
    let emma_id = pupil_id(&class, "Emma Hansen");
    let (status, _) = kari
        .post(
            &format!("/api/classes/{class_id}/pupils/{emma_id}/card"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.client().post("/api/join", join("Emma", &emma)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Oversized input is refused before anything is looked up.
    let (status, _) = server
        .client()
        .post("/api/join", join("Emma", &"A".repeat(100)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Hardening round two, finding 9: names that show as nothing, hide characters, or pass one
/// script's letters off as another's are refused; a name in another script that looks like a
/// class-list name is asked about like the name itself.
#[tokio::test]
async fn invisible_and_look_alike_names_do_not_slip_past() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ola Hansen", "Áŋŋá Čáhppes"]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    for typed in [
        "\u{3164}",
        "\u{2800}\u{2800}",
        "Per\u{E0041}\u{E0042}",
        "\u{0301}\u{0308}",
        "\u{0410}da",
    ] {
        let (status, body) = server
            .client()
            .post("/api/join", json!({ "code": code, "name": typed }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{typed:?}: {body}");
        assert_eq!(body["error"]["code"], "invalid_input", "{typed:?}");
    }
    // All in Cyrillic, looking like "Ola Hansen": the class-list question is asked.
    let (status, body) = server
        .client()
        .post(
            "/api/join",
            json!({ "code": code, "name": "\u{041E}\u{04CF}\u{0430} Hansen" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["name"], "Ola Hansen");
    let (status, body) = server
        .client()
        .post("/api/join", json!({ "code": code, "name": "Áŋŋá" }))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "Sami letters are letters: {body}"
    );
    assert_eq!(body["error"]["name"], "Áŋŋá Čáhppes");
    // The same rules for the class list and teachers' names.
    let (status, body) = kari
        .post("/api/classes", json!({ "name": "8\u{3164}", "pupils": [] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// After the lesson: the class lists it (latest first) and its documents stay the teacher's
/// to download as one zip.
#[tokio::test]
async fn ended_lessons_are_listed_on_the_class_with_their_documents() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ada"]).await;
    let class_id = class["id"].as_str().unwrap();
    assert_eq!(class["past_lessons"], json!([]));
    let first = start_lesson(&kari, class_id).await;
    let first_id = first["id"].as_str().unwrap();
    let (status, _) = kari
        .post(&format!("/api/lessons/{first_id}/end"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    server.clock.advance(HOUR_MS);
    let second = start_lesson(&kari, class_id).await;
    let (status, _) = kari
        .post(
            &format!("/api/lessons/{}/end", second["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, class) = kari.get(&format!("/api/classes/{class_id}")).await;
    let past: Vec<&str> = class["past_lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        past,
        [second["id"].as_str().unwrap(), first_id],
        "latest first"
    );
    let (status, headers, zip) = kari
        .download(&format!("/api/lessons/{first_id}/docs.zip"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/zip");
    assert!(zip.starts_with(b"PK"));
}
