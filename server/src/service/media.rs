//! Live media use-cases, whatever the connection they arrive on (a browser's `/ws`, a paired
//! box's relay): publish, watch, let a pupil speak and end it, start and end a private call.
//! Each decides with `auth::can` on what the lesson's stage says now, then has the
//! connection's [`MediaLink`] (per-connection state and mechanics) or the stage act.

use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;

use super::Services;
use crate::auth::{can, Action, MediaFacts, Who};
use crate::ids::{LessonId, ParticipantId};
use crate::lessons::lesson::{self, Lesson};
use crate::media::link::{refusal, refused, Happening, MediaLink};
use crate::media::stage::{
    received_medium, sent_medium, Allowed, Call, Receivable, Refusal, Stage,
};
use crate::media::{Stream, WatchSource};
use crate::protocol::{MediaRequest, ServerMessage};

/// Opens `who`'s media in `lesson`.
pub fn open(s: &Services, who: &Who, lesson: &Lesson) -> MediaLink {
    let runs_lesson = can(
        who,
        Action::ManageLesson {
            lesson_teacher: &lesson.teacher_id,
        },
    );
    MediaLink::new(
        s.media.clone(),
        &lesson.id,
        &lesson.teacher_id,
        who.clone(),
        runs_lesson,
    )
}

/// Opens a paired box's relay of `lesson` (`service::boxes::open_relay` checked that the
/// lesson's class is shared with it).
pub fn open_relay(s: &Services, who: &Who, lesson: &Lesson) -> MediaLink {
    open(s, who, lesson).into_relay()
}

/// Carries out one media request of the connection (see docs/PROTOCOL.md).
pub async fn request(
    s: &Services,
    link: &mut MediaLink,
    request: MediaRequest,
) -> Vec<ServerMessage> {
    match request {
        MediaRequest::MediaPublish { stream, sdp } => {
            match may_publish(link.stage(), stream, link.conn(), link.who()) {
                Ok(allowed) => link.publish(stream, sdp, allowed).await,
                Err(why) => refusal("media_publish", Some(stream.name()), why),
            }
        }
        MediaRequest::MediaWatch { sources } => {
            for &source in &sources {
                if let Err(why) = may_watch(link.stage(), source, link.conn(), link.who()) {
                    return refusal("media_watch", Some("watch"), why);
                }
            }
            let may = receivable(link);
            link.watch(sources, may).await
        }
        MediaRequest::GrantTalk { participant, video } => {
            let who = link.who().clone();
            answered(
                grant_talk(s, &who, link.stage(), &participant, video),
                "grant_talk",
            )
        }
        MediaRequest::RevokeTalk { participant } => {
            let who = link.who().clone();
            answered(
                revoke_talk(s, &who, link.stage(), &participant),
                "revoke_talk",
            )
        }
        MediaRequest::StartCall { participant, video } => {
            let (who, conn) = (link.who().clone(), link.conn());
            answered(
                start_call(s, &who, link.stage(), conn, &participant, video),
                "start_call",
            )
        }
        MediaRequest::HangUp => {
            let who = link.who().clone();
            answered(hang_up(&who, link.stage(), link.conn()), "hang_up")
        }
        // The signaling of the connection's own peers: nothing to decide.
        MediaRequest::MediaUnpublish { stream } => link.stop_publishing(stream, "asked").await,
        MediaRequest::MediaAnswer { sdp } => link.answer(sdp).await,
        MediaRequest::MediaUnwatch => link.stop_watching("asked").await,
        MediaRequest::MediaIce {
            peer,
            candidate,
            sdp_mid,
            sdp_mline_index,
        } => {
            let init = RTCIceCandidateInit {
                candidate,
                sdp_mid,
                sdp_mline_index,
                username_fragment: None,
            };
            link.add_candidate(&peer, init).await
        }
    }
}

/// Acts on what happened on the stage or a peer connection, receiving what the connection
/// may receive now.
pub async fn on(link: &mut MediaLink, happening: Happening) -> Vec<ServerMessage> {
    let may = receivable(link);
    link.on(happening, may).await
}

/// Why a request about a pupil was refused.
pub enum MediaRefusal {
    Refused(Refusal),
    NoSuchPupil,
}

fn answered(result: Result<(), MediaRefusal>, request: &'static str) -> Vec<ServerMessage> {
    match result {
        Ok(()) => Vec::new(),
        Err(MediaRefusal::Refused(why)) => refusal(request, None, why),
        Err(MediaRefusal::NoSuchPupil) => {
            refused(request, None, "not_found", "no such pupil in this lesson")
        }
    }
}

/// May `who` on `conn` publish `stream` now, and which kinds (audio, video)?
pub fn may_publish(
    stage: &Stage,
    stream: Stream,
    conn: u64,
    who: &Who,
) -> Result<Allowed, Refusal> {
    let facts = stage.facts_now(sent_medium(stream), conn, who);
    let allowed = Allowed {
        audio: can(who, Action::SendMedia(facts)),
        video: can(
            who,
            Action::SendMedia(MediaFacts {
                video: true,
                ..facts
            }),
        ),
    };
    if allowed.audio || allowed.video {
        Ok(allowed)
    } else {
        Err(Refusal::Forbidden)
    }
}

/// May `who` on `conn` receive `source` now?
pub fn may_watch(stage: &Stage, source: WatchSource, conn: u64, who: &Who) -> Result<(), Refusal> {
    if can(
        who,
        Action::ReceiveMedia(stage.facts_now(received_medium(source), conn, who)),
    ) {
        Ok(())
    } else {
        Err(Refusal::Forbidden)
    }
}

