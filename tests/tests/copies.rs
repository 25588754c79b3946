//! Copies of documents: templates handed out to each pupil or group, named and automatic
//! versions, and restoring a version as a new document for the same people.

use reqwest::{Method, StatusCode};
use tavla_e2e::serde_json::{json, Value};
use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;

struct Lesson {
    server: TestServer,
    teacher: User,
    lesson_id: String,
    code: String,
    ada: User,
    bo: User,
}

async fn lesson() -> Lesson {
    lesson_on(TestServer::start().await).await
}

async fn lesson_on(server: TestServer) -> Lesson {
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &[]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap().to_string();
    Lesson {
        ada: guest(&server, &code, "Ada").await,
        bo: guest(&server, &code, "Bo").await,
        teacher,
        lesson_id: lesson["id"].as_str().unwrap().to_string(),
        code,
        server,
    }
}

impl Lesson {
    fn doc(&self, which: &str) -> String {
        format!("lesson.{}.{which}", self.lesson_id)
    }

    /// Writes `text` into a document as the teacher and waits until the server holds it.
    async fn teacher_writes(&self, doc: &str, text: &str) {
        let mut writer = DocClient::connect(&self.teacher, doc).await.unwrap();
        writer.append(text).await.unwrap();
        let mut reader = DocClient::connect(&self.teacher, doc).await.unwrap();
        reader.until(|t| t.ends_with(text)).await.unwrap();
    }

    /// The teacher hands `doc` out (`to` pupils or groups) under `title`.
    async fn hand_out(&self, doc: &str, to: &str, title: &str) -> (StatusCode, Value) {
        self.teacher
            .post(
                &format!("/api/docs/{doc}/hand-out"),
                json!({ "to": to, "title": title }),
            )
            .await
    }

