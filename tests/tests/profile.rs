//! A pupil's own profile: set once, it follows the pupil's card to any device; the teacher of
//! the class sees it (and keeps her own with her account); "at home today" makes the next sign-in that day count as from home;
//! bad input is refused with a clear error and changes nothing; it is in the pupil's export.

use reqwest::{Method, StatusCode};
use tavla_e2e::serde_json::{json, Value};
use tavla_e2e::*;

async fn put_profile(user: &User, body: Value) -> (StatusCode, Value) {
    user.send(Method::PUT, "/api/me/profile", Some(body)).await
}

#[tokio::test]
async fn a_pupils_profile_follows_their_card_and_the_teacher_sees_it() {
    let server = TestServer::start_with(|c| c.limits.max_body_bytes = 4096).await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "5A", &["Ada", "Bjørn"]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let lesson = start_lesson(&teacher, &class_id).await;
    let cards = card_secrets(&teacher, &class_id).await;
    let ada_card = &cards.iter().find(|(name, _)| name == "Ada").unwrap().1;

    let ada = card_login(&server, ada_card).await;
    let (status, defaults) = ada.get("/api/me/profile").await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(defaults["text_size"], "normal");
    assert_eq!(defaults["high_contrast"], false);

    let wanted = json!({
        "lang": "se", "text_size": "large", "high_contrast": true, "reduced_motion": true,
        "dyslexia_font": true, "read_aloud": true, "at_home_today": true,
    });
    let (status, saved) = put_profile(&ada, wanted.clone()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved, wanted);

    // Bad input: a clear error, and the profile stays as it was.
    let bad = [
        (json!({ "text_size": "huge" }), "malformed_json"),
        (json!({ "colour": "red" }), "malformed_json"),
        (json!({ "high_contrast": "yes" }), "malformed_json"),
        (json!({ "lang": "de" }), "invalid_input"),
        (json!({ "lang": "x".repeat(10_000) }), "too_large"),
    ];
    for (body, code) in bad {
        let (status, answer) = put_profile(&ada, body.clone()).await;
        assert!(status.is_client_error(), "{body} → {status}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
    }
    assert_eq!(
        ada.get("/api/me/profile").await.1,
        wanted,
        "unchanged by bad input"
    );

    // Another device: the same card brings the same settings, in /api/me at once; and "at
    // home today" makes this sign-in one from home without ticking it.
    let tablet = card_login(&server, ada_card).await;
    let (_, me) = tablet.get("/api/me").await;
    assert_eq!(me["profile"], wanted);
    assert_eq!(
        me["role"], "remote_pupil",
        "at home today counts at sign-in"
    );

    // The teacher sees it on the class page; Bjørn has the defaults.
    let (_, class_view) = teacher.get(&format!("/api/classes/{class_id}")).await;
    let profile_of = |name: &str| {
        class_view["pupils"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["profile"].clone())
            .unwrap()
    };
    assert_eq!(profile_of("Ada"), wanted);
    assert_eq!(profile_of("Bjørn")["dyslexia_font"], false);

    // The teacher's own settings are hers: kept with her account, her language with them,
    // never "at home today"; Ada's are untouched.
    let (status, hers) = put_profile(
        &teacher,
        json!({ "lang": "nn", "high_contrast": true, "at_home_today": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{hers}");
    assert_eq!(
        (&hers["high_contrast"], &hers["at_home_today"]),
        (&json!(true), &json!(false))
    );
    let (_, teacher_me) = teacher.get("/api/me").await;
    assert_eq!(teacher_me["teacher"]["lang"], "nn");
    assert_eq!(teacher_me["teacher"]["profile"], hers);
    assert_eq!(ada.get("/api/me/profile").await.1, wanted);

    // Nobody else can read or change it: a guest (no profile on the box), someone not signed in.
    let guest = guest(&server, lesson["code"].as_str().unwrap(), "Gjest").await;
    let nobody = server.client();
    for (who, user, expected) in [("nobody", &nobody, StatusCode::UNAUTHORIZED)] {
        assert_eq!(user.get("/api/me/profile").await.0, expected, "{who} reads");
        let (status, _) = put_profile(user, json!({ "high_contrast": true })).await;
        assert_eq!(status, expected, "{who} writes");
    }
    let (_, guest_me) = guest.get("/api/me").await;
    assert_eq!(guest_me["profile"], Value::Null);

    // It is part of what the box keeps about Ada: in her export.
    let (status, _, zip) = ada.download("/api/me/export").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        zip_holds(&zip, "dyslexia_font"),
        "the export holds the profile"
    );
}

/// Whether any file in the zip holds `needle` (the archive compresses its JSON).
fn zip_holds(zip: &[u8], needle: &str) -> bool {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    (0..archive.len()).any(|i| {
        let mut file = archive.by_index(i).expect("an entry");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).is_ok() && text.contains(needle)
    })
}
