//! A pupil's data: everything they made is in their export; after the teacher deletes them,
//! nothing of theirs is left anywhere in the store's files (also after a restart), while the
//! other pupils' work and the class's shared text stay.

use std::io::{Cursor, Read};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tavla_e2e::yjs::DocClient;
use tavla_e2e::{
    card_login, card_secrets, class_with, own_doc, pupil_id, start_lesson, store_files_holding,
    Live, TestServer, User,
};

/// A tiny PNG: the upload check reads the bytes.
fn png_with(marker: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(marker);
    bytes
}

/// What the pupil makes (and the teacher's private answer to her), each a unique string the
/// export must hold and the store must lose.
const MADE: [&str; 7] = [
    "OWN-TEXT-q7w",
    "HAND-QUESTION-r4",
    "PRIVATE-MESSAGE-x3",
    "TEACHER-ANSWER-a6",
    "CHAT-LINE-c9",
    "COPY-ANSWER-v2",
    "PICTURE-BYTES-p8",
];

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).expect("an entry");
            let mut body = Vec::new();
            file.read_to_end(&mut body).expect("readable");
            (file.name().expect("a name").to_string(), body)
        })
        .collect()
}

fn text_of(entries: &[(String, Vec<u8>)]) -> String {
    entries
        .iter()
        .map(|(name, body)| format!("== {name}\n{}\n", String::from_utf8_lossy(body)))
        .collect()
}

