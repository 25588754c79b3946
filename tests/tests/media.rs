//! Live media through the box's SFU with real WebRTC clients (webrtc-rs) signaling over `/ws`:
//! the lesson stream, talk-back, private calls, bad signaling, and no leaks after many joins.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use tavla_e2e::rtc::{self, next_media, Watcher};
use tavla_e2e::serde_json::{json, Value};
use tavla_e2e::*;

struct Lesson {
    server: TestServer,
    teacher: User,
    id: String,
    code: String,
}

async fn lesson() -> Lesson {
    lesson_with(|_| {}).await
}

async fn lesson_with(adjust: impl FnOnce(&mut tavla::Config)) -> Lesson {
    let server = TestServer::start_with(adjust).await;
    let teacher = server.first_teacher("Kari").await;
    let class = class_with(&teacher, "7B", &[]).await;
    let lesson = start_lesson(&teacher, class["id"].as_str().unwrap()).await;
    Lesson {
        id: lesson["id"].as_str().unwrap().to_string(),
        code: lesson["code"].as_str().unwrap().to_string(),
        server,
        teacher,
    }
}

impl Lesson {
    async fn teacher_socket(&self) -> Socket {
        let mut socket = self
            .teacher
            .ws(&format!("?lesson={}", self.id))
            .await
            .unwrap();
        assert_eq!(next_json(&mut socket).await["type"], "welcome");
        socket
    }

