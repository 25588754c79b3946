//! Room for files: a pupil with a script cannot fill the box. A sender, a lesson and the box
//! each have a share; past it a clear error comes back, the documents and messages go on, and
//! the disk always keeps a reserve for them.

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;

/// A picture of `size` bytes (PNG by its first bytes).
fn picture(size: usize) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(size, 7);
    png
}

#[tokio::test]
async fn uploads_stop_at_their_share_and_documents_go_on() {
    let server = TestServer::start_with(|c| {
        c.limits.upload_quota_per_sender_bytes = 100_000;
        c.limits.upload_quota_per_lesson_bytes = 150_000;
        c.limits.min_free_disk_bytes = 0;
    })
    .await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    let doc = format!("lesson.{}.class", lesson["id"].as_str().unwrap());
    let per = guest(&server, code, "Per").await;
    let siv = guest(&server, code, "Siv").await;
    let into_doc = format!("/api/files?doc={doc}&name=bilde.png");

    for _ in 0..2 {
        let (status, body) = per.upload(&into_doc, "image/png", picture(40_000)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = per.upload(&into_doc, "image/png", picture(40_000)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "quota_exceeded", "{body}");
    // Siv has a share of her own, until the lesson's is spent.
    let (status, _) = siv.upload(&into_doc, "image/png", picture(40_000)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = siv.upload(&into_doc, "image/png", picture(40_000)).await;
    assert_eq!(body["error"]["code"], "quota_exceeded", "{body}");
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // The class document still takes everyone's edits.
    let mut kari_doc = DocClient::connect(&kari, &doc).await.unwrap();
    let mut per_doc = DocClient::connect(&per, &doc).await.unwrap();
    per_doc.append("fortsatt her ").await.unwrap();
    kari_doc
        .until(|t| t.contains("fortsatt her"))
        .await
        .unwrap();
    drop((kari_doc, per_doc));

    // The disk keeps its reserve: with less free than that, files and what pupils add to
    // documents are refused (507, 4014), the teacher's edits go on, and the store is whole
    // after the restart.
    let addr = server.running.https_addr;
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, |c| {
        c.listen = addr;
        c.limits.min_free_disk_bytes = u64::MAX / 4;
    })
    .await;
    let (status, body) = siv.upload(&into_doc, "image/png", picture(1_000)).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["error"]["code"], "disk_full");
    let mut per_doc = DocClient::connect(&per, &doc).await.unwrap();
    assert!(per_doc.text().contains("fortsatt her"));
    assert_eq!(per_doc.append_taken("og her ").await, Err(Some(4014)));
    let mut kari_doc = DocClient::connect(&kari, &doc).await.unwrap();
    kari_doc.append_taken("læreren skriver ").await.unwrap();
    drop(server);
}

/// A file uploaded for a message but never sent is deleted after `unsent_upload_ms`; one that
/// went out in a message stays.
#[tokio::test]
async fn files_never_sent_are_swept_away_and_sent_ones_stay() {
    let server = TestServer::start_with(|c| {
        c.limits.unsent_upload_ms = 60_000;
        c.limits.lesson_check_ms = 20;
    })
    .await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let per = guest(&server, lesson["code"].as_str().unwrap(), "Per").await;
    let mut live = Live::open(&per, "").await;
    live.sync(0).await;
    let thread = live.thread("private");
    let path = format!("/api/files?thread={thread}&name=tekst.txt");
    let (_, sent) = per.upload(&path, "text/plain", b"sendt".to_vec()).await;
    let (_, unsent) = per
        .upload(&path, "text/plain", b"aldri sendt".to_vec())
        .await;
    let (sent, unsent) = (sent["id"].as_str().unwrap(), unsent["id"].as_str().unwrap());
    live.request(
        json!({ "type": "send", "client_id": "c1", "thread": thread, "text": "", "file": sent }),
    )
    .await
    .unwrap();

    server.clock.advance(61_000);
    let mut gone = false;
    for _ in 0..200 {
        if per.download(&format!("/api/files/{unsent}")).await.0 == StatusCode::NOT_FOUND {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "the unsent file is swept away");
    assert_eq!(
        kari.download(&format!("/api/files/{sent}")).await.0,
        StatusCode::OK,
        "the sent one stays"
    );
}

/// `n` kilobytes of text.
fn kb(n: usize) -> String {
    "x".repeat(n * 1000)
}

fn device(n: u8) -> Option<std::net::IpAddr> {
    Some(std::net::IpAddr::from([127, 0, 0, n]))
}

/// Finding 1 of the second hardening round: guests from one device each filling their own
/// document filled the disk. Now a person, a device and a lesson each have a share of what
/// documents may take; the teacher's writes go on, and a restart gives nobody a fresh share.
fn small_shares(c: &mut tavla::Config) {
    c.limits.min_free_disk_bytes = 0;
    c.limits.doc_quota_per_person_bytes = 100_000;
    c.limits.doc_quota_per_address_bytes = 180_000;
    c.limits.doc_quota_per_lesson_bytes = 250_000;
}

#[tokio::test]
async fn documents_stop_at_each_persons_devices_and_lessons_share() {
    let server = TestServer::start_with(small_shares).await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    let class_doc = format!("lesson.{}.class", lesson["id"].as_str().unwrap());

    // Per and Siv on one device: 40 kB at a time into their own documents.
    let per = guest_from(&server, code, "Per", device(2)).await;
    let per_doc = own_doc(&per).await;
    let mut writing = DocClient::connect(&per, &per_doc).await.unwrap();
    writing.append_taken(&kb(40)).await.unwrap();
    writing.append_taken(&kb(40)).await.unwrap();
    assert_eq!(
        writing.append_taken(&kb(40)).await,
        Err(Some(4014)),
        "past Per's own share"
    );
    let siv = guest_from(&server, code, "Siv", device(2)).await;
    let mut writing = DocClient::connect(&siv, &own_doc(&siv).await)
        .await
        .unwrap();
    writing.append_taken(&kb(40)).await.unwrap();
    writing.append_taken(&kb(40)).await.unwrap();
    // A third guest on the same device: the device's share is spent, though hers is not.
    let ola = guest_from(&server, code, "Ola", device(2)).await;
    let mut writing = DocClient::connect(&ola, &own_doc(&ola).await)
        .await
        .unwrap();
    assert_eq!(writing.append_taken(&kb(40)).await, Err(Some(4014)));

    // Other devices go on, until the lesson's share is spent.
    let ada = guest_from(&server, code, "Ada", device(3)).await;
    let mut writing = DocClient::connect(&ada, &own_doc(&ada).await)
        .await
        .unwrap();
    writing.append_taken(&kb(40)).await.unwrap();
    writing.append_taken(&kb(40)).await.unwrap();
    let bo = guest_from(&server, code, "Bo", device(4)).await;
    let mut writing = DocClient::connect(&bo, &own_doc(&bo).await).await.unwrap();
    assert_eq!(
        writing.append_taken(&kb(40)).await,
        Err(Some(4014)),
        "past the lesson's share"
    );

    // The teacher writes on, into the class document and a pupil's.
    let mut teacher = DocClient::connect(&kari, &class_doc).await.unwrap();
    teacher.append_taken(&kb(60)).await.unwrap();
    let mut teacher = DocClient::connect(&kari, &per_doc).await.unwrap();
    teacher.append_taken(&kb(10)).await.unwrap();

    // A restart gives nobody a fresh share.
    let addr = server.running.https_addr;
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, |c| {
        small_shares(c);
        c.listen = addr;
    })
    .await;
    let mut writing = DocClient::connect(&per, &per_doc).await.unwrap();
    assert!(writing.text().len() >= 80_000, "Per's text is kept");
    assert_eq!(writing.append_taken(&kb(40)).await, Err(Some(4014)));
    drop(server);
}

/// Finding 3: one pupil could fill the class document so that nobody could write in it. Now
/// each writer has a share of a document others write in too; the others go on, the teacher
/// writes past a full document, and the overview names who filled it.
#[tokio::test]
async fn one_pupil_cannot_freeze_the_class_document() {
    let server = TestServer::start_with(|c| {
        c.limits.min_free_disk_bytes = 0;
        c.limits.doc_share_of_shared_bytes = 60_000;
        c.limits.max_doc_bytes = 150_000;
    })
    .await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let lesson_id = lesson["id"].as_str().unwrap();
    let code = lesson["code"].as_str().unwrap();
    let class_doc = format!("lesson.{lesson_id}.class");

    let per = guest_from(&server, code, "Per", device(2)).await;
    let mut writing = DocClient::connect(&per, &class_doc).await.unwrap();
    writing.append_taken(&kb(50)).await.unwrap();
    assert_eq!(
        writing.append_taken(&kb(20)).await,
        Err(Some(4014)),
        "past Per's share of the class document"
    );
    // Others carry on.
    for (name, n) in [("Siv", 3), ("Ola", 4)] {
        let pupil = guest_from(&server, code, name, device(n)).await;
        let mut writing = DocClient::connect(&pupil, &class_doc).await.unwrap();
        writing.append_taken(&kb(45)).await.unwrap();
    }
    // Now the document is nearly full: a pupil's write that would pass it is refused...
    let ada = guest_from(&server, code, "Ada", device(5)).await;
    let mut writing = DocClient::connect(&ada, &class_doc).await.unwrap();
    assert_eq!(writing.append_taken(&kb(20)).await, Err(Some(4013)));
    // ...and the teacher still writes.
    let mut teacher = DocClient::connect(&kari, &class_doc).await.unwrap();
    teacher.append_taken(&kb(20)).await.unwrap();

    // The teacher's overview says who wrote most into it, against the share each has.
    let (status, list) = kari.get(&format!("/api/docs?lesson={lesson_id}")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let class_entry = list["docs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == class_doc.as_str())
        .expect("the class document")
        .clone();
    assert_eq!(class_entry["writers"][0]["name"], "Per", "{class_entry}");
    assert!(class_entry["writers"][0]["bytes"].as_u64().unwrap() >= 50_000);
    assert_eq!(class_entry["share_bytes"], 60_000);
    // A pupil's list says nothing about anyone's writing.
    let (_, theirs) = ada.get("/api/docs").await;
    assert!(!theirs.to_string().contains("writers"), "{theirs}");
}

/// Finding 5: one device joined as many guests and stored a file share for each. Now a device
/// has one share of its own, whoever signs in on it; other devices go on.
#[tokio::test]
async fn many_guests_on_one_device_share_one_devices_room_for_files() {
    let server = TestServer::start_with(|c| {
        c.limits.min_free_disk_bytes = 0;
        c.limits.upload_quota_per_sender_bytes = 60_000;
        c.limits.upload_quota_per_address_bytes = 100_000;
    })
    .await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    let into_doc = format!(
        "/api/files?doc=lesson.{}.class&name=bilde.png",
        lesson["id"].as_str().unwrap()
    );
    for name in ["Per", "Siv"] {
        let pupil = guest_from(&server, code, name, device(2)).await;
        let (status, body) = pupil.upload(&into_doc, "image/png", picture(40_000)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let ola = guest_from(&server, code, "Ola", device(2)).await;
    let (status, body) = ola.upload(&into_doc, "image/png", picture(40_000)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "quota_exceeded");
    let ada = guest_from(&server, code, "Ada", device(3)).await;
    let (status, body) = ada.upload(&into_doc, "image/png", picture(40_000)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another device has its own share: {body}"
    );
    // The teacher is never counted with the pupils' devices.
    let (status, body) = kari.upload(&into_doc, "image/png", picture(40_000)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
