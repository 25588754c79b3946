//! Access that ends when it should: for each use-case that takes access away (remove a pupil
//! from the lesson, end the lesson, log out, reissue a card, delete a pupil from the class
//! list), the affected open connections — the live socket `/ws` and a document on `/yjs` — are
//! closed with the documented code, an edit sent after that is not in the stored document
//! (read back after a restart), and everyone else carries on. Plus awareness: a connection
//! speaks only for its own cursor.

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;

struct Classroom {
    server: TestServer,
    kari: User,
    class_id: String,
    lesson_id: String,
    /// Rostered pupils signed in by their cards.
    ola: User,
    sara: User,
    ola_pupil_id: String,
    ola_card: String,
    class_doc: String,
}

async fn card_login(server: &TestServer, secret: &str) -> (User, StatusCode) {
    let pupil = server.client();
    let (status, _) = pupil
        .post("/api/card-login", json!({ "secret": secret }))
        .await;
    (pupil, status)
}

async fn classroom() -> Classroom {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ola", "Sara"]).await;
    let class_id = class["id"].as_str().unwrap().to_string();
    let lesson = start_lesson(&kari, &class_id).await;
    let lesson_id = lesson["id"].as_str().unwrap().to_string();
    let cards = card_secrets(&kari, &class_id).await;
    let card_of = |name: &str| cards.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let (ola, status) = card_login(&server, &card_of("Ola")).await;
    assert_eq!(status, StatusCode::OK);
    let (sara, status) = card_login(&server, &card_of("Sara")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, docs) = kari.get(&format!("/api/docs?lesson={lesson_id}")).await;
    let class_doc = docs["docs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "class")
        .expect("the class document")["name"]
        .as_str()
        .unwrap()
        .to_string();
    let ola_pupil_id = class["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Ola")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Classroom {
        ola_card: card_of("Ola"),
        server,
        kari,
        class_id,
        lesson_id,
        ola,
        sara,
        ola_pupil_id,
        class_doc,
    }
}

/// Everyone in the class document, with something written before anything happens.
struct InTheDocument {
    kari: DocClient,
    ola: DocClient,
    sara: DocClient,
}

async fn everyone_writing(c: &Classroom) -> InTheDocument {
    let mut kari = DocClient::connect(&c.kari, &c.class_doc).await.unwrap();
    let mut ola = DocClient::connect(&c.ola, &c.class_doc).await.unwrap();
    let sara = DocClient::connect(&c.sara, &c.class_doc).await.unwrap();
    ola.append("before ").await.unwrap();
    kari.until(|t| t.contains("before")).await.unwrap();
    InTheDocument { kari, ola, sara }
}

/// Sends an edit on a connection whose access was just taken away, then reads its close code.
/// The edit goes out after the use-case answered, so it must not be kept.
async fn write_after_and_close(mut doc: DocClient, text: &str) -> Option<u16> {
    let _ = doc.append(text).await;
    doc.closed_with().await
}

/// The class document's text as stored, after a restart.
async fn stored_text(c: Classroom) -> String {
    let (_server, kari) = c.server.restart_signed_in("Kari").await;
    let doc = DocClient::connect(&kari, &c.class_doc).await.unwrap();
    doc.text()
}

/// Sara goes on writing and Kari sees it: nobody else was disturbed.
async fn others_carry_on(doc: &mut InTheDocument) {
    doc.sara.append("still here ").await.unwrap();
    doc.kari.until(|t| t.contains("still here")).await.unwrap();
}

#[tokio::test]
async fn a_pupil_removed_from_the_lesson_is_cut_off_at_once_and_hears_nothing_more() {
    let c = classroom().await;
    let mut doc = everyone_writing(&c).await;
    let mut ola_live = Live::open(&c.ola, "").await;
    let mut sara_live = Live::open(&c.sara, "").await;
    let mut kari_live = Live::open(&c.kari, &format!("?lesson={}", c.lesson_id)).await;

    let participant = format!("p-{}", c.ola_pupil_id);
    let (status, body) = c
        .kari
        .delete(&format!(
            "/api/lessons/{}/participants/{participant}",
            c.lesson_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(write_after_and_close(doc.ola, "ghost").await, Some(4002));
    assert_eq!(ola_live.closed_with().await, Some(4002));
    assert!(ola_live.ever_saw("removed"), "told why before the close");
    let (status, _) = c.ola.get("/api/docs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session is over too");

    // Kari announces and hands out; Sara hears it, Ola's closed connection heard nothing.
    kari_live.sync(0).await;
    sara_live.sync(0).await;
    let threads = sara_live.thread("announcements");
    kari_live
        .request(
            json!({ "type": "send", "client_id": "a1", "thread": threads, "text": "Husk gymtøy" }),
        )
        .await
        .unwrap();
    sara_live
        .until(|m| m.to_string().contains("Husk gymtøy"))
        .await;
    assert!(!ola_live.ever_saw("Husk gymtøy"));

    doc.ola = DocClient::connect(&c.sara, &c.class_doc).await.unwrap();
    others_carry_on(&mut doc).await;
    let text = stored_text(c).await;
    assert!(
        text.contains("before") && text.contains("still here"),
        "{text}"
    );
    assert!(
        !text.contains("ghost"),
        "an edit after removal was kept: {text}"
    );
}

#[tokio::test]
async fn ending_the_lesson_closes_every_pupils_connection_and_the_teachers_lesson_socket() {
    let c = classroom().await;
    let doc = everyone_writing(&c).await;
    let mut ola_live = Live::open(&c.ola, "").await;
    let mut kari_live = Live::open(&c.kari, &format!("?lesson={}", c.lesson_id)).await;

    let (status, _) = c
        .kari
        .post(&format!("/api/lessons/{}/end", c.lesson_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(write_after_and_close(doc.ola, "ghost").await, Some(4001));
    assert_eq!(write_after_and_close(doc.sara, "ghost2").await, Some(4001));
    assert_eq!(ola_live.closed_with().await, Some(4001));
    assert!(ola_live.ever_saw("lesson_ended"));
    assert_eq!(kari_live.closed_with().await, Some(4001));
    // The teacher's documents outlive the lesson: her editor stays open.
    let mut kari_doc = doc.kari;
    kari_doc.append("notes after ").await.unwrap();
    let (status, _) = c.sara.get("/api/docs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    drop(kari_doc);
    let text = stored_text(c).await;
    assert!(text.contains("before"), "{text}");
    assert!(
        !text.contains("ghost"),
        "an edit after the end was kept: {text}"
    );
}

#[tokio::test]
async fn logging_out_closes_that_sign_ins_connections_and_nobody_elses() {
    let c = classroom().await;
    let mut doc = everyone_writing(&c).await;
    let mut ola_live = Live::open(&c.ola, "").await;

    let (status, _) = c.ola.post("/api/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(write_after_and_close(doc.ola, "ghost").await, Some(4004));
    assert_eq!(ola_live.closed_with().await, Some(4004));

    // The teacher logs out: her connections close, the pupils' do not.
    let mut kari_live = Live::open(&c.kari, &format!("?lesson={}", c.lesson_id)).await;
    let (status, _) = c.kari.post("/api/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kari_live.closed_with().await, Some(4004));
    let kari_doc = std::mem::replace(
        &mut doc.kari,
        DocClient::connect(&c.sara, &c.class_doc).await.unwrap(),
    );
    assert_eq!(
        write_after_and_close(kari_doc, "teacher ghost").await,
        Some(4004)
    );
    doc.sara.append("still here ").await.unwrap();
    doc.kari.until(|t| t.contains("still here")).await.unwrap();

    let text = stored_text(c).await;
    assert!(!text.contains("ghost"), "{text}");
    assert!(text.contains("still here"), "{text}");
}

#[tokio::test]
async fn a_reissued_card_ends_what_the_old_one_signed_in() {
    let c = classroom().await;
    let mut doc = everyone_writing(&c).await;
    let mut ola_live = Live::open(&c.ola, "").await;

    let (status, fresh) = c
        .kari
        .post(
            &format!("/api/classes/{}/pupils/{}/card", c.class_id, c.ola_pupil_id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert_eq!(write_after_and_close(doc.ola, "ghost").await, Some(4005));
    assert_eq!(ola_live.closed_with().await, Some(4005));
    let (status, _) = c.ola.get("/api/docs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, status) = card_login(&c.server, &c.ola_card).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old card is void");
    let cards = card_secrets(&c.kari, &c.class_id).await;
    let new_card = &cards.iter().find(|(n, _)| n == "Ola").unwrap().1;
    let (again, status) = card_login(&c.server, new_card).await;
    assert_eq!(status, StatusCode::OK, "the new card signs him in");
    doc.ola = DocClient::connect(&again, &c.class_doc).await.unwrap();
    others_carry_on(&mut doc).await;

    let text = stored_text(c).await;
    assert!(!text.contains("ghost"), "{text}");
}

#[tokio::test]
async fn a_pupil_deleted_from_the_class_list_leaves_the_running_lesson_too() {
    let c = classroom().await;
    let mut doc = everyone_writing(&c).await;
    let mut ola_live = Live::open(&c.ola, "").await;
    let mut kari_live = Live::open(&c.kari, &format!("?lesson={}", c.lesson_id)).await;

    let (status, _) = c
        .kari
        .delete(&format!(
            "/api/classes/{}/pupils/{}",
            c.class_id, c.ola_pupil_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(write_after_and_close(doc.ola, "ghost").await, Some(4002));
    assert_eq!(ola_live.closed_with().await, Some(4002));
    let (_, status) = card_login(&c.server, &c.ola_card).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The teacher's list no longer has him.
    let (_, list) = c
        .kari
        .get(&format!("/api/lessons/{}/participants", c.lesson_id))
        .await;
    assert!(!list.to_string().contains("Ola"), "{list}");
    kari_live.until_type("presence").await;

    doc.ola = DocClient::connect(&c.sara, &c.class_doc).await.unwrap();
    others_carry_on(&mut doc).await;
    let text = stored_text(c).await;
    assert!(!text.contains("ghost"), "{text}");
}

#[tokio::test]
async fn deleting_the_class_ends_its_lesson_and_leaves_nothing_of_it() {
    let c = classroom().await;
    let doc = everyone_writing(&c).await;
    let mut ola_live = Live::open(&c.ola, "").await;
    let mut kari_live = Live::open(&c.kari, &format!("?lesson={}", c.lesson_id)).await;
    // Another class of the same teacher carries on.
    let other = class_with(&c.kari, "8A", &["Per"]).await;
    let other_id = other["id"].as_str().unwrap().to_string();
    let other_lesson = start_lesson(&c.kari, &other_id).await;
    let per = guest(
        &c.server,
        other_lesson["code"].as_str().unwrap(),
        "Gjest Per",
    )
    .await;
    let other_doc = format!("lesson.{}.class", other_lesson["id"].as_str().unwrap());
    let mut per_doc = DocClient::connect(&per, &other_doc).await.unwrap();

    let (status, body) = c.kari.delete(&format!("/api/classes/{}", c.class_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["deleted"]["lessons"].as_u64() > Some(0), "{body}");
    assert_eq!(write_after_and_close(doc.ola, "ghost").await, Some(4001));
    assert_eq!(ola_live.closed_with().await, Some(4001));
    assert_eq!(kari_live.closed_with().await, Some(4001));
    assert_eq!(doc.sara.closed_with().await, Some(4001));
    drop(doc.kari);
    let (_, status) = card_login(&c.server, &c.ola_card).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = c.kari.get(&format!("/api/classes/{}", c.class_id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, classes) = c.kari.get("/api/classes").await;
    assert_eq!(
        classes["classes"].as_array().map(Vec::len),
        Some(1),
        "{classes}"
    );

    per_doc.append("still here").await.unwrap();
    let mut kari_other = DocClient::connect(&c.kari, &other_doc).await.unwrap();
    kari_other
        .until(|t| t.contains("still here"))
        .await
        .unwrap();
    drop((per_doc, kari_other));

    // After a restart: the class document is gone, with Ola's and Sara's names.
    let class_doc = c.class_doc.clone();
    let dir = c.server.dir.path().to_path_buf();
    let (_server, kari) = c.server.restart_signed_in("Kari").await;
    let (status, _) = kari.get(&format!("/api/docs/{class_doc}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for trace in ["Ola", "Sara", "before", "7B"] {
        assert!(
            store_files_holding(&dir, trace).is_empty(),
            "{trace} is still in the store's files"
        );
    }
}

/// y-websocket awareness frame: one client's state (lib0 v1), as `awareness.encodeAwarenessUpdate`.
fn awareness_frame(client: u64, clock: u64, state: &str) -> Vec<u8> {
    fn var_uint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    let mut update = Vec::new();
    var_uint(&mut update, 1);
    var_uint(&mut update, client);
    var_uint(&mut update, clock);
    var_uint(&mut update, state.len() as u64);
    update.extend_from_slice(state.as_bytes());
    let mut frame = vec![1];
    var_uint(&mut frame, update.len() as u64);
    frame.extend(update);
    frame
}

#[tokio::test]
async fn a_pupil_cannot_move_or_rename_the_teachers_cursor() {
    let c = classroom().await;
    let mut kari = DocClient::connect(&c.kari, &c.class_doc).await.unwrap();
    let mut sara = DocClient::connect(&c.sara, &c.class_doc).await.unwrap();
    let mut ola = DocClient::connect(&c.ola, &c.class_doc).await.unwrap();
    kari.send(awareness_frame(
        501,
        1,
        r##"{"user":{"name":"Kari","color":"#00f"}}"##,
    ))
    .await
    .unwrap();
    let seen = sara.next_awareness_frame().await;
    assert!(seen.contains("Kari") && seen.contains("teacher"), "{seen}");

    // Ola claims Kari's client id with a newer clock: refused, closed, nothing passed on.
    ola.send(awareness_frame(
        501,
        2,
        r#"{"user":{"name":"Ola was here","role":"teacher"}}"#,
    ))
    .await
    .unwrap();
    assert_eq!(ola.closed_with().await, Some(4006));

    // Ola, connected again, speaks for his own cursor: his name and role, not what he claims.
    let mut ola = DocClient::connect(&c.ola, &c.class_doc).await.unwrap();
    ola.send(awareness_frame(
        777,
        1,
        r#"{"user":{"name":"Kari","role":"teacher"}}"#,
    ))
    .await
    .unwrap();
    let seen = sara.next_awareness_frame().await;
    assert!(
        seen.contains(r#""name":"Ola""#) && seen.contains(r#""role":"pupil""#),
        "{seen}"
    );
    assert!(!seen.contains("Ola was here"), "{seen}");
    drop(kari);
}
