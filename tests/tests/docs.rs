//! Shared documents over y-protocols: live editing, who may open and write what, bad frames,
//! durability across restarts, unloading idle documents and compaction.

use futures_util::SinkExt;
use reqwest::{Method, StatusCode};
use tavla::store::Tree;
use tavla_e2e::serde_json::json;
use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;
use tokio_tungstenite::tungstenite::Message;

struct Lesson {
    teacher: User,
    lesson_id: String,
    class_id: String,
    ada: User,
    bo: User,
}

/// A lesson of class 7B with two guests, Ada and Bo.
async fn lesson(server: &TestServer) -> Lesson {
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &["Rostra"]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    Lesson {
        ada: guest(server, code, "Ada").await,
        bo: guest(server, code, "Bo").await,
        teacher,
        lesson_id: lesson["id"].as_str().unwrap().to_string(),
        class_id: class["id"].as_str().unwrap().to_string(),
    }
}

fn class_doc(l: &Lesson) -> String {
    format!("lesson.{}.class", l.lesson_id)
}

#[tokio::test]
async fn the_class_writes_together_and_a_latecomer_gets_everything() {
    let server = TestServer::start().await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    let mut ada = DocClient::connect(&l.ada, &name).await.unwrap();
    let mut bo = DocClient::connect(&l.bo, &name).await.unwrap();
    let mut teacher = DocClient::connect(&l.teacher, &name).await.unwrap();

    ada.append("Ada skriv. ").await.unwrap();
    bo.append("Bo skriv. ").await.unwrap();
    teacher.append("Læraren skriv. ").await.unwrap();
    let all = |t: &str| {
        t.contains("Ada skriv.") && t.contains("Bo skriv.") && t.contains("Læraren skriv.")
    };
    let seen_by_ada = ada.until(all).await.unwrap();
    assert_eq!(
        bo.until(all).await.unwrap(),
        seen_by_ada,
        "everyone converges on the same text"
    );
    assert_eq!(teacher.until(all).await.unwrap(), seen_by_ada);

    let late = DocClient::connect(&l.ada, &name).await.unwrap();
    assert_eq!(
        late.text(),
        seen_by_ada,
        "the sync handshake brings the whole document"
    );
}

