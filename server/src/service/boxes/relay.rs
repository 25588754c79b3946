//! Lesson streams across rooms (a class split over two rooms). The box a class came from (its
//! origin) sends a running lesson's stream to a paired box that shares the class once, on one
//! peer connection, and that box passes it on to its own viewers: the origin sends one copy
//! whatever the number of viewers there.
//!
//! - On the origin: [`open_relay`] lets a paired box receive a lesson of a class shared with
//!   it; its grant ends with the lesson, with the sharing and with the pairing.
//! - On the receiving box: [`relay_while_watched`] follows a lesson whose class came from a
//!   paired box, and receives the stream from there while anyone here watches it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::answer::{may_receive, shares_of};
use super::config_for;
use crate::auth::grants::{Grant, Holder};
use crate::auth::Who;
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::lessons::lesson::{self, Lesson};
use crate::media::relay::Upstream;
use crate::media::stage::Stage;
use crate::protocol::CloseCode;
use crate::service::boxes::federation::client::{self, Socket};
use crate::service::boxes::federation::pairs::{self, PairedBox};
use crate::service::Services;

/// A paired box asks to receive `lesson_id`'s stream. The grant is issued first and the checks
/// follow (as for `/ws`): unsharing or unpairing on its way is either seen here or ends it.
pub fn open_relay(
    s: &Services,
    who: &Who,
    lesson_id: &LessonId,
) -> Result<(Lesson, Grant), ServiceError> {
    let Who::PairedBox { box_id } = who else {
        return Err(ServiceError::Forbidden);
    };
    let lesson = lesson::get(s.store.as_ref(), lesson_id)?;
    let grant = s.grants.issue(Holder {
        who: who.clone(),
        session_key: format!("box/{box_id}"),
        lesson_id: Some(lesson.id.clone()),
        class_id: Some(lesson.class_id.clone()),
    });
    // A lesson of a class not shared with the asker is not told apart from no lesson.
    if !may_receive(who, &shares_of(s, who)?, &lesson.class_id) {
        return Err(ServiceError::NotFound);
    }
    if !lesson.is_active(s.clock.now_ms()) {
        return Err(ServiceError::LessonEnded);
    }
    Ok((lesson, grant))
}

/// The largest message the origin box may send on a relay (an offer with its candidates is a
/// few kilobytes).
const MAX_RELAY_MESSAGE_BYTES: usize = 256 * 1024;
/// A viewer who reloads the page leaves and comes back within seconds: the relay waits this
/// long before closing.
const LINGER: Duration = Duration::from_secs(5);
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MOST: Duration = Duration::from_secs(30);

/// How one relay of a lesson ended.
enum Relayed {
    /// Nobody here watched any more.
    Unwatched,
    /// The lesson ended on its origin box: nothing more will come.
    Over,
    /// The origin box could not be reached, refused, or the path broke: try again later.
    Broken(String),
}

/// The paired box `lesson_id`'s class came from, if it did (and that box is still paired).
fn origin_of(s: &Services, lesson_id: &LessonId) -> Option<PairedBox> {
    let store = s.store.as_ref();
    let lesson = lesson::get(store, lesson_id).ok()?;
    pairs::origin_of(store, &lesson.class_id).ok()?
}