    async fn participant_id(&self, name: &str) -> String {
        let mut live = Live::open(&self.teacher, &format!("?lesson={}", self.lesson_id)).await;
        let presence = live.until_type("presence").await;
        presence["participants"]
            .as_array()
            .expect("participants")
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {presence}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// The copies a user's document list shows.
async fn copies_of(user: &User) -> Vec<Value> {
    let (status, list) = user.get("/api/docs").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["docs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "copy")
        .cloned()
        .collect()
}

async fn text_of(user: &User, doc: &str) -> String {
    DocClient::connect(user, doc).await.unwrap().text()
}

#[tokio::test]
async fn a_template_handed_out_gives_every_pupil_their_own_copy_also_latecomers() {
    let l = lesson().await;
    let template = l.doc("notes");
    l.teacher_writes(&template, "Skriv om vikingene.").await;
    let mut ada_live = Live::open(&l.ada, "").await;

    let (status, body) = l.hand_out(&template, "pupils", "Oppgave 1").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["docs"].as_array().unwrap().len(), 2);

    let pushed = ada_live.until_type("docs_added").await;
    let ada_copies = copies_of(&l.ada).await;
    assert_eq!(
        ada_copies.len(),
        1,
        "Ada sees her copy only: {ada_copies:?}"
    );
    let ada_copy = ada_copies[0]["name"].as_str().unwrap().to_string();
    assert_eq!(
        pushed["docs"],
        json!([ada_copy]),
        "only Ada's copy is pushed to her"
    );
    assert_eq!(ada_copies[0]["copy_title"], "Oppgave 1");
    assert_eq!(ada_copies[0]["writable"], true);
    let bo_copy = copies_of(&l.bo).await[0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(ada_copy, bo_copy);

    // Each copy starts as the template and is edited on its own.
    let mut ada_doc = DocClient::connect(&l.ada, &ada_copy).await.unwrap();
    assert_eq!(ada_doc.text(), "Skriv om vikingene.");
    ada_doc.append(" Vikingene seilte.").await.unwrap();
    let mut teacher_view = DocClient::connect(&l.teacher, &ada_copy).await.unwrap();
    teacher_view
        .until(|t| t.ends_with("seilte."))
        .await
        .unwrap();
    assert_eq!(text_of(&l.bo, &bo_copy).await, "Skriv om vikingene.");
    assert_eq!(text_of(&l.teacher, &template).await, "Skriv om vikingene.");

    // Nobody opens another pupil's copy.
    let refused = DocClient::connect(&l.bo, &ada_copy).await;
    assert!(refused.is_err(), "Bo must not open Ada's copy");
    let (status, _) = l.bo.get(&format!("/api/docs/{ada_copy}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A pupil who joins later finds their copy waiting.
    let cyd = guest(&l.server, &l.code, "Cyd").await;
    let cyd_copies = copies_of(&cyd).await;
    assert_eq!(cyd_copies.len(), 1);
    assert_eq!(
        text_of(&cyd, cyd_copies[0]["name"].as_str().unwrap()).await,
        "Skriv om vikingene."
    );

    // The teacher's overview lists every copy with whose it is.
    let (_, all) = l
        .teacher
        .get(&format!("/api/docs?lesson={}", l.lesson_id))
        .await;
    let owners: Vec<&str> = all["docs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "copy")
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["Ada", "Bo", "Cyd"]);
}

#[tokio::test]
async fn a_template_handed_out_to_groups_opens_for_the_members_only() {
    let l = lesson().await;
    let template = l.doc("class");
    l.teacher_writes(&template, "Gruppeoppgave").await;
    let (status, body) = l.hand_out(&template, "groups", "Gruppeoppgave").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no groups yet: {body}");

    let ada_id = l.participant_id("Ada").await;
    let (status, _) = l
        .teacher
        .send(
            Method::PUT,
            &format!("/api/lessons/{}/groups", l.lesson_id),
            Some(json!({ "groups": [[ada_id]] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = l.hand_out(&template, "groups", "Gruppeoppgave").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let copy = body["docs"][0].as_str().unwrap().to_string();
    assert_eq!(text_of(&l.ada, &copy).await, "Gruppeoppgave");
    assert!(DocClient::connect(&l.bo, &copy).await.is_err());
    assert!(copies_of(&l.bo).await.is_empty());
    assert_eq!(copies_of(&l.ada).await[0]["group"], 1);
}

#[tokio::test]
async fn a_saved_version_restores_as_a_copy_for_the_same_people_and_the_original_stays() {
    let l = lesson().await;
    let ada_doc = own_doc(&l.ada).await;
    let mut writer = DocClient::connect(&l.ada, &ada_doc).await.unwrap();
    writer.append("Første utkast.").await.unwrap();
    let mut teacher_view = DocClient::connect(&l.teacher, &ada_doc).await.unwrap();
    teacher_view.until(|t| t == "Første utkast.").await.unwrap();

    let versions = format!("/api/docs/{ada_doc}/versions");
    let (status, saved) = l
        .teacher
        .post(&versions, json!({ "label": "Før tilbakemelding" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    writer.append(" Andre utkast.").await.unwrap();
    teacher_view
        .until(|t| t.ends_with("Andre utkast."))
        .await
        .unwrap();

    let (_, listed) = l.teacher.get(&versions).await;
    let listed = listed["versions"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["label"], "Før tilbakemelding");
    assert_eq!(listed[0]["auto"], false);
    let id = listed[0]["id"].as_str().unwrap();

    let (status, restored) = l
        .teacher
        .post(
            &format!("{versions}/{id}/copy"),
            json!({ "title": "Før tilbakemelding (kopi)" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{restored}");
    let copy = restored["doc"]["name"].as_str().unwrap().to_string();
    assert_eq!(text_of(&l.ada, &copy).await, "Første utkast.");
    assert_eq!(
        text_of(&l.ada, &ada_doc).await,
        "Første utkast. Andre utkast."
    );
    assert!(
        DocClient::connect(&l.bo, &copy).await.is_err(),
        "a copy of Ada's document is Ada's"
    );
}

#[tokio::test]
async fn ending_the_lesson_keeps_a_version_of_every_document_with_content() {
    let l = lesson().await;
    let class_doc = l.doc("class");
    l.teacher_writes(&class_doc, "Dagens tekst").await;
    let (status, _) = l
        .teacher
        .post(&format!("/api/lessons/{}/end", l.lesson_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, class_versions) = l
        .teacher
        .get(&format!("/api/docs/{class_doc}/versions"))
        .await;
    let class_versions = class_versions["versions"].as_array().unwrap();
    assert_eq!(class_versions.len(), 1);
    assert_eq!(class_versions[0]["auto"], true);
    let (_, notes_versions) = l
        .teacher
        .get(&format!("/api/docs/{}/versions", l.doc("notes")))
        .await;
    assert_eq!(
        notes_versions["versions"],
        json!([]),
        "empty documents get no version"
    );
}

#[tokio::test]
async fn a_lesson_that_runs_out_keeps_a_version_too_and_its_pages_hear_it_ended() {
    let l = lesson_on(TestServer::start_with(|c| c.limits.lesson_check_ms = 20).await).await;
    let class_doc = l.doc("class");
    l.teacher_writes(&class_doc, "Tekst fra timen").await;
    let mut ada = Live::open(&l.ada, "").await;
    // Past the default 10 hours: the box finds the lesson over by itself.
    l.server.clock.advance(11 * 3600 * 1000);
    ada.until_type("lesson_ended").await;
    let (_, versions) = l
        .teacher
        .get(&format!("/api/docs/{class_doc}/versions"))
        .await;
    let versions = versions["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions[0]["auto"], true);
}

#[tokio::test]
async fn history_and_hand_out_refuse_the_wrong_people_and_bad_requests() {
    let l = lesson().await;
    let class_doc = l.doc("class");
    l.teacher_writes(&class_doc, "Tekst").await;
    let other = l.server.invited_teacher(&l.teacher, "Per").await;
    let nobody = l.server.client();
    let versions = format!("/api/docs/{class_doc}/versions");
    let hand_out = format!("/api/docs/{class_doc}/hand-out");
    let save = json!({ "label": "v1" });
    let give = json!({ "to": "pupils", "title": "Oppgave" });
    for (user, expected) in [
        (&nobody, StatusCode::UNAUTHORIZED),
        (&l.ada, StatusCode::FORBIDDEN),
        (&other, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(user.get(&versions).await.0, expected);
        assert_eq!(user.post(&versions, save.clone()).await.0, expected);
        assert_eq!(user.post(&hand_out, give.clone()).await.0, expected);
    }
    assert!(copies_of(&l.ada).await.is_empty(), "nothing was handed out");

    let (status, saved) = l.teacher.post(&versions, save).await;
    assert_eq!(status, StatusCode::CREATED);
    let restore = format!(
        "{versions}/{}/copy",
        saved["version"]["id"].as_str().unwrap()
    );
    for (user, expected) in [
        (&nobody, StatusCode::UNAUTHORIZED),
        (&l.ada, StatusCode::FORBIDDEN),
        (&other, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = user.post(&restore, json!({ "title": "Kopi" })).await;
        assert_eq!(status, expected);
    }

    let long = "x".repeat(81);
    for (path, body) in [
        (&versions, json!({ "label": "" })),
        (&versions, json!({ "label": long })),
        (&versions, json!({ "label": 7 })),
        (&versions, json!({ "label": "a", "extra": 1 })),
        (&hand_out, json!({ "to": "everyone", "title": "x" })),
        (&hand_out, json!({ "to": "pupils", "title": "" })),
        (&restore, json!({ "title": long })),
    ] {
        let (status, body) = l.teacher.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}");
    }
    let (status, _) = l
        .teacher
        .post(
            &format!("{versions}/0000000000000-abcdef/copy"),
            json!({ "title": "Kopi" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = l
        .teacher
        .post(
            &format!("/api/docs/{}/versions", l.doc("notes")),
            json!({ "label": "tom" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an empty document has nothing to keep"
    );
    assert!(copies_of(&l.ada).await.is_empty());
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-png-magic-is-what-is-checked";

#[tokio::test]
async fn images_in_documents_are_for_who_may_read_the_document_or_a_copy_of_it() {
    let l = lesson().await;
    let notes = l.doc("notes");
    let ada_doc = own_doc(&l.ada).await;
    let upload = |doc: &str| format!("/api/files?doc={doc}&name=elg.png");

    // A pupil puts a picture into her own document; the teacher sees it, Bo does not.
    let (status, own) = l
        .ada
        .upload(&upload(&ada_doc), "image/png", PNG.to_vec())
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let own_path = format!("/api/files/{}", own["id"].as_str().unwrap());
    let (status, _, bytes) = l.teacher.download(&own_path).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));
    assert_eq!(l.bo.download(&own_path).await.0, StatusCode::NOT_FOUND);

    // Nobody puts pictures into documents they may not write, and documents take pictures only.
    assert_eq!(
        l.bo.upload(&upload(&ada_doc), "image/png", PNG.to_vec())
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        l.bo.upload(&upload(&notes), "image/png", PNG.to_vec())
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let nobody = l.server.client();
    assert_eq!(
        nobody
            .upload(&upload(&ada_doc), "image/png", PNG.to_vec())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = l
        .teacher
        .send(
            Method::PUT,
            &format!("/api/docs/{}/settings", l.doc("class")),
            Some(json!({ "read_only": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        l.ada
            .upload(&upload(&l.doc("class")), "image/png", PNG.to_vec())
            .await
            .0,
        StatusCode::FORBIDDEN,
        "a locked document takes no pictures from pupils"
    );
    let (status, body) = l
        .teacher
        .upload(&upload(&notes), "application/pdf", b"%PDF-1.4".to_vec())
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) = l
        .teacher
        .upload("/api/files?name=elg.png", "image/png", PNG.to_vec())
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "neither thread nor doc: {body}"
    );

    // The teacher's picture in the notes reaches pupils only with a copy handed out to them.
    let (status, pic) = l
        .teacher
        .upload(&upload(&notes), "image/png", PNG.to_vec())
        .await;
    assert_eq!(status, StatusCode::OK);
    let pic_path = format!("/api/files/{}", pic["id"].as_str().unwrap());
    assert_eq!(l.ada.download(&pic_path).await.0, StatusCode::NOT_FOUND);
    l.teacher_writes(&notes, "Se på bildet.").await;
    let (status, _) = l.hand_out(&notes, "pupils", "Bildeoppgave").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, bytes) = l.ada.download(&pic_path).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));
}