#[tokio::test]
async fn each_document_opens_only_for_its_people() {
    let server = TestServer::start().await;
    let l = lesson(&server).await;
    let other_teacher = server.invited_teacher(&l.teacher, "Per").await;
    let notes = format!("lesson.{}.notes", l.lesson_id);
    let ada_own = own_doc(&l.ada).await;
    let bo_own = own_doc(&l.bo).await;
    let status = |result: Result<DocClient, tavla_e2e::yjs::WsError>| match result {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        status(DocClient::connect(&l.ada, &ada_own).await),
        101,
        "own document"
    );
    assert_eq!(
        status(DocClient::connect(&l.ada, &class_doc(&l)).await),
        101,
        "class document"
    );
    assert_eq!(
        status(DocClient::connect(&l.ada, &bo_own).await),
        403,
        "another pupil's document"
    );
    assert_eq!(
        status(DocClient::connect(&l.ada, &notes).await),
        403,
        "the teacher's notes"
    );
    assert_eq!(
        status(DocClient::connect(&l.teacher, &bo_own).await),
        101,
        "the teacher reads every pupil's"
    );
    assert_eq!(status(DocClient::connect(&l.teacher, &notes).await), 101);
    assert_eq!(
        status(DocClient::connect(&other_teacher, &class_doc(&l)).await),
        404,
        "another teacher"
    );
    assert_eq!(
        status(DocClient::connect(&server.client(), &class_doc(&l)).await),
        401,
        "no session"
    );
    for junk in [
        "nonsense",
        "lesson.x.class",
        "lesson..class",
        &format!("lesson.{}.pupil.g-000", l.lesson_id),
    ] {
        assert_eq!(
            status(DocClient::connect(&l.teacher, junk).await),
            404,
            "{junk}"
        );
    }

    // Pupils of another lesson cannot reach this one's class document.
    let class = class_with(&other_teacher, "8A", &[]).await;
    let other = start_lesson(&other_teacher, class["id"].as_str().unwrap()).await;
    let stranger = guest(&server, other["code"].as_str().unwrap(), "Fremmed").await;
    assert_eq!(
        status(DocClient::connect(&stranger, &class_doc(&l)).await),
        403
    );

    let (_, listed) = l.ada.get("/api/docs").await;
    let kinds: Vec<&str> = listed["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["class", "personal"]);
    let (_, listed) = l
        .teacher
        .get(&format!("/api/docs?lesson={}", l.lesson_id))
        .await;
    let titles: Vec<&str> = listed["docs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        ["Rostra", "Ada", "Bo"],
        "every pupil's own document, rostered first"
    );
    assert_eq!(
        l.ada.get("/api/docs?lesson=whatever").await.1["docs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        other_teacher
            .get(&format!("/api/docs?lesson={}", l.lesson_id))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let _ = l.class_id;
}

#[tokio::test]
async fn a_read_only_document_refuses_pupils_writes_only() {
    let server = TestServer::start().await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    let mut ada = DocClient::connect(&l.ada, &name).await.unwrap();
    let mut bo = DocClient::connect(&l.bo, &name).await.unwrap();
    ada.append("før ").await.unwrap();
    // Bo seeing it means the server has it, before the document is locked.
    bo.until(|t| t == "før ").await.unwrap();

    let path = format!("/api/docs/{name}/settings");
    assert_eq!(
        l.ada
            .send(Method::PUT, &path, Some(json!({ "read_only": true })))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = l
        .teacher
        .send(Method::PUT, &path, Some(json!({ "read_only": true })))
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut teacher = DocClient::connect(&l.teacher, &name).await.unwrap();
    teacher.append("lærar ").await.unwrap();
    assert_eq!(
        bo.until(|t| t.contains("lærar")).await.unwrap(),
        "før lærar ",
        "pupils still read"
    );

    ada.append("etter").await.unwrap();
    assert_eq!(ada.closed_with().await, Some(4003));
    let again = DocClient::connect(&l.bo, &name).await.unwrap();
    assert_eq!(
        again.text(),
        "før lærar ",
        "the refused write left no trace"
    );
    let (_, listed) = l.bo.get("/api/docs").await;
    assert_eq!(listed["docs"][0]["read_only"], true);
    assert_eq!(listed["docs"][0]["writable"], false);
}

/// Locking a document is pushed to the pupils who can open it (their editors turn read-only
/// without a keystroke), and to nobody else.
#[tokio::test]
async fn locking_is_pushed_to_the_pupils_who_can_open_the_document() {
    let server = TestServer::start().await;
    let l = lesson(&server).await;
    let mut ada = Live::open(&l.ada, "").await;
    let mut bo = Live::open(&l.bo, "").await;
    let ada_doc = own_doc(&l.ada).await;
    for (name, read_only) in [
        (ada_doc.clone(), true),
        (class_doc(&l), true),
        (class_doc(&l), false),
    ] {
        let (status, _) = l
            .teacher
            .send(
                Method::PUT,
                &format!("/api/docs/{name}/settings"),
                Some(json!({ "read_only": read_only })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    for (who, live) in [("Ada", &mut ada), ("Bo", &mut bo)] {
        let first = live.until_type("doc_settings").await;
        if who == "Ada" {
            assert_eq!(
                first,
                json!({ "type": "doc_settings", "doc": ada_doc, "read_only": true })
            );
            live.until_type("doc_settings").await;
        } else {
            assert_eq!(
                first["doc"],
                class_doc(&l),
                "Bo hears nothing of Ada's document"
            );
            assert_eq!(first["read_only"], true);
        }
        let unlocked = live.until_type("doc_settings").await;
        assert_eq!(unlocked["read_only"], false, "{who}");
    }
}

#[tokio::test]
async fn bad_frames_close_only_their_sender() {
    let server = TestServer::start_with(|c| {
        c.limits.doc_max_frame_bytes = 4096;
        c.limits.max_doc_bytes = 2048;
        c.limits.doc_messages_per_second = 10;
    })
    .await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    let mut bystander = DocClient::connect(&l.bo, &name).await.unwrap();
    // The teacher watches the document: each bystander write is seen before the next case.
    let mut watcher = DocClient::connect(&l.teacher, &name).await.unwrap();
    bystander.append("trygg ").await.unwrap();
    watcher.until(|t| t == "trygg ").await.unwrap();

    let cases: Vec<(&str, Message, u16)> = vec![
        (
            "garbage",
            Message::Binary(vec![0xff, 0xff, 0xff].into()),
            4000,
        ),
        (
            "truncated update",
            Message::Binary(vec![0, 2, 200, 1, 2].into()),
            4000,
        ),
        (
            "unknown message type",
            Message::Binary(vec![9, 1, 0].into()),
            4000,
        ),
        ("empty frame", Message::Binary(vec![].into()), 4000),
        ("text frame", Message::Text("hei".into()), 1003),
        (
            "oversized frame",
            Message::Binary(vec![0; 8192].into()),
            1009,
        ),
    ];
    for (what, message, code) in cases {
        let mut offender = DocClient::connect(&l.ada, &name).await.unwrap();
        offender.socket.send(message).await.unwrap();
        assert_eq!(offender.closed_with().await, Some(code), "{what}");
        bystander.append("x").await.unwrap();
        let before = watcher.text().len();
        watcher.until(|t| t.len() == before + 1).await.unwrap();
    }

    let mut big = DocClient::connect(&l.ada, &name).await.unwrap();
    big.append(&"stor ".repeat(500)).await.unwrap();
    assert_eq!(big.closed_with().await, Some(4013), "over max_doc_bytes");

    let mut flooder = DocClient::connect(&l.ada, &name).await.unwrap();
    for _ in 0..100 {
        if flooder.append("f").await.is_err() {
            break;
        }
    }
    assert_eq!(flooder.closed_with().await, Some(4008));

    // What was accepted before the limit stays; the bystander still writes. (Its "!" is
    // concurrent with the flood, so the CRDT may place it before the f's.)
    bystander.append("!").await.unwrap();
    let text = watcher.until(|t| t.contains('!')).await.unwrap();
    assert!(text.starts_with("trygg xxxxxx"), "{text}");
    assert!(
        text.contains('f'),
        "accepted writes of the flooder stay: {text}"
    );
    assert!(!text.contains("stor"));
}

#[tokio::test]
async fn documents_survive_a_restart_and_idle_ones_leave_memory_as_a_snapshot() {
    let server = TestServer::start_with(|c| c.limits.doc_idle_unload_ms = 20).await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    let mut loaded = server.running.state.services.docs.watch_loaded();
    {
        let mut ada = DocClient::connect(&l.ada, &name).await.unwrap();
        for i in 0..50 {
            ada.append(&format!("{i} ")).await.unwrap();
        }
        ada.until(|t| t.ends_with("49 ")).await.unwrap();
    }
    // Nobody is connected: the document is snapshotted and unloaded.
    loaded.wait_for(|&n| n == 0).await.unwrap();
    server
        .running
        .state
        .services
        .docs
        .durable()
        .await
        .expect("the store takes the edits");
    {
        let store = &server.running.state.services.store;
        let log = store
            .scan_prefix(Tree::Docs, format!("u/{name}/").as_bytes())
            .unwrap();
        assert!(
            log.is_empty(),
            "the update log was compacted into the snapshot"
        );
        assert!(store
            .get(Tree::Docs, format!("s/{name}").as_bytes())
            .unwrap()
            .is_some());
    }

    let reloaded = DocClient::connect(&l.bo, &name).await.unwrap();
    let expected: String = (0..50).map(|i| format!("{i} ")).collect();
    assert_eq!(
        reloaded.text(),
        expected,
        "reloading from the snapshot keeps every character"
    );
    let mut bo = reloaded;
    let mut teacher = DocClient::connect(&l.teacher, &name).await.unwrap();
    bo.append("siste").await.unwrap();
    teacher.until(|t| t.ends_with("siste")).await.unwrap();
    drop((bo, teacher));

    let (_server, teacher) = restarted(server).await;
    let after = DocClient::connect(&teacher, &name).await.unwrap();
    assert_eq!(after.text(), format!("{expected}siste"));
}

/// The server started again on its data, and the teacher signed in anew.
async fn restarted(server: TestServer) -> (TestServer, User) {
    server.restart_signed_in("Kari").await
}

/// Waits until the server holds `asleep` documents asleep (the sweep runs every few ms here).
async fn asleep(server: &TestServer, asleep: usize) {
    let docs = &server.running.state.services.docs;
    for _ in 0..500 {
        if docs.asleep_count() == asleep {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{} documents asleep, not {asleep}", docs.asleep_count());
}

#[tokio::test]
async fn an_open_document_nobody_edits_sleeps_and_wakes_for_the_next_edit() {
    let server = TestServer::start_with(|c| c.limits.doc_idle_unload_ms = 20).await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    let mut ada = DocClient::connect(&l.ada, &name).await.unwrap();
    let mut bo = DocClient::connect(&l.bo, &name).await.unwrap();
    for i in 0..20 {
        ada.append(&format!("{i} ")).await.unwrap();
    }
    bo.until(|t| t.ends_with("19 ")).await.unwrap();

    // Both still have it open; nobody writes: it sleeps, compacted, and stays loaded.
    asleep(&server, 1).await;
    assert_eq!(server.running.state.services.docs.loaded_count(), 1);
    server
        .running
        .state
        .services
        .docs
        .durable()
        .await
        .expect("the store takes the edits");
    let log = server
        .running
        .state
        .services
        .store
        .scan_prefix(Tree::Docs, format!("u/{name}/").as_bytes())
        .unwrap();
    assert!(log.is_empty(), "it sleeps as its snapshot");
    let (_, metrics) = l.teacher.get("/metrics").await;
    assert!(metrics.as_str().unwrap().contains("tavla_docs_asleep 1"));

    // Bo writes: it wakes, Ada gets the edit, and a latecomer gets everything.
    bo.append("slutt").await.unwrap();
    ada.until(|t| t.ends_with("slutt")).await.unwrap();
    let expected: String = (0..20).map(|i| format!("{i} ")).collect::<String>() + "slutt";
    let teacher = DocClient::connect(&l.teacher, &name).await.unwrap();
    assert_eq!(teacher.text(), expected);
    assert_eq!(ada.text(), expected);
    drop((ada, bo, teacher));

    // And after a restart.
    let (_server, teacher) = restarted(server).await;
    let after = DocClient::connect(&teacher, &name).await.unwrap();
    assert_eq!(after.text(), expected);
}

#[tokio::test]
async fn a_burst_of_cursor_moves_reaches_others_as_few_frames_with_the_last_position() {
    use yrs::sync::{Awareness, Message as YMessage};
    use yrs::updates::encoder::Encode;

    let server = TestServer::start().await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    let mut ada = DocClient::connect(&l.ada, &name).await.unwrap();
    let mut bo = DocClient::connect(&l.bo, &name).await.unwrap();

    let mut cursor = Awareness::new(yrs::Doc::with_client_id(4242));
    for position in 0..=40 {
        cursor
            .set_local_state(json!({ "user": { "name": "Ada" }, "cursor": position }))
            .unwrap();
        let frame = YMessage::Awareness(cursor.update().unwrap()).encode_v1();
        ada.send(frame).await.unwrap();
    }
    // Bo reads awareness frames until Ada's last position arrives.
    let mut frames = 1;
    while !bo.next_awareness_frame().await.contains("\"cursor\":40") {
        frames += 1;
    }
    assert!(
        frames <= 5,
        "41 cursor moves in a burst arrive coalesced, got {frames} frames"
    );
}

#[tokio::test]
async fn a_busy_document_with_a_big_audience_merges_bursts_of_edits_and_loses_none() {
    let server = TestServer::start().await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    // 140 connections: the document holds edits for a few milliseconds and sends them merged.
    let mut audience = Vec::new();
    for _ in 0..137 {
        audience.push(DocClient::connect(&l.teacher, &name).await.unwrap());
    }
    let mut ada = DocClient::connect(&l.ada, &name).await.unwrap();
    let mut bo = DocClient::connect(&l.bo, &name).await.unwrap();
    let mut reader = DocClient::connect(&l.teacher, &name).await.unwrap();
    for i in 0..40 {
        ada.append("a").await.unwrap();
        if i % 2 == 0 {
            bo.append("b").await.unwrap();
        }
    }
    reader.until(|t| t.len() == 60).await.unwrap();
    assert!(
        reader.updates_received < 45,
        "60 edits in a burst arrive merged, got {} update frames",
        reader.updates_received
    );
    let text = reader.text();
    assert_eq!(text.matches('a').count(), 40);
    for (i, client) in audience.iter_mut().enumerate() {
        let got = client.until(|t| t.len() == 60).await.unwrap();
        assert_eq!(got, text, "connection {i} sees the same text");
    }
    ada.until(|t| t.len() == 60).await.unwrap();
    assert_eq!(ada.text(), text);
}

#[tokio::test]
async fn a_cursor_carries_the_name_of_who_is_signed_in_not_the_one_a_client_claims() {
    use yrs::sync::{Awareness, Message as YMessage};
    use yrs::updates::encoder::Encode;

    let server = TestServer::start().await;
    let l = lesson(&server).await;
    let name = class_doc(&l);
    let mut ada = DocClient::connect(&l.ada, &name).await.unwrap();
    let mut bo = DocClient::connect(&l.bo, &name).await.unwrap();
    let mut claim = Awareness::new(yrs::Doc::with_client_id(777));
    claim
        .set_local_state(json!({ "user": { "name": "Kari (lærer)", "color": "#000" } }))
        .unwrap();
    bo.send(YMessage::Awareness(claim.update().unwrap()).encode_v1())
        .await
        .unwrap();
    let text = loop {
        let text = ada.next_awareness_frame().await;
        if text.contains("#000") {
            break text;
        }
    };
    assert!(text.contains(r#""name":"Bo""#), "{text}");
    assert!(!text.contains("lærer"), "{text}");
}