/// Follows a lesson whose stage was just made on this box: if its class came from a paired
/// box, that box's stream of the lesson is received here while anyone here watches it (and
/// asked for again, with growing pauses, when the way there breaks). Returns when the stage
/// goes (its last connection here left), the lesson ended there, or the box was unpaired.
pub async fn relay_while_watched(s: &Services, lesson_id: &LessonId) {
    if origin_of(s, lesson_id).is_none() {
        return;
    }
    let Some(stage) = s.media.existing_stage(lesson_id) else {
        return;
    };
    let mut viewers = stage.lesson_viewers();
    let stage = Arc::downgrade(&stage);
    let mut pause = RETRY_FIRST;
    loop {
        if viewers.wait_for(|&n| n > 0).await.is_err() {
            return;
        }
        let (Some(live), Some(origin)) = (stage.upgrade(), origin_of(s, lesson_id)) else {
            return;
        };
        match relay_once(s, &origin, lesson_id, live, &mut viewers).await {
            Relayed::Unwatched => pause = RETRY_FIRST,
            Relayed::Over => return,
            Relayed::Broken(why) => {
                tracing::info!(%lesson_id, box_id = %origin.box_id, "a paired box's lesson stream broke off: {why}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RETRY_MOST);
            }
        }
    }
}

async fn relay_once(
    s: &Services,
    origin: &PairedBox,
    lesson_id: &LessonId,
    stage: Arc<Stage>,
    viewers: &mut watch::Receiver<usize>,
) -> Relayed {
    let broken = |e: &dyn std::fmt::Display| Relayed::Broken(e.to_string());
    let config = match config_for(s, origin) {
        Ok(config) => config,
        Err(e) => return broken(&e),
    };
    let path = format!("/sync/relay?lesson={lesson_id}");
    let mut socket =
        match client::open_socket(config, &origin.address, &path, MAX_RELAY_MESSAGE_BYTES).await {
            Ok(socket) => socket,
            Err(e) => return broken(&e),
        };
    let origin_who = Who::PairedBox {
        box_id: origin.box_id.clone(),
    };
    let mut upstream = match Upstream::open(&s.media, stage, origin_who).await {
        Ok(upstream) => upstream,
        Err(e) => return broken(&e),
    };
    tracing::info!(%lesson_id, box_id = %origin.box_id, "receiving a lesson's stream from a paired box");
    let outcome = exchange(&mut socket, &mut upstream, viewers).await;
    upstream.close().await;
    let _ = socket.close(None).await;
    outcome
}

/// Speaks the media protocol with the origin box until the relay ends.
async fn exchange(
    socket: &mut Socket,
    upstream: &mut Upstream,
    viewers: &mut watch::Receiver<usize>,
) -> Relayed {
    if let Err(e) = socket.send(Message::text(Upstream::watch_request())).await {
        return Relayed::Broken(e.to_string());
    }
    let unwatched = nobody_watches(viewers);
    tokio::pin!(unwatched);
    loop {
        tokio::select! {
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => match upstream.on_message(text.as_str()).await {
                    Ok(Some(reply)) => {
                        if let Err(e) = socket.send(Message::text(reply)).await {
                            return Relayed::Broken(e.to_string());
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return Relayed::Broken(e.to_string()),
                },
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map(|f| u16::from(f.code));
                    return closed_by_origin(code);
                }
                // Pings are answered by the socket itself.
                Some(Ok(_)) => {}
                Some(Err(e)) => return Relayed::Broken(e.to_string()),
                None => return Relayed::Broken("the origin box closed the connection".into()),
            },
            _ = upstream.failed() => return Relayed::Broken("the media path broke".into()),
            _ = &mut unwatched => return Relayed::Unwatched,
        }
    }
}

/// The origin box closed the relay: after the lesson's end there is nothing more to ask for.
fn closed_by_origin(code: Option<u16>) -> Relayed {
    match code {
        Some(code) if code == CloseCode::LessonEnded.code() => Relayed::Over,
        Some(code) => Relayed::Broken(format!("closed by the origin box ({code})")),
        None => Relayed::Broken("closed by the origin box".into()),
    }
}

/// Resolves once nobody here has watched the lesson for [`LINGER`], or the stage is gone.
async fn nobody_watches(viewers: &mut watch::Receiver<usize>) {
    loop {
        if viewers.wait_for(|&n| n == 0).await.is_err() {
            return;
        }
        match tokio::time::timeout(LINGER, viewers.wait_for(|&n| n > 0)).await {
            Ok(Ok(_)) => continue,
            Ok(Err(_)) | Err(_) => return,
        }
    }
}