    /// A guest pupil's socket and participant id.
    async fn pupil(&self, name: &str) -> (Socket, String) {
        let pupil = self.server.client();
        let (status, body) = pupil
            .post("/api/join", json!({ "code": self.code, "name": name }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut socket = pupil.ws("").await.unwrap();
        assert_eq!(next_json(&mut socket).await["type"], "welcome");
        (socket, body["pupil"]["id"].as_str().unwrap().to_string())
    }

    /// A one-time classroom camera link from the teacher: its token (after `#`).
    async fn camera_link(&self) -> String {
        let (status, link) = self
            .teacher
            .post(&format!("/api/lessons/{}/camera", self.id), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{link}");
        assert!(link["qr_svg"].as_str().unwrap().starts_with("<?xml"));
        let url = link["url"].as_str().unwrap();
        let (page, token) = url.split_once('#').expect("token in the fragment");
        assert!(page.ends_with("/camera"), "{url}");
        token.to_string()
    }

    /// A second device paired as the classroom camera, and its socket.
    async fn classroom_camera(&self) -> (User, Socket) {
        let token = self.camera_link().await;
        let device = self.server.client();
        let (status, body) = device.post("/api/camera", json!({ "token": token })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut socket = device.ws("").await.unwrap();
        let welcome = next_json(&mut socket).await;
        assert_eq!(
            (welcome["type"].as_str(), welcome["role"].as_str()),
            (Some("welcome"), Some("camera"))
        );
        (device, socket)
    }

    async fn gauge(&self, name: &str) -> u64 {
        let (_, metrics) = self.teacher.get("/metrics").await;
        metrics
            .as_str()
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in /metrics"))
            .parse()
            .unwrap()
    }

    /// Waits until the media gauges read `peers`, `tracks`, `tasks` (closing is asynchronous).
    async fn settles_at(&self, peers: u64, tracks: u64, tasks: u64) {
        let mut last = (0, 0, 0);
        for _ in 0..200 {
            last = (
                self.gauge("tavla_media_peers").await,
                self.gauge("tavla_media_tracks").await,
                self.gauge("tavla_media_tasks").await,
            );
            if last == (peers, tracks, tasks) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "media gauges stayed at {last:?}, expected {:?}",
            (peers, tracks, tasks)
        );
    }
}

/// The next media message within `limit` (longer than `next_json`'s 10 s).
async fn next_media_within(socket: &mut Socket, limit: Duration) -> Value {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a media message in time")
            .expect("socket open")
            .expect("no socket error");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let message: Value = tavla_e2e::serde_json::from_str(&text).unwrap();
            if message["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("media_"))
            {
                return message;
            }
        }
    }
}

/// The box's refusal of a publish that should not be allowed.
async fn publish_refused(socket: &mut Socket, stream: &str, audio: bool, video: bool) -> Value {
    rtc::publish(socket, stream, audio, video)
        .await
        .expect_err("the box refuses this publish")
}

fn refusal(message: &Value) -> (&str, &str) {
    assert_eq!(message["type"], "media_refused", "{message}");
    (
        message["request"].as_str().unwrap(),
        message["code"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn the_lesson_reaches_watchers_and_a_pupil_speaks_only_while_let() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, ada_id) = lesson.pupil("Ada").await;

    let camera = rtc::publish(&mut teacher, "camera", true, true)
        .await
        .unwrap();
    let _screen = rtc::publish(&mut teacher, "screen", false, true)
        .await
        .unwrap();
    let ada_view = Watcher::watching(&mut ada, &["lesson"], 3).await;
    // Each stream is named for its source and owner (camera audio and video share one).
    let mut streams = ada_view.streams.lock().unwrap().clone();
    streams.sort();
    assert_eq!(
        streams,
        ["camera.teacher", "camera.teacher", "screen.teacher"]
    );
    assert!(camera.sent.load(Ordering::Relaxed) > 0);

    // Not allowed to speak: the box refuses her microphone and her watching the talk-back.
    assert_eq!(
        refusal(&publish_refused(&mut ada, "talk", true, false).await),
        ("media_publish", "forbidden")
    );
    ada_view.ask(&mut ada, &["lesson", "talk"]).await;
    assert_eq!(
        refusal(&next_media(&mut ada).await),
        ("media_watch", "forbidden")
    );

    // The teacher lets her speak, voice only.
    let grant = json!({ "type": "grant_talk", "participant": ada_id });
    send_text(&mut teacher, &grant.to_string()).await;
    let told = next_media(&mut ada).await;
    assert_eq!(
        (told["type"].as_str(), told["granted"].as_bool()),
        (Some("media_talk"), Some(true))
    );
    assert_eq!(
        next_media(&mut teacher).await["participant"],
        ada_id.as_str()
    );
    assert_eq!(
        refusal(&publish_refused(&mut ada, "talk", true, true).await),
        ("media_publish", "forbidden_track"),
        "a camera was not allowed"
    );
    let _voice = rtc::publish(&mut ada, "talk", true, false).await.unwrap();
    let teacher_hears = Watcher::watching(&mut teacher, &["talk"], 1).await;
    assert_eq!(
        teacher_hears.streams.lock().unwrap().as_slice(),
        [format!("talk.{ada_id}")]
    );
    // Peers: camera, screen, Ada's watch and talk, the teacher's watch. Tracks: camera ×2,
    // screen, talk. Tasks: a forwarder per track, a feedback relay per track a viewer gets.
    lesson.settles_at(5, 4, 4 + 4).await;

    // Revoked: her peer is closed and her track leaves the teacher's connection.
    let revoke = json!({ "type": "revoke_talk", "participant": ada_id });
    send_text(&mut teacher, &revoke.to_string()).await;
    let told = next_media(&mut ada).await;
    assert_eq!(told["granted"], false, "{told}");
    let closed = next_media(&mut ada).await;
    assert_eq!(
        (
            closed["type"].as_str(),
            closed["peer"].as_str(),
            closed["reason"].as_str()
        ),
        (Some("media_closed"), Some("talk"), Some("revoked"))
    );
    assert_eq!(next_media(&mut teacher).await["type"], "media_talk");
    let renegotiation = next_media(&mut teacher).await;
    assert_eq!(renegotiation["type"], "media_offer");
    teacher_hears.answer(&mut teacher, &renegotiation).await;
    lesson.settles_at(4, 3, 3 + 3).await;
    assert_eq!(
        refusal(&publish_refused(&mut ada, "talk", true, false).await),
        ("media_publish", "forbidden")
    );
}

#[tokio::test]
async fn a_private_call_is_only_between_its_two_sides() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let mut other_tab = lesson.teacher_socket().await;
    let (mut ada, ada_id) = lesson.pupil("Ada").await;
    let (mut bo, _) = lesson.pupil("Bo").await;

    let call = json!({ "type": "start_call", "participant": ada_id });
    send_text(&mut teacher, &call.to_string()).await;
    let told = next_media(&mut ada).await;
    assert_eq!(
        (told["type"].as_str(), told["active"].as_bool()),
        (Some("media_call"), Some(true))
    );
    assert_eq!(next_media(&mut teacher).await["type"], "media_call");

    // Bo and the teacher's other tab may neither receive nor send on it.
    let bo_view = Watcher::new().await;
    bo_view.ask(&mut bo, &["call"]).await;
    assert_eq!(
        refusal(&next_media(&mut bo).await),
        ("media_watch", "forbidden")
    );
    assert_eq!(
        refusal(&publish_refused(&mut bo, "call", true, false).await),
        ("media_publish", "forbidden")
    );
    let tab_view = Watcher::new().await;
    tab_view.ask(&mut other_tab, &["call"]).await;
    assert_eq!(
        refusal(&next_media(&mut other_tab).await),
        ("media_watch", "forbidden")
    );
    send_text(&mut bo, r#"{"type":"hang_up"}"#).await;
    assert_eq!(
        refusal(&next_media(&mut bo).await),
        ("hang_up", "forbidden")
    );

    // Voice both ways; a video track was not part of this call.
    assert_eq!(
        refusal(&publish_refused(&mut ada, "call", true, true).await),
        ("media_publish", "forbidden_track")
    );
    let _ada_voice = rtc::publish(&mut ada, "call", true, false).await.unwrap();
    let _teacher_voice = rtc::publish(&mut teacher, "call", true, false)
        .await
        .unwrap();
    let teacher_hears = Watcher::watching(&mut teacher, &["call"], 1).await;
    assert_eq!(
        teacher_hears.streams.lock().unwrap().as_slice(),
        [format!("call.{ada_id}")]
    );
    let ada_hears = Watcher::watching(&mut ada, &["call"], 1).await;
    assert_eq!(
        ada_hears.streams.lock().unwrap().as_slice(),
        ["call.teacher"]
    );
    // Bo, watching the lesson, gets nothing of the call.
    bo_view.ask(&mut bo, &["lesson"]).await;
    let camera = rtc::publish(&mut other_tab, "camera", false, true)
        .await
        .unwrap();
    bo_view.receive_from(&mut bo, 1).await;
    assert_eq!(
        bo_view.streams.lock().unwrap().as_slice(),
        ["camera.teacher"]
    );
    drop(camera);

    // Ada hangs up: both sides hear it and their call peers close.
    send_text(&mut ada, r#"{"type":"hang_up"}"#).await;
    let ended = next_media(&mut ada).await;
    assert_eq!(
        (ended["type"].as_str(), ended["active"].as_bool()),
        (Some("media_call"), Some(false))
    );
    let ended = next_of_type(&mut teacher, "media_call").await;
    assert_eq!(ended["active"], false);
}

#[tokio::test]
async fn bad_signaling_is_refused_and_the_stream_carries_on() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, _) = lesson.pupil("Ada").await;
    let _camera = rtc::publish(&mut teacher, "camera", false, true)
        .await
        .unwrap();
    let view = Watcher::watching(&mut ada, &["lesson"], 1).await;

    let (mut bo, bo_id) = lesson.pupil("Bo").await;
    let (_offer_pc, good_offer) = rtc::publishing_offer(true, false).await;
    let cases: Vec<(Value, (&str, &str))> = vec![
        (
            json!({"type": "media_publish", "stream": "camera", "sdp": "v=0 nonsense"}),
            ("media_publish", "forbidden"),
        ),
        (
            json!({"type": "media_answer", "sdp": "v=0"}),
            ("media_answer", "unexpected"),
        ),
        (
            json!({"type": "media_ice", "peer": "camera", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}),
            ("media_ice", "no_such_peer"),
        ),
        (
            json!({"type": "media_watch", "sources": []}),
            ("media_watch", "invalid"),
        ),
        (
            json!({"type": "grant_talk", "participant": bo_id}),
            ("grant_talk", "forbidden"),
        ),
        (
            json!({"type": "start_call", "participant": bo_id}),
            ("start_call", "forbidden"),
        ),
        (
            json!({"type": "media_publish", "stream": "talk", "sdp": good_offer}),
            ("media_publish", "forbidden"),
        ),
    ];
    for (request, expected) in &cases {
        send_text(&mut bo, &request.to_string()).await;
        assert_eq!(refusal(&next_media(&mut bo).await), *expected, "{request}");
    }
    // The teacher's bad input: garbage SDP, a data channel, an unknown pupil.
    let teacher_cases: Vec<(Value, (&str, &str))> = vec![
        (
            json!({"type": "media_publish", "stream": "screen", "sdp": "v=0 nonsense"}),
            ("media_publish", "bad_sdp"),
        ),
        (
            json!({"type": "grant_talk", "participant": "nobody-here"}),
            ("grant_talk", "not_found"),
        ),
        (
            json!({"type": "media_ice", "peer": "watch", "candidate": "x"}),
            ("media_ice", "no_such_peer"),
        ),
    ];
    for (request, expected) in &teacher_cases {
        send_text(&mut teacher, &request.to_string()).await;
        assert_eq!(
            refusal(&next_media(&mut teacher).await),
            *expected,
            "{request}"
        );
    }
    // A malformed candidate on a peer Ada has.
    let bad_candidate =
        json!({"type": "media_ice", "peer": "watch", "candidate": "candidate:garbage"});
    send_text(&mut ada, &bad_candidate.to_string()).await;
    assert_eq!(
        refusal(&next_media(&mut ada).await),
        ("media_ice", "bad_candidate")
    );

    // Unknown sources and fields are protocol errors: that client is closed with 4000.
    send_text(
        &mut bo,
        r#"{"type":"media_watch","sources":["everything"]}"#,
    )
    .await;
    assert_eq!(
        close_frame(&mut bo).await.map(|f| u16::from(f.code)),
        Some(4000)
    );
    // A flood closes the flooder with 4008.
    let (mut flooder, _) = lesson.pupil("Flo").await;
    for _ in 0..60 {
        let _ = futures_util_send(&mut flooder, r#"{"type":"media_unwatch"}"#).await;
    }
    assert_eq!(
        close_frame(&mut flooder).await.map(|f| u16::from(f.code)),
        Some(4008)
    );

    // Through all of it Ada kept receiving the stream.
    let before = view.packets.load(Ordering::Relaxed);
    let mut waited = 0;
    while view.packets.load(Ordering::Relaxed) <= before + 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 500, "Ada's stream stopped");
    }
}

async fn futures_util_send(socket: &mut Socket, text: &str) -> Result<(), ()> {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
        .await
        .map_err(|_| ())
}

#[tokio::test]
async fn two_hundred_joins_and_leaves_leave_no_peer_track_or_task_behind() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let camera = rtc::publish(&mut teacher, "camera", true, true)
        .await
        .unwrap();
    let (mut ada, _) = lesson.pupil("Ada").await;
    lesson.settles_at(1, 2, 2).await;
    for round in 0..200 {
        let view = Watcher::new().await;
        view.ask(&mut ada, &["lesson"]).await;
        view.receive_from(&mut ada, 1).await;
        if round % 20 != 19 {
            send_text(&mut ada, r#"{"type":"media_unwatch"}"#).await;
            assert_eq!(next_media(&mut ada).await["type"], "media_closed");
        } else {
            // Leaving by closing the page (joins are rate-limited, so only now and then).
            drop(ada);
            ada = lesson.pupil(&format!("Ada {round}")).await.0;
        }
        let _ = view.pc.close().await;
    }
    lesson.settles_at(1, 2, 2).await;
    // Ending the lesson closes the rest.
    let (status, _) = lesson
        .teacher
        .post(&format!("/api/lessons/{}/end", lesson.id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    lesson.settles_at(0, 0, 0).await;
    drop(camera);
}

#[tokio::test]
async fn watchers_follow_a_publisher_that_comes_back_a_broken_viewer_and_a_classroom_camera() {
    let lesson = lesson().await;
    let mut laptop = lesson.teacher_socket().await;
    let (mut ada, _) = lesson.pupil("Ada").await;
    let first = rtc::publish(&mut laptop, "camera", false, true)
        .await
        .unwrap();
    let view = Watcher::watching(&mut ada, &["lesson"], 1).await;

    // The teacher's laptop drops off (Wi-Fi) and its page comes back: Ada is offered the new
    // track without doing anything.
    drop(laptop);
    let _ = first.pc.close().await;
    let without = next_media(&mut ada).await;
    assert_eq!(without["type"], "media_offer");
    view.answer(&mut ada, &without).await;
    lesson.settles_at(1, 0, 0).await;
    let mut laptop = lesson.teacher_socket().await;
    let _second = rtc::publish(&mut laptop, "camera", false, true)
        .await
        .unwrap();
    let before = view.packets.load(Ordering::Relaxed);
    let offer = next_media(&mut ada).await;
    assert_eq!(offer["type"], "media_offer");
    view.answer(&mut ada, &offer).await;
    let mut waited = 0;
    while view.packets.load(Ordering::Relaxed) <= before {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 500, "no packets from the new camera track");
    }

    // Ada's network breaks (her peer connection goes away without a word on /ws): the box
    // notices, closes its side and says so; her page sets up a new one and receives again.
    let _ = view.pc.close().await;
    let closed = next_media_within(&mut ada, Duration::from_secs(30)).await;
    assert_eq!(
        (
            closed["type"].as_str(),
            closed["peer"].as_str(),
            closed["reason"].as_str()
        ),
        (Some("media_closed"), Some("watch"), Some("failed"))
    );
    let _again = Watcher::watching(&mut ada, &["lesson"], 1).await;

    // A phone on a stand, paired as the classroom camera, sends the camera: the laptop stops.
    let (_, mut phone) = lesson.classroom_camera().await;
    let _phone_camera = rtc::publish(&mut phone, "camera", false, true)
        .await
        .unwrap();
    let closed = next_media(&mut laptop).await;
    assert_eq!(
        (
            closed["type"].as_str(),
            closed["peer"].as_str(),
            closed["reason"].as_str()
        ),
        (Some("media_closed"), Some("camera"), Some("replaced"))
    );
    lesson.settles_at(2, 1, 2).await;
}

#[tokio::test]
async fn a_viewer_losing_packets_is_moved_to_a_lower_simulcast_layer_without_a_gap() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, _) = lesson.pupil("Ada").await;
    let _camera = rtc::publish_simulcast(&mut teacher, &["q", "h", "f"], &[])
        .await
        .unwrap();
    lesson.settles_at(1, 1, 3).await;
    let view = Watcher::watching(&mut ada, &["lesson"], 1).await;
    // A good connection starts on the full layer.
    wait_for_layer(&view, 2, 0).await;

    // Loss reported: one layer down, and again.
    wait_for_layer(&view, 1, 128).await;
    wait_for_layer(&view, 0, 128).await;

    // The viewer saw one stream: sequence numbers without a gap across both switches.
    let log = unbroken(&view);
    let layers: Vec<u8> = log.iter().map(|(_, layer)| *layer).collect();
    assert!(
        layers.windows(2).all(|w| w[1] <= w[0]),
        "only ever down: {layers:?}"
    );
}

/// Chromium sends two of its three layers for a 640×480 camera, and turns layers off and on
/// as its CPU and uplink allow: a viewer gets the best layer that arrives, at once, and moves
/// when one stops or starts, in one unbroken stream.
#[tokio::test]
async fn a_viewer_gets_the_best_layer_that_arrives_when_the_top_one_is_off_or_stops() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, _) = lesson.pupil("Ada").await;
    let camera = rtc::publish_simulcast(&mut teacher, &["q", "h", "f"], &["f"])
        .await
        .unwrap();
    // One forwarding task per layer that arrives: f has sent nothing.
    lesson.settles_at(1, 1, 2).await;
    let view = Watcher::watching(&mut ada, &["lesson"], 1).await;
    wait_for_layer(&view, 1, 0).await;

    camera.send_layer("f", true);
    wait_for_layer(&view, 2, 0).await;
    camera.send_layer("f", false);
    wait_for_layer(&view, 1, 0).await;
    camera.send_layer("h", false);
    wait_for_layer(&view, 0, 0).await;

    unbroken(&view);
}

