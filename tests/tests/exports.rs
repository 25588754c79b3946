//! Exports: one document as HTML, Markdown or text for whoever may read it; a whole lesson as
//! a zip for its teacher only; bad formats and strangers get clear refusals.

use std::io::{Cursor, Read};

use reqwest::StatusCode;
use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;

struct Lesson {
    teacher: User,
    lesson_id: String,
    ada: User,
    bo: User,
}

async fn lesson_with_writing(server: &TestServer) -> Lesson {
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &["Åse Ødegård"]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    let l = Lesson {
        ada: guest(server, code, "Ada").await,
        bo: guest(server, code, "Bo").await,
        teacher,
        lesson_id: lesson["id"].as_str().unwrap().to_string(),
    };
    let mut class_doc = DocClient::connect(&l.ada, &format!("lesson.{}.class", l.lesson_id))
        .await
        .unwrap();
    class_doc
        .write_paragraph("Elgen <er> stor & sterk")
        .await
        .unwrap();
    let mut own = DocClient::connect(&l.ada, &own_doc(&l.ada).await)
        .await
        .unwrap();
    // The teacher watches both documents, so the test goes on once the server has the writing.
    let mut watch_class = DocClient::connect(&l.teacher, &format!("lesson.{}.class", l.lesson_id))
        .await
        .unwrap();
    let mut watch_own = DocClient::connect(&l.teacher, &own_doc(&l.ada).await)
        .await
        .unwrap();
    own.write_paragraph("Adas hemmelige tekst").await.unwrap();
    watch_class.until_rich("sterk").await.unwrap();
    watch_own.until_rich("hemmelige").await.unwrap();
    l
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_document_downloads_in_three_formats_for_its_readers_only() {
    let server = TestServer::start().await;
    let l = lesson_with_writing(&server).await;
    let class_doc = format!("lesson.{}.class", l.lesson_id);

    let (status, headers, body) =
        l.bo.download(&format!("/api/docs/{class_doc}/export?format=html&lang=nn"))
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert!(header(&headers, "content-disposition").starts_with("attachment; filename=\"7B.html\""));
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("<html lang=\"nn\">"), "{html}");
    assert!(
        html.contains("<p>Elgen &lt;er&gt; stor &amp; sterk</p>"),
        "{html}"
    );

    let (_, _, md) = l
        .teacher
        .download(&format!("/api/docs/{class_doc}/export?format=md"))
        .await;
    assert_eq!(
        String::from_utf8(md).unwrap(),
        "Elgen \\<er\\> stor & sterk\n"
    );
    let (_, headers, txt) = l
        .ada
        .download(&format!("/api/docs/{class_doc}/export?format=txt"))
        .await;
    assert_eq!(
        header(&headers, "content-type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(String::from_utf8(txt).unwrap(), "Elgen <er> stor & sterk\n");

    // Ada's own document: Ada and the teacher, not Bo, not a stranger.
    let ada_doc = own_doc(&l.ada).await;
    let path = format!("/api/docs/{ada_doc}/export?format=txt");
    let (status, _, body) = l.teacher.download(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(body).unwrap(), "Adas hemmelige tekst\n");
    let (status, _, body) = l.bo.download(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&body).contains("hemmelige"));
    assert_eq!(
        server.client().download(&path).await.0,
        StatusCode::UNAUTHORIZED
    );
    let colleague = server.invited_teacher(&l.teacher, "Per").await;
    assert_eq!(colleague.download(&path).await.0, StatusCode::NOT_FOUND);

    // Bad input: a clear error naming the parameter.
    let (status, body) = l
        .ada
        .get(&format!("/api/docs/{class_doc}/export?format=pdf"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "format");
    let (status, body) = l
        .ada
        .get(&format!("/api/docs/{class_doc}/export?format=txt&lang=xx"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "lang");
    assert_eq!(
        l.ada.get(&format!("/api/docs/{class_doc}/export")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        l.ada
            .get("/api/docs/lesson.nope.class/export?format=txt")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        l.ada
            .get("/api/docs/..%2F..%2Fetc/export?format=txt")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let long = "x".repeat(10_000);
    assert_eq!(
        l.ada
            .get(&format!("/api/docs/{long}/export?format=txt"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_teacher_downloads_a_whole_lesson_as_one_zip() {
    let server = TestServer::start().await;
    let l = lesson_with_writing(&server).await;
    let path = format!("/api/lessons/{}/docs.zip", l.lesson_id);

    let (status, headers, body) = l.teacher.download(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "application/zip");
    assert!(header(&headers, "content-disposition").contains("filename=\"7B-20"));
    let mut zip = zip::ZipArchive::new(Cursor::new(body)).expect("a valid zip");
    let mut names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("a readable name").to_string())
        .collect();
    names.sort();
    // Only the documents someone wrote in: the notes, Bo's and Åse's are empty.
    let expected: Vec<String> = ["7B", "Ada"]
        .iter()
        .flat_map(|stem| ["html", "md", "txt"].map(|ext| format!("{stem}.{ext}")))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(names, expected);
    let mut ada = String::new();
    zip.by_name("Ada.txt")
        .unwrap()
        .read_to_string(&mut ada)
        .unwrap();
    assert_eq!(ada, "Adas hemmelige tekst\n");

    // Only the lesson's teacher: pupils are refused, a colleague and strangers see nothing.
    assert_eq!(l.ada.download(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        server.client().download(&path).await.0,
        StatusCode::UNAUTHORIZED
    );
    let colleague = server.invited_teacher(&l.teacher, "Per").await;
    assert_eq!(colleague.download(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        l.teacher.download("/api/lessons/nope/docs.zip").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_teachers_list_previews_every_document() {
    let server = TestServer::start_with(|c| c.limits.doc_idle_unload_ms = 20).await;
    let mut loaded = server.running.state.services.docs.watch_loaded();
    let l = lesson_with_writing(&server).await;
    let (status, list) = l
        .teacher
        .get(&format!("/api/docs?lesson={}", l.lesson_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    let docs = list["docs"].as_array().unwrap();
    let preview_of = |title: Option<&str>, kind: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["title"].as_str() == title)
            .unwrap_or_else(|| panic!("{kind} {title:?} in {docs:?}"))["preview"]
            .clone()
    };
    assert_eq!(preview_of(None, "class"), "Elgen <er> stor & sterk");
    assert_eq!(preview_of(Some("Ada"), "personal"), "Adas hemmelige tekst");
    assert_eq!(preview_of(Some("Bo"), "personal"), "");
    assert_eq!(preview_of(Some("Åse Ødegård"), "personal"), "");
    // Bo's document was not in memory, so its preview was kept; writing in it (which loads
    // it) shows in the next list, also once it has left memory again.
    let bo_doc = own_doc(&l.bo).await;
    let mut bo = DocClient::connect(&l.bo, &bo_doc).await.unwrap();
    bo.write_paragraph("Bos første ord").await.unwrap();
    let mut watcher = DocClient::connect(&l.teacher, &bo_doc).await.unwrap();
    watcher.until_rich("Bos første ord").await.unwrap();
    drop((bo, watcher));
    loaded.wait_for(|&n| n == 0).await.unwrap();
    let (_, again) = l
        .teacher
        .get(&format!("/api/docs?lesson={}", l.lesson_id))
        .await;
    let bo_now = again["docs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == bo_doc.as_str())
        .unwrap()["preview"]
        .clone();
    assert_eq!(bo_now, "Bos første ord", "{again}");
    // Pupils' lists carry no previews and only their own documents.
    let (_, list) = l.bo.get("/api/docs").await;
    assert_eq!(list["docs"].as_array().unwrap().len(), 2);
    assert!(list["docs"][0].get("preview").is_none());
    // One document's facts for the editor page.
    let (status, doc) = l
        .ada
        .get(&format!("/api/docs/{}", own_doc(&l.ada).await))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["writable"], true);
    assert_eq!(doc["title"], "Ada");
    assert_eq!(
        l.bo.get(&format!("/api/docs/{}", own_doc(&l.ada).await))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
