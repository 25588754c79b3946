//! Private threads, announcements, chats and raised hands over `/ws`: who may do what (the
//! matrix below is the spec), that nobody else ever receives a private word, and that delivery
//! survives a restart without losing or repeating anything.

use reqwest::StatusCode;
use tavla_e2e::serde_json::{json, Value};
use tavla_e2e::*;

fn s(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// Everyone the matrix needs, connected and synced.
struct Class {
    owner: Live,
    other_teacher: Live,
    ada: Live,
    bo: Live,
    guest: Live,
    foreign: Live,
    ada_id: String,
    bo_id: String,
    guest_id: String,
    ada_thread: String,
    bo_thread: String,
    announcements: String,
    class_chat: String,
    group_one: Value,
    ada_doc: String,
    teacher: User,
    ada_user: User,
    bo_user: User,
    per_user: User,
    lesson_id: String,
}

async fn class(server: &TestServer) -> Class {
    let teacher = server.first_teacher("Kari").await;
    let per = server.invited_teacher(&teacher, "Per").await;
    let class = class_with(&teacher, "7B", &["Ada", "Bo"]).await;
    let class_id = s(&class["id"]);
    let lesson = start_lesson(&teacher, &class_id).await;
    let lesson_id = s(&lesson["id"]);
    let cards = card_secrets(&teacher, &class_id).await;
    let ada_user = card_login(server, &cards[0].1).await;
    let bo_user = card_login(server, &cards[1].1).await;
    let guest_user = guest(server, &s(&lesson["code"]), "Gjest").await;
    let other_class = class_with(&per, "8A", &[]).await;
    let other_lesson = start_lesson(&per, &s(&other_class["id"])).await;
    let foreign_user = guest(server, &s(&other_lesson["code"]), "Fremmed").await;
    let ada_doc = own_doc(&ada_user).await;

    let mut owner = Live::open(&teacher, &format!("?lesson={lesson_id}")).await;
    let presence = owner.until_type("presence").await;
    let entry = |name: &str| {
        presence["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in the presence list"))
    };
    let (ada_id, bo_id, guest_id) = (
        s(&entry("Ada")["id"]),
        s(&entry("Bo")["id"]),
        s(&entry("Gjest")["id"]),
    );
    let (status, groups) = teacher
        .send(
            reqwest::Method::PUT,
            &format!("/api/lessons/{lesson_id}/groups"),
            Some(json!({ "groups": [[ada_id, guest_id], [bo_id]] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{groups}");

    let mut other_teacher = Live::open(&per, &format!("?lesson={}", s(&other_lesson["id"]))).await;
    other_teacher.sync(0).await;
    owner.sync(0).await;
    let mut ada = Live::open(&ada_user, "").await;
    let mut bo = Live::open(&bo_user, "").await;
    let mut guest = Live::open(&guest_user, "").await;
    let mut foreign = Live::open(&foreign_user, "").await;
    let ada_threads = ada.sync(0).await[0].clone();
    assert_eq!(ada_threads["type"], "threads");
    let bo_threads = bo.sync(0).await[0].clone();
    guest.sync(0).await;
    foreign.sync(0).await;
    let group_one = ada.until_type("my_group").await["group"].clone();
    assert_eq!(group_one["number"], 1);
    assert_eq!(entry("Ada")["thread"], ada_threads["private"]);
    Class {
        owner,
        other_teacher,
        ada,
        bo,
        guest,
        foreign,
        ada_thread: s(&ada_threads["private"]),
        bo_thread: s(&bo_threads["private"]),
        announcements: s(&ada_threads["announcements"]),
        class_chat: s(&ada_threads["class_chat"]),
        ada_id,
        bo_id,
        guest_id,
        group_one,
        ada_doc,
        teacher,
        ada_user,
        bo_user,
        per_user: per,
        lesson_id,
    }
}

fn send(thread: &str, text: &str, client_id: &str) -> Value {
    json!({ "type": "send", "client_id": client_id, "thread": thread, "text": text })
}

const ROLES: [&str; 6] = [
    "other teacher",
    "pupil of another lesson",
    "other pupil",
    "guest",
    "pupil owner",
    "teacher",
];

impl Class {
    fn live(&mut self, role: &str) -> &mut Live {
        match role {
            "teacher" => &mut self.owner,
            "other teacher" => &mut self.other_teacher,
            "pupil owner" => &mut self.ada,
            "other pupil" => &mut self.bo,
            "guest" => &mut self.guest,
            "pupil of another lesson" => &mut self.foreign,
            _ => unreachable!(),
        }
    }

    /// Tries `request` as every role (in `ROLES` order, the teacher last) and checks each
    /// outcome: "ok" or the refusal code.
    async fn check(&mut self, what: &str, request: impl Fn(&str) -> Value, expected: [&str; 6]) {
        for (role, want) in ROLES.iter().zip(expected) {
            let got = match self.live(role).request(request(role)).await {
                Ok(_) => "ok".to_string(),
                Err(code) => code,
            };
            assert_eq!(got, want, "{what} as {role}");
        }
    }
}

#[tokio::test]
async fn every_message_type_is_refused_to_every_role_it_is_not_for() {
    // Each check is two frames (request and ping); the flood limit has its own test.
    let server = TestServer::start_with(|c| c.limits.ws_messages_per_second = 1000).await;
    let mut c = class(&server).await;
    let group_chat = s(&c.group_one["chat"]);
    let group_id = s(&c.group_one["id"]);
    let (ada_id, bo_id, guest_id) = (c.ada_id.clone(), c.bo_id.clone(), c.guest_id.clone());
    let nf = "not_found";
    let fb = "forbidden";

    let ada_thread = c.ada_thread.clone();
    c.check(
        "write in Ada's private thread",
        |role| {
            send(
                &ada_thread,
                &format!("ADA-SECRET from {role}"),
                &role.replace(' ', "-"),
            )
        },
        [nf, nf, nf, nf, "ok", "ok"],
    )
    .await;
    let announcements = c.announcements.clone();
    c.check(
        "announce to the lesson",
        |role| {
            send(
                &announcements,
                "Husk gymtøy",
                &format!("a-{}", role.replace(' ', "-")),
            )
        },
        [nf, nf, fb, fb, fb, "ok"],
    )
    .await;
    let class_chat = c.class_chat.clone();
    c.check(
        "write in the closed class chat",
        |role| {
            send(
                &class_chat,
                "hei",
                &format!("c1-{}", role.replace(' ', "-")),
            )
        },
        [nf, nf, "chat_closed", "chat_closed", "chat_closed", "ok"],
    )
    .await;
    c.check(
        "open the class chat",
        |_| json!({ "type": "set_chat", "scope": "class", "open": true }),
        // The other teacher opens their own lesson's chat: allowed, and no business of ours.
        ["ok", fb, fb, fb, fb, "ok"],
    )
    .await;
    c.check(
        "write in the open class chat",
        |role| {
            send(
                &class_chat,
                "hei alle",
                &format!("c2-{}", role.replace(' ', "-")),
            )
        },
        [nf, nf, "ok", "ok", "ok", "ok"],
    )
    .await;
    c.check(
        "mute Bo",
        |_| json!({ "type": "mute", "participant": bo_id, "minutes": 10 }),
        [nf, fb, fb, fb, fb, "ok"],
    )
    .await;
    assert_eq!(
        c.bo.request(send(&class_chat, "men jeg vil", "c3")).await,
        Err("muted".into())
    );
    assert!(
        c.bo.request(send(&c.bo_thread.clone(), "jeg er stille nå", "c4"))
            .await
            .is_ok(),
        "a muted pupil can still ask the teacher"
    );
    c.check(
        "write in group 1's closed chat",
        |role| {
            send(
                &group_chat,
                "gruppe",
                &format!("g1-{}", role.replace(' ', "-")),
            )
        },
        [nf, nf, nf, "chat_closed", "chat_closed", "ok"],
    )
    .await;
    c.check(
        "open group 1's chat",
        |_| json!({ "type": "set_chat", "scope": group_id, "open": true }),
        [nf, fb, fb, fb, fb, "ok"],
    )
    .await;
    c.check(
        "write in group 1's open chat",
        |role| {
            send(
                &group_chat,
                "GROUP-ONE-WORDS",
                &format!("g2-{}", role.replace(' ', "-")),
            )
        },
        [nf, nf, nf, "ok", "ok", "ok"],
    )
    .await;
    c.check(
        "raise a hand with a question",
        |role| {
            json!({ "type": "raise_hand", "question": format!("HAND-QUESTION of {role}"),
                    "client_id": format!("h-{}", role.replace(' ', "-")) })
        },
        [fb, "ok", "ok", "ok", "ok", fb],
    )
    .await;
    c.check(
        "say coming to Ada",
        |_| json!({ "type": "coming", "participant": ada_id }),
        [nf, fb, fb, fb, fb, "ok"],
    )
    .await;
    c.check(
        "lower Ada's hand",
        |_| json!({ "type": "lower_hand", "participant": ada_id }),
        [nf, fb, fb, fb, "ok", "ok"],
    )
    .await;
    c.check(
        "lower the guest's hand",
        |_| json!({ "type": "lower_hand", "participant": guest_id }),
        [nf, fb, fb, "ok", fb, "ok"],
    )
    .await;
    let ada_message = c
        .owner
        .received
        .iter()
        .find(|m| m["type"] == "message" && m["message"]["thread"] == ada_thread.as_str())
        .map(|m| m["message"]["seq"].as_u64().unwrap())
        .expect("the teacher got Ada's message");
    c.check(
        "delete Ada's message",
        |_| json!({ "type": "delete_message", "thread": ada_thread, "seq": ada_message }),
        [nf, fb, fb, fb, fb, "ok"],
    )
    .await;

    // Links to documents: only to one the writer can open.
    let link = |doc: &str, id: &str| json!({ "type": "send", "client_id": id, "thread": ada_thread, "text": "se her", "doc": doc });
    assert!(c.ada.request(link(&c.ada_doc.clone(), "l1")).await.is_ok());
    let bo_thread = c.bo_thread.clone();
    assert_eq!(
        c.bo.request(
            json!({ "type": "send", "client_id": "l2", "thread": bo_thread,
                             "text": "se", "doc": c.ada_doc.clone() })
        )
        .await,
        Err("invalid_input".into())
    );

    // Guessed and foreign thread names.
    for (i, thread) in [
        "pm.c.000000.000000".to_string(),
        ada_thread.replace("pm.c.", "pm.l."),
        "an.000000000000000000".to_string(),
        format!("gr.{}.nope", &announcements[3..]),
        "../../etc".to_string(),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(
            c.bo.request(send(thread, "x", &format!("guess{i}"))).await,
            Err(nf.into()),
            "{thread}"
        );
    }

    // Wait until every client has everything: an announcement is the last event each gets.
    c.owner
        .request(send(&announcements.clone(), "END-MARKER", "end"))
        .await
        .unwrap();
    for pupil in [&mut c.ada, &mut c.bo, &mut c.guest] {
        pupil
            .until(|m| m["type"] == "message" && m["message"]["text"] == "END-MARKER")
            .await;
    }
    c.other_teacher
        .request(json!({"type": "ping"}))
        .await
        .unwrap();

    // What each one was sent.
    for (who, live) in [
        ("Bo", &c.bo),
        ("the guest", &c.guest),
        ("the foreign pupil", &c.foreign),
        ("the other teacher", &c.other_teacher),
    ] {
        assert!(
            !live.ever_saw("ADA-SECRET"),
            "{who} saw Ada's private thread"
        );
        assert!(
            !live.ever_saw("HAND-QUESTION of pupil owner"),
            "{who} saw Ada's question"
        );
    }
    for (who, live) in [
        ("Bo", &c.bo),
        ("the guest", &c.guest),
        ("the foreign pupil", &c.foreign),
    ] {
        assert!(
            !live.received.iter().any(|m| m["type"] == "hands"),
            "{who} saw the hand queue"
        );
    }
    let other_queue = c
        .other_teacher
        .received
        .iter()
        .rev()
        .find(|m| m["type"] == "hands")
        .cloned()
        .expect("the other teacher has their own queue");
    assert!(
        other_queue["queue"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["name"] == "Fremmed"),
        "the other teacher's queue is their own lesson's: {other_queue}"
    );
    assert!(!c.bo.ever_saw("GROUP-ONE-WORDS"), "Bo is not in group 1");
    assert!(c.guest.ever_saw("GROUP-ONE-WORDS"));
    assert!(
        c.ada.ever_saw("ADA-SECRET from teacher"),
        "Ada reads her thread"
    );
    assert!(c.owner.ever_saw("HAND-QUESTION of other pupil"));
    // Hands went up in the order Bo, the guest, Ada (the foreign pupil's is in their lesson).
    assert!(
        c.guest
            .received
            .iter()
            .any(|m| m["type"] == "my_hand" && m["place"] == 2),
        "the guest learns their place: {:?}",
        c.guest
            .received
            .iter()
            .filter(|m| m["type"] == "my_hand")
            .collect::<Vec<_>>()
    );
    assert!(c
        .ada
        .received
        .iter()
        .any(|m| m["type"] == "my_hand" && m["coming"] == true));
    assert!(
        c.ada
            .received
            .iter()
            .any(|m| m["type"] == "message_deleted"),
        "Ada hears that her message was deleted"
    );
    // The teacher's view of the deleted message is blank after a fresh sync.
    let mut again = Live::open(&c.teacher, &format!("?lesson={}", &announcements[3..])).await;
    let history = again.sync(0).await;
    let deleted = history
        .iter()
        .find(|m| m["type"] == "message" && m["message"]["seq"] == ada_message)
        .unwrap();
    assert_eq!(deleted["message"]["deleted"], true);
    assert_eq!(deleted["message"]["text"], "");
}

#[tokio::test]
async fn nobody_without_a_session_gets_a_socket() {
    let server = TestServer::start().await;
    match server.client().ws("").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401)
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_reason_and_the_connection_and_others_carry_on() {
    let server = TestServer::start().await;
    let mut c = class(&server).await;
    let thread = c.ada_thread.clone();
    let cases = [
        ("empty text", send(&thread, "   ", "e1"), "invalid_input"),
        (
            "too long",
            send(&thread, &"x".repeat(2001), "e2"),
            "invalid_input",
        ),
        (
            "control characters",
            send(&thread, "a\u{0}b", "e3"),
            "invalid_input",
        ),
        (
            "bad client id",
            send(&thread, "hei", "no spaces please"),
            "invalid_input",
        ),
        (
            "long client id",
            send(&thread, "hei", &"x".repeat(65)),
            "invalid_input",
        ),
        ("unknown thread", send("xx.yy", "hei", "e4"), "not_found"),
        (
            "mute too long",
            json!({"type": "mute", "participant": "p-x", "minutes": 100000}),
            "forbidden",
        ),
        (
            "question too long",
            json!({"type": "raise_hand", "question": "?".repeat(2001), "client_id": "q"}),
            "invalid_input",
        ),
        (
            "question without client id",
            json!({"type": "raise_hand", "question": "hvorfor?"}),
            "invalid_input",
        ),
    ];
    for (what, request, code) in cases {
        assert_eq!(c.ada.request(request).await, Err(code.into()), "{what}");
    }
    assert_eq!(
        c.owner
            .request(json!({"type": "mute", "participant": c.bo_id.clone(), "minutes": 241}))
            .await,
        Err("invalid_input".into())
    );
    assert_eq!(
        c.owner
            .request(json!({"type": "set_chat", "scope": "no-such-group", "open": true}))
            .await,
        Err("not_found".into())
    );
    // Ada is still connected and her next message arrives; so do Bo's.
    c.ada
        .request(send(&thread, "fortsatt her", "ok1"))
        .await
        .unwrap();
    let bo_thread = c.bo_thread.clone();
    c.bo.request(send(&bo_thread, "jeg også", "ok2"))
        .await
        .unwrap();
    for text in ["fortsatt her", "jeg også"] {
        c.owner
            .until(|m| m["type"] == "message" && m["message"]["text"] == text)
            .await;
    }
}

/// A client that lost the answer to a send sends it again with the same `client_id` (after a
/// reconnect): it is acknowledged with the first number and stored and delivered once.
#[tokio::test]
async fn a_resent_message_is_stored_and_delivered_once() {
    let server = TestServer::start().await;
    let mut c = class(&server).await;
    let thread = c.ada_thread.clone();
    let first = c
        .ada
        .request(send(&thread, "bare én gang", "same-id"))
        .await
        .unwrap();
    let second = c
        .ada
        .request(send(&thread, "bare én gang", "same-id"))
        .await
        .unwrap();
    let seq =
        |answer: &[Value]| answer.iter().find(|m| m["type"] == "sent").unwrap()["seq"].clone();
    assert_eq!(seq(&first), seq(&second));
    c.ada
        .request(send(&thread, "neste", "next-id"))
        .await
        .unwrap();
    c.owner
        .until(|m| m["type"] == "message" && m["message"]["text"] == "neste")
        .await;
    let copies = c
        .owner
        .received
        .iter()
        .filter(|m| m["type"] == "message" && m["message"]["text"] == "bare én gang")
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::Message;

    let server = TestServer::start().await;
    let mut c = class(&server).await;
    let frame = Frame::message(vec![0xff, 0xfe, b'{'], OpCode::Data(Data::Text), true);
    use futures_util::SinkExt;
    let _ = c.bo.socket.send(Message::Frame(frame)).await;
    assert_eq!(
        close_frame(&mut c.bo.socket)
            .await
            .map(|f| u16::from(f.code)),
        Some(1007)
    );
    let thread = c.ada_thread.clone();
    c.ada.request(send(&thread, "uberørt", "u1")).await.unwrap();
}

/// 30 pupils each ask the teacher five things while the box restarts under them (each pupil
/// asks three, the box restarts, they reconnect and ask the rest; slower pupils' questions are
/// still on their way when it goes down). Every question reaches the teacher exactly once and
/// in each pupil's order; no pupil ever receives another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_pupils_questions_arrive_once_in_order_across_a_restart() {
    const PUPILS: usize = 30;
    const EACH: usize = 5;
    let mut server = TestServer::start_with(|c| {
        c.limits.join_per_minute_per_address = 1000;
    })
    .await;
    let teacher = server.first_teacher("Kari").await;
    let names: Vec<String> = (1..=PUPILS).map(|i| format!("P{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let class = class_with(&teacher, "7B", &refs).await;
    let lesson = start_lesson(&teacher, &s(&class["id"])).await;
    let lesson_query = format!("?lesson={}", s(&lesson["id"]));
    let mut pupils = Vec::new();
    for (name, secret) in card_secrets(&teacher, &s(&class["id"])).await {
        pupils.push((name, card_login(&server, &secret).await));
    }
    let mut watch = Live::open(&teacher, &lesson_query).await;
    watch.sync(0).await;

    // Each pupil sends its questions one after the other, resending the unanswered one with
    // the same client id after any disconnect, as the web client does.
    let run = |name: String, user: User| async move {
        let mut acked = 0;
        let mut cursor = 0;
        let mut reconnects = 0;
        let mut connections = 0;
        let mut live: Option<Live> = None;
        while acked < EACH {
            if acked == 3 && reconnects == 0 {
                if let Some(mut l) = live.take() {
                    // Until the restart closes the socket.
                    while l.try_next().await.is_some() {}
                }
            }
            let Some(l) = live.as_mut() else {
                live = Live::try_open(&user, "", cursor).await;
                if live.is_some() {
                    reconnects += usize::from(connections > 0);
                    connections += 1;
                }
                if live.is_none() {
                    // The box is restarting; there is no event to wait for but its return.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                continue;
            };
            let id = format!("{name}-{acked}");
            let thread = l.thread("private");
            match l.try_request(send(&thread, &id, &id)).await {
                Some(answer) => {
                    assert!(answer.iter().any(|m| m["type"] == "sent"), "{answer:?}");
                    acked += 1;
                    cursor = l
                        .received
                        .iter()
                        .filter_map(|m| m["seq"].as_u64().or(m["message"]["seq"].as_u64()))
                        .max()
                        .unwrap_or(cursor);
                }
                None => live = None,
            }
        }
        reconnects
    };
    let senders: Vec<_> = pupils
        .iter()
        .map(|(name, user)| tokio::spawn(run(name.clone(), user.clone())))
        .collect();
    // Restart once the first questions have arrived, while the rest are on their way.
    for _ in 0..PUPILS {
        watch.until_type("message").await;
    }
    server = server.restart().await;
    for sender in senders {
        let reconnects = sender.await.expect("a pupil's sender finished");
        assert!(reconnects >= 1, "every pupil went through the restart");
    }

    // The teacher resumes where it was and then reads the whole history fresh: both views
    // hold every question exactly once, in each pupil's order.
    let cursor = watch
        .received
        .iter()
        .filter_map(|m| m["message"]["seq"].as_u64())
        .max()
        .unwrap_or(0);
    let mut resumed = Live::open(&teacher, &lesson_query).await;
    resumed.sync(cursor).await;
    let live_view: Vec<Value> = watch
        .received
        .iter()
        .chain(resumed.received.iter())
        .filter(|m| m["type"] == "message")
        .cloned()
        .collect();
    let mut fresh = Live::open(&teacher, &lesson_query).await;
    let history: Vec<Value> = fresh
        .sync(0)
        .await
        .into_iter()
        .filter(|m| m["type"] == "message")
        .collect();
    for (what, view) in [("live then resumed", live_view), ("fresh history", history)] {
        let texts: Vec<String> = view.iter().map(|m| s(&m["message"]["text"])).collect();
        assert_eq!(texts.len(), PUPILS * EACH, "{what}: {texts:?}");
        for name in &names {
            let mine: Vec<&String> = texts
                .iter()
                .filter(|t| t.starts_with(&format!("{name}-")))
                .collect();
            let expected: Vec<String> = (0..EACH).map(|i| format!("{name}-{i}")).collect();
            assert_eq!(mine, expected.iter().collect::<Vec<_>>(), "{what}: {name}");
        }
        let seqs: Vec<u64> = view
            .iter()
            .map(|m| m["message"]["seq"].as_u64().unwrap())
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{what}: in number order"
        );
    }
    // A pupil's own history is theirs alone.
    let mut p01 = Live::open(&pupils[0].1, "").await;
    let own: Vec<String> = p01
        .sync(0)
        .await
        .into_iter()
        .filter(|m| m["type"] == "message")
        .map(|m| s(&m["message"]["text"]))
        .collect();
    assert_eq!(own.len(), EACH);
    assert!(own.iter().all(|t| t.starts_with("P01-")), "{own:?}");
    drop(server);
}

/// What is tried, by whom, where, with which type and bytes, and the answer expected.
type RefusedUpload<'a> = (&'a str, &'a User, String, &'a str, Vec<u8>, StatusCode);

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-not-a-real-image-but-png-magic";

/// A file sent in Ada's private thread reaches the teacher and nobody else; unsafe, lying,
/// oversized and misplaced files are refused; deleting the message deletes the file.
#[tokio::test]
async fn files_go_only_to_who_may_read_their_thread() {
    let server = TestServer::start_with(|c| c.limits.max_upload_bytes = 1024).await;
    let mut c = class(&server).await;
    let thread = c.ada_thread.clone();
    let path = format!("/api/files?thread={thread}&name=oppgave.png");
    let (status, file) = c.ada_user.upload(&path, "image/png", PNG.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let id = s(&file["id"]);
    let sent = c
        .ada
        .request(
            json!({ "type": "send", "client_id": "f1", "thread": thread, "text": "", "file": id }),
        )
        .await
        .unwrap();
    assert!(sent.iter().any(|m| m["type"] == "sent"));
    let message = c
        .owner
        .until(|m| m["type"] == "message" && m["message"]["file"]["id"] == id.as_str())
        .await;
    assert_eq!(message["message"]["file"]["name"], "oppgave.png");

    let (status, headers, body) = c.teacher.download(&format!("/api/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PNG);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["cache-control"], "private, no-store");
    assert_eq!(
        c.ada_user.download(&format!("/api/files/{id}")).await.0,
        StatusCode::OK
    );
    for (who, user) in [("Bo", &c.bo_user), ("the other teacher", &c.per_user)] {
        assert_eq!(
            user.download(&format!("/api/files/{id}")).await.0,
            StatusCode::NOT_FOUND,
            "{who}"
        );
    }
    assert_eq!(
        server
            .client()
            .download(&format!("/api/files/{id}"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    // Refused uploads.
    let nobody = server.client();
    let cases: Vec<RefusedUpload> = vec![
        (
            "SVG",
            &c.ada_user,
            path.clone(),
            "image/svg+xml",
            b"<svg/>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "a script dressed as PNG",
            &c.ada_user,
            path.clone(),
            "image/png",
            b"<script>".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "too large",
            &c.ada_user,
            path.clone(),
            "image/png",
            [PNG, &[0u8; 2048]].concat(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "empty",
            &c.ada_user,
            path.clone(),
            "text/plain",
            Vec::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "into a thread Bo cannot read",
            &c.bo_user,
            path.clone(),
            "image/png",
            PNG.to_vec(),
            StatusCode::NOT_FOUND,
        ),
        (
            "into the closed chat",
            &c.bo_user,
            format!("/api/files?thread={}", c.class_chat),
            "image/png",
            PNG.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "without a session",
            &nobody,
            path.clone(),
            "image/png",
            PNG.to_vec(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "by a teacher of another lesson",
            &c.per_user,
            format!("{path}&lesson={}", c.lesson_id),
            "image/png",
            PNG.to_vec(),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (what, user, path, content_type, body, expected) in cases {
        let (status, answer) = user.upload(&path, content_type, body).await;
        assert_eq!(status, expected, "{what}: {answer}");
    }
    // Bo cannot send Ada's file in his own thread.
    let bo_thread = c.bo_thread.clone();
    assert_eq!(
        c.bo.request(json!({ "type": "send", "client_id": "f2", "thread": bo_thread, "text": "se", "file": id }))
            .await,
        Err("invalid_input".into())
    );
    // The teacher deletes the message: the file is gone too.
    let seq = message["message"]["seq"].as_u64().unwrap();
    c.owner
        .request(json!({ "type": "delete_message", "thread": thread, "seq": seq }))
        .await
        .unwrap();
    assert_eq!(
        c.teacher.download(&format!("/api/files/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

/// A rostered pupil's private thread follows them into the class's next lesson: both the pupil
/// and the teacher see what was said last time.
#[tokio::test]
async fn a_rostered_pupils_thread_continues_in_the_next_lesson() {
    let server = TestServer::start().await;
    let mut c = class(&server).await;
    let thread = c.ada_thread.clone();
    c.ada
        .request(send(&thread, "SIST-GANG", "x1"))
        .await
        .unwrap();
    let (status, _) = c
        .teacher
        .post(&format!("/api/lessons/{}/end", c.lesson_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let class_id = s(&c.teacher.get("/api/classes").await.1["classes"][0]["id"]);
    let next = start_lesson(&c.teacher, &class_id).await;
    let cards = card_secrets(&c.teacher, &class_id).await;
    let ada = card_login(&server, &cards[0].1).await;
    let mut ada_live = Live::open(&ada, "").await;
    let history = ada_live.sync(0).await;
    assert_eq!(ada_live.thread("private"), thread, "the same thread");
    assert!(history.iter().any(|m| m["message"]["text"] == "SIST-GANG"));
    let mut teacher = Live::open(&c.teacher, &format!("?lesson={}", s(&next["id"]))).await;
    let seen = teacher.sync(0).await;
    assert!(seen.iter().any(|m| m["message"]["text"] == "SIST-GANG"));
    // The reply in the new lesson reaches her there.
    teacher
        .request(send(&thread, "VELKOMMEN-TILBAKE", "x2"))
        .await
        .unwrap();
    ada_live
        .until(|m| m["message"]["text"] == "VELKOMMEN-TILBAKE")
        .await;
}