/// Which sources the connection may receive now.
fn receivable(link: &MediaLink) -> Receivable {
    let may = |source| may_watch(link.stage(), source, link.conn(), link.who()).is_ok();
    Receivable {
        lesson: may(WatchSource::Lesson),
        talk: may(WatchSource::Talk),
        call: may(WatchSource::Call),
    }
}

/// The teacher running the lesson, about one of its pupils.
fn as_teacher_about(
    s: &Services,
    who: &Who,
    stage: &Stage,
    participant: &ParticipantId,
) -> Result<(), MediaRefusal> {
    let runs = can(
        who,
        Action::ManageLesson {
            lesson_teacher: stage.lesson_teacher(),
        },
    );
    if !runs {
        return Err(MediaRefusal::Refused(Refusal::Forbidden));
    }
    lesson::get_participant(s.store.as_ref(), stage.lesson_id(), participant)
        .map_err(|_| MediaRefusal::NoSuchPupil)?;
    Ok(())
}

/// The teacher lets a pupil speak (with their camera, if `video`); everyone concerned hears
/// it from the stage.
pub fn grant_talk(
    s: &Services,
    who: &Who,
    stage: &Stage,
    participant: &ParticipantId,
    video: bool,
) -> Result<(), MediaRefusal> {
    as_teacher_about(s, who, stage, participant)?;
    stage.grant_talk(participant, video);
    Ok(())
}

/// The teacher ends a pupil's permission to speak; their talk-back stops at once.
pub fn revoke_talk(
    s: &Services,
    who: &Who,
    stage: &Stage,
    participant: &ParticipantId,
) -> Result<(), MediaRefusal> {
    as_teacher_about(s, who, stage, participant)?;
    stage.revoke_talk(participant);
    Ok(())
}

/// A pupil is no longer in the lesson: a permission to speak they had ends (removing them,
/// deleting them).
pub fn end_talk_of(s: &Services, lesson_id: &LessonId, participant: &ParticipantId) {
    if let Some(stage) = s.media.existing_stage(lesson_id) {
        if stage.talk_grant(participant).is_some() {
            stage.revoke_talk(participant);
        }
    }
}

/// The teacher (on `conn`) starts a private call with one pupil, that nobody else receives.
pub fn start_call(
    s: &Services,
    who: &Who,
    stage: &Stage,
    conn: u64,
    participant: &ParticipantId,
    video: bool,
) -> Result<(), MediaRefusal> {
    as_teacher_about(s, who, stage, participant)?;
    stage.start_call(Call {
        teacher_conn: conn,
        participant_id: participant.clone(),
        video,
    });
    Ok(())
}

/// Either side of the call hangs up.
pub fn hang_up(who: &Who, stage: &Stage, conn: u64) -> Result<(), MediaRefusal> {
    match stage.call() {
        Some(call) if call.includes(conn, who) => {
            stage.end_call();
            Ok(())
        }
        _ => Err(MediaRefusal::Refused(Refusal::Forbidden)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pupil(id: &str) -> Who {
        Who::Pupil(crate::auth::Seat {
            participant_id: id.into(),
            lesson_id: "L1".into(),
            class_id: "C1".into(),
            at_home: true,
        })
    }

    fn teacher() -> Who {
        Who::Teacher {
            teacher_id: "t1".into(),
        }
    }

    fn stage(max_peers: usize) -> Stage {
        Stage::new(&"L1".into(), &"t1".into(), max_peers)
    }

    #[test]
    fn only_teachers_publish_the_lesson_and_only_granted_pupils_talk() {
        let stage = stage(10);
        assert!(may_publish(&stage, Stream::Camera, 1, &teacher()).is_ok());
        assert_eq!(
            may_publish(&stage, Stream::Camera, 2, &pupil("p1")),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            may_publish(&stage, Stream::Talk, 2, &pupil("p1")),
            Err(Refusal::Forbidden)
        );
        stage.grant_talk(&"p1".into(), false);
        assert_eq!(
            may_publish(&stage, Stream::Talk, 2, &pupil("p1")),
            Ok(Allowed {
                audio: true,
                video: false
            })
        );
        assert!(may_publish(&stage, Stream::Talk, 3, &pupil("p2")).is_err());
        stage.revoke_talk(&"p1".into());
        assert!(may_publish(&stage, Stream::Talk, 2, &pupil("p1")).is_err());
        assert!(may_watch(&stage, WatchSource::Talk, 2, &pupil("p1")).is_err());
    }

    #[test]
    fn a_call_belongs_to_its_two_sides() {
        let stage = stage(10);
        stage.start_call(Call {
            teacher_conn: 1,
            participant_id: "p1".into(),
            video: false,
        });
        assert!(may_watch(&stage, WatchSource::Call, 2, &pupil("p1")).is_ok());
        assert!(may_watch(&stage, WatchSource::Call, 1, &teacher()).is_ok());
        assert!(may_watch(&stage, WatchSource::Call, 3, &pupil("p2")).is_err());
        assert!(
            may_watch(&stage, WatchSource::Call, 4, &teacher()).is_err(),
            "another teacher connection is not the call's"
        );
        stage.end_call();
        assert!(may_watch(&stage, WatchSource::Call, 2, &pupil("p1")).is_err());
    }
}