/// The viewer's video log, checked to be one stream: sequence numbers without a gap.
fn unbroken(view: &Watcher) -> Vec<(u16, u8)> {
    let log = view.video.lock().unwrap().clone();
    let gaps: Vec<_> = log
        .windows(2)
        .filter(|w| w[1].0 != w[0].0.wrapping_add(1))
        .collect();
    assert!(gaps.is_empty(), "gaps in the rewritten stream: {gaps:?}");
    log
}

/// Reports `loss` twice (what it takes to step down once), then waits until the viewer
/// receives `layer`.
async fn wait_for_layer(view: &Watcher, layer: u8, loss: u8) {
    if loss > 0 {
        view.report_loss(loss).await;
        view.report_loss(loss).await;
    }
    for _ in 0..200 {
        if view.last_layer() == Some(layer) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never got layer {layer}; last {:?}", view.last_layer());
}

#[tokio::test]
async fn a_lesson_holds_at_most_its_share_of_peer_connections() {
    let lesson = lesson_with(|c| c.media.max_peers_per_lesson = 1).await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, _) = lesson.pupil("Ada").await;
    let _camera = rtc::publish(&mut teacher, "camera", false, true)
        .await
        .unwrap();
    let view = Watcher::new().await;
    view.ask(&mut ada, &["lesson"]).await;
    assert_eq!(
        refusal(&next_media(&mut ada).await),
        ("media_watch", "full")
    );
    lesson.settles_at(1, 1, 1).await;
}

