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

    // The disk keeps its reserve: with less free than that, files are refused with 507, the
    // document goes on, and the store is whole after the restart.
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
    per_doc.append("og her ").await.unwrap();
    let mut kari_doc = DocClient::connect(&kari, &doc).await.unwrap();
    kari_doc.until(|t| t.contains("og her")).await.unwrap();
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