#[tokio::test]
async fn an_export_holds_everything_a_pupil_made_and_a_deletion_leaves_no_trace() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let name = "Oddveig Quist";
    let class = class_with(&kari, "7B", &[name, "Sara"]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let pupil_id = pupil_id(&class, name);
    let lesson = start_lesson(&kari, &class_id).await;
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    let cards = card_secrets(&kari, &class_id).await;
    let secret = |who: &str| cards.iter().find(|(n, _)| n == who).unwrap().1.clone();
    let oddveig = card_login(&server, &secret(name)).await;
    let sara = card_login(&server, &secret("Sara")).await;

    // Everything a pupil can make: their own document, a line in the class document, a
    // private question with a raised hand, a private message with a picture, a group and
    // its chat, a hand-out copy they write in.
    let own = own_doc(&oddveig).await;
    let mut own_doc_client = DocClient::connect(&oddveig, &own).await.unwrap();
    own_doc_client
        .write_paragraph("OWN-TEXT-q7w")
        .await
        .unwrap();
    let class_doc = format!("lesson.{lesson_id}.class");
    let mut in_class = DocClient::connect(&oddveig, &class_doc).await.unwrap();
    in_class.append("SHARED-LINE-z1 ").await.unwrap();
    let mut sara_class = DocClient::connect(&sara, &class_doc).await.unwrap();
    sara_class.append("SARA-WORK-k2 ").await.unwrap();
    let sara_own = own_doc(&sara).await;
    let mut sara_own_client = DocClient::connect(&sara, &sara_own).await.unwrap();
    sara_own_client.append("SARA-OWN-m5").await.unwrap();

    let mut live = Live::open(&oddveig, "").await;
    live.sync(0).await;
    let private = live.thread("private");
    live.request(
        json!({ "type": "raise_hand", "question": "HAND-QUESTION-r4", "client_id": "h1" }),
    )
    .await
    .unwrap();
    let (status, picture) = oddveig
        .upload(
            &format!("/api/files?thread={private}&name=tegning.png"),
            "image/png",
            png_with(b"PICTURE-BYTES-p8"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{picture}");
    live.request(
        json!({ "type": "send", "client_id": "m1", "thread": private,
        "text": "PRIVATE-MESSAGE-x3", "file": picture["id"] }),
    )
    .await
    .unwrap();

    let mut teacher_live = Live::open(&kari, &format!("?lesson={lesson_id}")).await;
    teacher_live.until_type("presence").await;
    let (status, body) = kari
        .post(
            &format!("/api/lessons/{lesson_id}/groups/random"),
            json!({ "size": 2, "present_only": false }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    teacher_live
        .request(json!({ "type": "set_chat", "scope": "class", "open": true }))
        .await
        .unwrap();
    let chat = loop {
        let threads = live.until_type("threads").await;
        if let Some(chat) = threads["class_chat"].as_str() {
            break chat.to_string();
        }
    };
    live.request(
        json!({ "type": "send", "client_id": "c1", "thread": chat, "text": "CHAT-LINE-c9" }),
    )
    .await
    .unwrap();
    teacher_live
        .request(json!({ "type": "send", "client_id": "t1", "thread": private, "text": "TEACHER-ANSWER-a6" }))
        .await
        .unwrap();

    let notes = format!("lesson.{lesson_id}.notes");
    let mut notes_client = DocClient::connect(&kari, &notes).await.unwrap();
    notes_client.append("Oppgave: ").await.unwrap();
    let (status, body) = kari
        .post(
            &format!("/api/docs/{notes}/hand-out"),
            json!({ "to": "pupils", "title": "Oppgave 1" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, list) = oddveig.get("/api/docs").await;
    let copy = list["docs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "copy")
        .expect("her copy")["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut copy_client = DocClient::connect(&oddveig, &copy).await.unwrap();
    copy_client.write_paragraph("COPY-ANSWER-v2").await.unwrap();
    // The teacher saves a version of her document too.
    let (status, body) = kari
        .post(
            &format!("/api/docs/{own}/versions"),
            json!({ "label": "før pause" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut kari_view = DocClient::connect(&kari, &copy).await.unwrap();
    kari_view.until_rich("COPY-ANSWER-v2").await.unwrap();
    let mut kari_own_view = DocClient::connect(&kari, &own).await.unwrap();
    kari_own_view.until_rich("OWN-TEXT-q7w").await.unwrap();

    // The export: the pupil's own and the teacher's are the same archive.
    let export_path = format!("/api/classes/{class_id}/pupils/{pupil_id}/export?lang=nn");
    let (status, _, teachers) = kari.download(&export_path).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, mine) = oddveig.download("/api/me/export?lang=nn").await;
    assert_eq!(status, StatusCode::OK);
    let entries = unzip(&teachers);
    let all = text_of(&entries);
    for made in [name, "før pause"].iter().chain(&MADE) {
        assert!(all.contains(made), "{made} is in the export:\n{all}");
    }
    let data: Value = serde_json::from_slice(
        &entries
            .iter()
            .find(|(n, _)| n == "data.json")
            .expect("data.json")
            .1,
    )
    .unwrap();
    assert_eq!(
        data["data"]["lessons"].as_array().map(Vec::len),
        Some(1),
        "{data}"
    );
    assert_eq!(
        data["data"]["groups"].as_array().map(Vec::len),
        Some(1),
        "{data}"
    );
    let page = String::from_utf8_lossy(&entries.iter().find(|(n, _)| n == "index.html").unwrap().1)
        .to_string();
    assert!(
        page.contains("lang=\"nn\"") && page.contains("Rekkjehender"),
        "{page}"
    );
    // Nothing of Sara's, and not the class document (shared, not hers alone).
    assert!(
        !all.contains("SARA-") && !all.contains("SHARED-LINE-z1"),
        "{all}"
    );
    assert_eq!(
        unzip(&mine).len(),
        entries.len(),
        "the pupil's own copy is the same"
    );
    // Nobody else gets it.
    let (status, _, _) = sara.download(&export_path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another pupil");
    let other = server.invited_teacher(&kari, "Per").await;
    let (status, _, _) = other.download(&export_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deletion: her open connections close, and nothing of hers is left in the store's files.
    let (status, body) = kari
        .delete(&format!("/api/classes/{class_id}/pupils/{pupil_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["deleted"]["documents"].as_u64() > Some(0), "{body}");
    assert_eq!(live.closed_with().await, Some(4002));
    assert_eq!(
        oddveig.get("/api/me").await.1["role"],
        "nobody",
        "her sign-in ended"
    );
    let data_dir = server.dir.path().to_path_buf();
    let traces: Vec<&str> = [name, pupil_id.as_str()].into_iter().chain(MADE).collect();
    let check = |when: &str| {
        for &trace in &traces {
            let found = store_files_holding(&data_dir, trace);
            let context: Vec<String> = found
                .iter()
                .filter_map(|f| std::fs::read(f).ok())
                .flat_map(|bytes| {
                    let at: Vec<usize> = bytes
                        .windows(trace.len())
                        .enumerate()
                        .filter(|(_, w)| *w == trace.as_bytes())
                        .map(|(i, _)| i)
                        .collect();
                    at.into_iter()
                        .map(|i| {
                            String::from_utf8_lossy(
                                &bytes[i.saturating_sub(80)..(i + 80).min(bytes.len())],
                            )
                            .to_string()
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            assert!(
                found.is_empty(),
                "{trace} still in {found:?} {when}: {context:?}"
            );
        }
        for kept in ["SARA-WORK-k2", "SARA-OWN-m5", "SHARED-LINE-z1"] {
            assert!(
                !store_files_holding(&data_dir, kept).is_empty(),
                "{kept} is kept {when}"
            );
        }
    };
    check("after the deletion");
    // The class goes on: Sara writes, the class document has everyone's text but hers named.
    sara_class.append("AFTER-k3").await.unwrap();
    let mut kari_class = DocClient::connect(&kari, &class_doc).await.unwrap();
    kari_class.until(|t| t.contains("AFTER-k3")).await.unwrap();
    assert!(kari_class.text().contains("SHARED-LINE-z1"));
    let (_, class_now) = kari.get(&format!("/api/classes/{class_id}")).await;
    assert_eq!(class_now["pupils"].as_array().map(Vec::len), Some(1));
    drop((
        in_class,
        own_doc_client,
        copy_client,
        kari_view,
        kari_own_view,
        sara_class,
    ));
    drop((sara_own_client, kari_class, notes_client, teacher_live));

    let (server, kari) = server.restart_signed_in("Kari").await;
    check("after a restart");
    let (status, _, _) = kari.download(&export_path).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a deleted pupil has nothing to export"
    );
    let (status, body) = kari
        .delete(&format!("/api/classes/{class_id}/pupils/{pupil_id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleting twice: {body}");
    drop(server);
}

#[tokio::test]
async fn bad_export_and_delete_requests_get_clear_errors_and_change_nothing() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ada"]).await;
    let c = class["id"].as_str().unwrap();
    let ada = class["pupils"][0]["id"].as_str().unwrap();
    let base = format!("/api/classes/{c}/pupils/{ada}");
    // An unknown language falls back to bokmål; an unknown parameter is refused.
    let (status, _, zip) = kari
        .download(&format!("{base}/export?lang=..%2F..%2Fetc"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = unzip(&zip)
        .into_iter()
        .find(|(n, _)| n == "index.html")
        .unwrap()
        .1;
    assert!(String::from_utf8_lossy(&page).contains("lang=\"nb\""));
    let (status, body) = kari.get(&format!("{base}/export?format=pdf")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for path in [
        format!("/api/classes/{c}/pupils/000000000000000000/export"),
        format!("/api/classes/{c}/pupils/%2e%2e/export"),
        format!("/api/classes/000000000000000000/pupils/{ada}/export"),
        format!("/api/classes/{c}/pupils/{}/export", "x".repeat(5000)),
    ] {
        let (status, body) = kari.get(&path).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::URI_TOO_LONG,
            "{path}: {status} {body}"
        );
    }
    for path in [
        format!("/api/classes/{c}/pupils/000000000000000000"),
        format!("/api/classes/000000000000000000/pupils/{ada}"),
    ] {
        let (status, body) = kari.delete(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    // A teacher has no "my data" export; nobody at all is asked to sign in.
    assert_eq!(kari.get("/api/me/export").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        server.client().get("/api/me/export").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, class_now) = kari.get(&format!("/api/classes/{c}")).await;
    assert_eq!(
        class_now["pupils"].as_array().map(Vec::len),
        Some(1),
        "Ada is still there"
    );
}

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// A lesson, with a line in its class document and a private message, for `pupil_secret`.
async fn a_lesson_with(
    server: &TestServer,
    kari: &User,
    class_id: &str,
    secret: &str,
    marker: &str,
) -> String {
    let lesson = start_lesson(kari, class_id).await;
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    let pupil = card_login(server, secret).await;
    let mut doc = DocClient::connect(&pupil, &format!("lesson.{lesson_id}.class"))
        .await
        .unwrap();
    doc.append(&format!("{marker}-LESSON-TEXT")).await.unwrap();
    let mut live = Live::open(&pupil, "").await;
    live.sync(0).await;
    let private = live.thread("private");
    let (status, picture) = pupil
        .upload(
            &format!("/api/files?thread={private}&name=tegning.png"),
            "image/png",
            png_with(format!("{marker}-FILE-BYTES").as_bytes()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{picture}");
    live.request(
        json!({ "type": "send", "client_id": marker, "thread": private,
        "text": format!("{marker}-PRIVATE"), "file": picture["id"] }),
    )
    .await
    .unwrap();
    let mut reader = DocClient::connect(kari, &format!("lesson.{lesson_id}.class"))
        .await
        .unwrap();
    reader.until(|t| t.contains(marker)).await.unwrap();
    let (status, body) = kari
        .post(&format!("/api/lessons/{lesson_id}/end"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    lesson_id
}

#[tokio::test]
async fn what_is_older_than_the_schools_retention_goes_and_the_teacher_sees_when() {
    let server = TestServer::start_with(|c| c.limits.lesson_check_ms = 20).await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ola"]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let secret = card_secrets(&kari, &class_id).await[0].1.clone();

    let old_lesson = a_lesson_with(&server, &kari, &class_id, &secret, "OLD").await;
    server.clock.advance(200 * DAY_MS);
    let kari = server.sign_in("Kari").await;
    let _new_lesson = a_lesson_with(&server, &kari, &class_id, &secret, "NEW").await;

    let (status, overview) = kari.get("/api/retention").await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let lessons = &overview["rules"][0];
    assert_eq!(lessons["kind"], "lessons");
    assert_eq!(lessons["days"], 400);
    assert_eq!(lessons["count"], 2, "{overview}");
    let first_goes = lessons["next_deletion_ms"].as_u64().unwrap();
    let private = &overview["rules"][1];
    assert_eq!(private["count"], 2, "{overview}");

    // A year and a bit later the daily sweep has taken the first lesson and the old message.
    server.clock.advance(250 * DAY_MS);
    let kari = server.sign_in("Kari").await;
    assert!(tavla::clock::Clock::now_ms(server.clock.as_ref()) > first_goes);
    let mut past = Vec::new();
    for _ in 0..1000 {
        let (_, class_now) = kari.get(&format!("/api/classes/{class_id}")).await;
        past = class_now["past_lessons"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if past.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(past.len(), 1, "only the newer lesson is left: {past:?}");
    assert_ne!(past[0]["id"], old_lesson.as_str());
    let data_dir = server.dir.path().to_path_buf();
    let mut gone = false;
    for _ in 0..1000 {
        gone = store_files_holding(&data_dir, "OLD-PRIVATE").is_empty()
            && store_files_holding(&data_dir, "OLD-LESSON-TEXT").is_empty()
            && store_files_holding(&data_dir, "OLD-FILE-BYTES").is_empty();
        if gone {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        gone,
        "the old lesson and message are gone from the store's files"
    );
    for kept in ["NEW-PRIVATE", "NEW-LESSON-TEXT", "NEW-FILE-BYTES"] {
        assert!(
            !store_files_holding(&data_dir, kept).is_empty(),
            "{kept} is kept"
        );
    }
    let (_, overview) = kari.get("/api/retention").await;
    assert_eq!(overview["rules"][0]["count"], 1, "{overview}");
    assert_eq!(overview["rules"][1]["count"], 1, "{overview}");
}