#[tokio::test]
async fn a_port_range_instead_of_one_port_carries_media_too() {
    let lesson = lesson_with(|c| c.media.udp_port_range = Some([42100, 42199])).await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, _) = lesson.pupil("Ada").await;
    let camera = rtc::publish(&mut teacher, "camera", false, true)
        .await
        .unwrap();
    let answer = camera.pc.remote_description().await.unwrap().sdp;
    let ports: Vec<u16> = answer
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .filter_map(|l| l.split_whitespace().nth(5)?.parse().ok())
        .collect();
    assert!(!ports.is_empty(), "{answer}");
    assert!(
        ports.iter().all(|p| (42100..=42199).contains(p)),
        "{ports:?}"
    );
    let _view = Watcher::watching(&mut ada, &["lesson"], 1).await;
}

#[tokio::test]
async fn a_classroom_camera_films_the_lesson_plays_talk_back_and_does_nothing_else() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, ada_id) = lesson.pupil("Ada").await;
    let (camera, mut phone) = lesson.classroom_camera().await;

    let film = rtc::publish(&mut phone, "camera", true, true)
        .await
        .unwrap();
    let view = Watcher::watching(&mut ada, &["lesson"], 2).await;
    assert_eq!(
        view.streams.lock().unwrap().as_slice(),
        ["camera.classroom", "camera.classroom"]
    );
    assert!(film.sent.load(Ordering::Relaxed) > 0);
    // The teacher's page is told the classroom camera is live.
    let told = next_of_type(&mut teacher, "classroom_camera").await;
    assert_eq!(told["live"], true);

    // It sends nothing but the camera, and receives only the pupils let speak.
    for stream in ["screen", "talk", "call"] {
        assert_eq!(
            refusal(&publish_refused(&mut phone, stream, true, false).await),
            ("media_publish", "forbidden"),
            "{stream}"
        );
    }
    for source in ["lesson", "call"] {
        Watcher::new().await.ask(&mut phone, &[source]).await;
        assert_eq!(
            refusal(&next_media(&mut phone).await),
            ("media_watch", "forbidden"),
            "{source}"
        );
    }
    for request in [
        json!({ "type": "grant_talk", "participant": ada_id }),
        json!({ "type": "start_call", "participant": ada_id }),
    ] {
        send_text(&mut phone, &request.to_string()).await;
        assert_eq!(refusal(&next_media(&mut phone).await).1, "forbidden");
    }
    // A pupil the teacher lets speak is heard from the camera device (whose microphone hears
    // the room, so its echo canceller must know what it plays).
    let grant = json!({ "type": "grant_talk", "participant": ada_id });
    send_text(&mut teacher, &grant.to_string()).await;
    assert_eq!(next_media(&mut ada).await["granted"], true);
    let _voice = rtc::publish(&mut ada, "talk", true, false).await.unwrap();
    let room = Watcher::watching(&mut phone, &["talk"], 1).await;
    assert_eq!(
        room.streams.lock().unwrap().as_slice(),
        [format!("talk.{ada_id}")]
    );

    // No messages: every message request is refused, the socket stays open.
    for request in [
        json!({ "type": "sync", "after": 0 }),
        json!({ "type": "send", "client_id": "c1", "thread": "x", "text": "hei" }),
        json!({ "type": "raise_hand" }),
        json!({ "type": "set_chat", "scope": "class", "open": true }),
    ] {
        send_text(&mut phone, &request.to_string()).await;
        let refused = next_of_type(&mut phone, "refused").await;
        assert_eq!(
            (refused["request"].as_str(), refused["code"].as_str()),
            (request["type"].as_str(), Some("forbidden"))
        );
    }
    // Nor pages, documents, files or the teacher's API.
    let class_doc = format!("lesson.{}.class", lesson.id);
    for (path, expected) in [
        ("/api/lessons".to_string(), StatusCode::FORBIDDEN),
        (format!("/api/lessons/{}", lesson.id), StatusCode::FORBIDDEN),
        ("/api/docs".to_string(), StatusCode::FORBIDDEN),
        (format!("/api/docs/{class_doc}"), StatusCode::NOT_FOUND),
        ("/api/classes".to_string(), StatusCode::FORBIDDEN),
    ] {
        assert_eq!(camera.get(&path).await.0, expected, "{path}");
    }
    let (status, _) = camera
        .post(&format!("/api/lessons/{}/camera", lesson.id), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a camera makes no cameras");
    assert!(
        tavla_e2e::yjs::DocClient::connect(&camera, &class_doc)
            .await
            .is_err(),
        "a camera opens no document"
    );
    let (_, me) = camera.get("/api/me").await;
    assert_eq!(me["role"], "camera");

    // The camera stops: the teacher hears of it. The lesson ends: the phone is closed and
    // signed out.
    let stop = json!({ "type": "media_unpublish", "stream": "camera" });
    send_text(&mut phone, &stop.to_string()).await;
    let told = next_of_type(&mut teacher, "classroom_camera").await;
    assert_eq!(told["live"], false);
    let (status, _) = lesson
        .teacher
        .post(&format!("/api/lessons/{}/end", lesson.id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        next_of_type(&mut phone, "lesson_ended").await["type"],
        "lesson_ended"
    );
    assert_eq!(
        close_frame(&mut phone).await.map(|f| u16::from(f.code)),
        Some(4001)
    );
    let (_, me) = camera.get("/api/me").await;
    assert_eq!(me["role"], "nobody");
}

#[tokio::test]
async fn camera_links_are_the_teachers_to_make_and_work_once() {
    let lesson = lesson().await;
    let (ada, _) = lesson.pupil("Ada").await;
    drop(ada);
    let path = format!("/api/lessons/{}/camera", lesson.id);

    // Only the lesson's teacher makes links: a pupil, another teacher and nobody are refused.
    let pupil = guest(&lesson.server, &lesson.code, "Bo").await;
    assert_eq!(pupil.post(&path, json!({})).await.0, StatusCode::FORBIDDEN);
    let other = lesson.server.invited_teacher(&lesson.teacher, "Per").await;
    assert_eq!(other.post(&path, json!({})).await.0, StatusCode::NOT_FOUND);
    let nobody = lesson.server.client();
    assert_eq!(
        nobody.post(&path, json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A link works once; a second device with it, a made-up, an oversized or a malformed
    // token gets a clear error and no session.
    let token = lesson.camera_link().await;
    let first = lesson.server.client();
    let (status, _) = first.post("/api/camera", json!({ "token": token })).await;
    assert_eq!(status, StatusCode::OK);
    for body in [
        json!({ "token": token }),
        json!({ "token": "made-up" }),
        json!({ "token": "x".repeat(10_000) }),
        json!({ "token": "" }),
    ] {
        let device = lesson.server.client();
        let (status, error) = device.post("/api/camera", body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
        assert_eq!(error["error"]["code"], "invalid_token");
        assert_eq!(device.get("/api/me").await.1["role"], "nobody");
    }
    for body in [
        json!({}),
        json!({ "token": 5 }),
        json!({ "token": "a", "extra": 1 }),
    ] {
        let (status, error) = nobody.post("/api/camera", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    }

    // A link of a lesson that has ended does not work.
    let token = lesson.camera_link().await;
    lesson
        .teacher
        .post(&format!("/api/lessons/{}/end", lesson.id), json!({}))
        .await;
    let (status, error) = nobody.post("/api/camera", json!({ "token": token })).await;
    assert_eq!(status, StatusCode::GONE, "{error}");
    assert_eq!(
        lesson.teacher.post(&path, json!({})).await.0,
        StatusCode::GONE
    );
}

#[tokio::test]
async fn a_second_picture_beside_the_teachers_is_hers_to_send_video_only() {
    let lesson = lesson().await;
    let mut teacher = lesson.teacher_socket().await;
    let (mut ada, ada_id) = lesson.pupil("Ada").await;

    let _camera = rtc::publish(&mut teacher, "camera", true, true)
        .await
        .unwrap();
    // The interpreter's camera: video; a microphone with it is refused (their signs are the
    // message, and the lesson's sound comes from the teacher's microphone).
    assert_eq!(
        refusal(&publish_refused(&mut teacher, "interpreter", true, true).await),
        ("media_publish", "forbidden_track")
    );
    let interpreter = rtc::publish(&mut teacher, "interpreter", false, true)
        .await
        .unwrap();
    // A pupil at home watching the lesson gets both pictures, each named for what it is.
    let view = Watcher::watching(&mut ada, &["lesson"], 3).await;
    let mut streams = view.streams.lock().unwrap().clone();
    streams.sort();
    assert_eq!(
        streams,
        ["camera.teacher", "camera.teacher", "interpreter.teacher"]
    );
    assert!(interpreter.sent.load(Ordering::Relaxed) > 0);

    // Nobody else sends a second picture: a pupil, even one let speak.
    for stream in ["interpreter", "document_camera"] {
        assert_eq!(
            refusal(&publish_refused(&mut ada, stream, false, true).await),
            ("media_publish", "forbidden")
        );
    }
    let grant = json!({ "type": "grant_talk", "participant": ada_id, "video": true });
    send_text(&mut teacher, &grant.to_string()).await;
    assert_eq!(next_media(&mut ada).await["granted"], true);
    assert_eq!(
        refusal(&publish_refused(&mut ada, "document_camera", false, true).await),
        ("media_publish", "forbidden")
    );
}
