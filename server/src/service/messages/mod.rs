//! Messages, hands and chats: the use-cases a `/ws` connection asks for (send, delete a
//! message, raise or lower a hand, "coming to you", open a chat, mute), one function each,
//! taking the caller and the lesson. Here and only here are they allowed (`auth::can`);
//! `channels` keeps, numbers and delivers what they decide. [`session`] is one connection's
//! state (what it may read, how far it got) and its dispatch to these functions.

pub mod session;

use super::Services;
use crate::auth::{can, Action, Who};
use crate::channels::chat::ChatSettings;
use crate::channels::hands::{self, Hand};
use crate::channels::message::{Author, FileRef, MessageKind, MAX_TEXT_CHARS};
use crate::channels::people::member_names;
use crate::channels::thread::{self, Resolved, ThreadId};
use crate::channels::{ChannelError, Channels, Draft};
use crate::docs::access::{self as doc_access, DocName};
use crate::ids::{GroupId, LessonId, ParticipantId};
use crate::lessons::groups;
use crate::lessons::lesson::Lesson;
use crate::store::Store;
use crate::uploads;
use crate::validate::invalid;

/// Longest mute, in minutes: a lesson.
pub const MAX_MUTE_MINUTES: u32 = 240;

/// A message as its writer sends it.
pub struct Outgoing {
    pub client_id: String,
    pub thread: String,
    pub text: String,
    /// A document the message points to.
    pub doc: Option<String>,
    /// A file the writer uploaded for this thread.
    pub file: Option<String>,
    /// The teacher's message as an announcement (read out by screen readers).
    pub announce: bool,
}

/// A message the box took: the writer's id for it and its number.
pub struct Taken {
    pub client_id: String,
    pub seq: u64,
}

/// Whether `who` runs `lesson`: they moderate it (delete, mute, open chats, "coming to you")
/// and read every thread of it.
pub fn runs(who: &Who, lesson: &Lesson) -> bool {
    can(
        who,
        Action::ManageLesson {
            lesson_teacher: &lesson.teacher_id,
        },
    )
}

fn teacher_only(who: &Who, lesson: &Lesson) -> Result<(), ChannelError> {
    if runs(who, lesson) {
        Ok(())
    } else {
        Err(ChannelError::Forbidden)
    }
}

/// The thread named `raw`, if `who` may read it; otherwise `NotFound`, as if it did not exist.
pub fn readable_thread(
    store: &dyn Store,
    lesson: &Lesson,
    chat: &ChatSettings,
    who: &Who,
    raw: &str,
) -> Result<Resolved, ChannelError> {
    let id = ThreadId::parse(raw).ok_or(ChannelError::NotFound)?;
    let resolved = thread::resolve(store, lesson, chat, id)?;
    if can(who, Action::ReadThread(resolved.facts(false))) {
        Ok(resolved)
    } else {
        Err(ChannelError::NotFound)
    }
}

/// The thread named `raw`, if `who` may write into it now; the error says why not.
pub fn writable_thread(
    store: &dyn Store,
    lesson: &Lesson,
    chat: &ChatSettings,
    who: &Who,
    raw: &str,
    now_ms: u64,
) -> Result<Resolved, ChannelError> {
    let resolved = readable_thread(store, lesson, chat, who, raw)?;
    let muted = match who {
        Who::Pupil(seat) => chat.muted_until(&seat.participant_id, now_ms).is_some(),
        _ => false,
    };
    if can(who, Action::WriteThread(resolved.facts(muted))) {
        return Ok(resolved);
    }
    Err(match (resolved.is_chat(), resolved.is_open(), muted) {
        (true, false, _) => ChannelError::ChatClosed,
        (true, true, true) => ChannelError::Muted,
        _ => ChannelError::Forbidden,
    })
}

/// Of `candidates`, the threads `who` may read now (those that do not exist are left out).
pub fn readable_threads(
    channels: &Channels,
    who: &Who,
    lesson: &Lesson,
    candidates: Vec<ThreadId>,
) -> Result<Vec<String>, ChannelError> {
    let store = channels.store();
    let chat = channels.chat(&lesson.id)?;
    let mut readable = Vec::new();
    for id in candidates {
        match thread::resolve(store, lesson, &chat, id) {
            Ok(resolved) if can(who, Action::ReadThread(resolved.facts(false))) => {
                readable.push(resolved.id.to_string())
            }
            Ok(_) | Err(ChannelError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(readable)
}

/// Message text: 1..=2000 characters after trimming, no control characters but line breaks
/// and tabs.
fn checked_text(field: &'static str, raw: &str) -> Result<String, ChannelError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid(field, "must not be empty").into());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(field, "is too long").into());
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(field, "must not contain control characters").into());
    }
    Ok(text.to_string())
}

fn checked_client_id(raw: &str) -> Result<String, ChannelError> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(invalid("client_id", "must be 1 to 64 letters, digits, - or _").into())
    }
}

/// `who` (writing as `author`) sends a message into a thread of `lesson` they may write in.
pub async fn send(
    s: &Services,
    who: &Who,
    lesson: &Lesson,
    author: &Author,
    outgoing: Outgoing,
) -> Result<Taken, ChannelError> {
    let client_id = checked_client_id(&outgoing.client_id)?;
    // A file may go without words.
    let text = match (&outgoing.file, outgoing.text.trim()) {
        (Some(_), "") => String::new(),
        _ => checked_text("text", &outgoing.text)?,
    };
    let store = s.channels.store();
    let chat = s.channels.chat(&lesson.id)?;
    let resolved = writable_thread(
        store,
        lesson,
        &chat,
        who,
        &outgoing.thread,
        s.channels.now_ms(),
    )?;
    if outgoing.announce && !runs(who, lesson) {
        return Err(ChannelError::Forbidden);
    }
    if let Some(doc) = &outgoing.doc {
        check_doc_link(s, who, doc)?;
    }
    let file = match outgoing.file {
        Some(id) => Some(attachment(s, author, &id, &resolved.id.to_string())?),
        None => None,
    };
    let kind = match resolved.id {
        ThreadId::Announcements { .. } => MessageKind::Announcement,
        _ if outgoing.announce => MessageKind::Announcement,
        _ => MessageKind::Message,
    };
    let message = s
        .channels
        .post(Draft {
            thread: resolved.id.to_string(),
            lesson_id: lesson.id.clone(),
            author: author.clone(),
            kind,
            text,
            doc: outgoing.doc,
            file: file.clone(),
            client_id: Some(client_id.clone()),
            origin: None,
        })
        .await?;
    // The file is a message's now: the sweep of unsent uploads leaves it.
    if let Some(file) = &file {
        uploads::mark_attached(store, &file.id)?;
    }
    Ok(Taken {
        client_id,
        seq: message.seq,
    })
}

/// A file goes only into the thread it was uploaded for, by the one who uploaded it.
fn attachment(
    s: &Services,
    author: &Author,
    id: &str,
    thread: &str,
) -> Result<FileRef, ChannelError> {
    let not_yours = || ChannelError::from(invalid("file", "is not a file you sent to this thread"));
    let upload = uploads::get(s.channels.store(), id)?.ok_or_else(not_yours)?;
    if upload.thread != thread || upload.owner_id != author.id {
        return Err(not_yours());
    }
    Ok(FileRef {
        id: upload.id,
        name: upload.file_name,
        content_type: upload.content_type,
        size: upload.size,
    })
}

/// A message may point only to a document its writer can open.
fn check_doc_link(s: &Services, who: &Who, doc: &str) -> Result<(), ChannelError> {
    let name = DocName::parse(doc).ok_or(invalid("doc", "is not a document"))?;
    let resolved = doc_access::resolve(s.channels.store(), name)
        .map_err(|_| invalid("doc", "is not a document you can open"))?;
    if can(who, Action::ReadDoc(resolved.facts())) {
        Ok(())
    } else {
        Err(invalid("doc", "is not a document you can open").into())
    }
}

/// The teacher deletes a message of a thread of their lesson.
pub async fn delete_message(
    s: &Services,
    who: &Who,
    lesson: &Lesson,
    thread_name: &str,
    seq: u64,
) -> Result<(), ChannelError> {
    teacher_only(who, lesson)?;
    let chat = s.channels.chat(&lesson.id)?;
    let resolved = readable_thread(s.channels.store(), lesson, &chat, who, thread_name)?;
    s.channels
        .delete(&lesson.id, &resolved.id.to_string(), seq)
        .await
}

/// A pupil raises their hand, with a question only the teacher sees (which also goes into
/// their private thread). Returns the question's `Taken`, if there was one.
pub async fn raise_hand(
    s: &Services,
    who: &Who,
    lesson: &Lesson,
    author: &Author,
    question: Option<String>,
    client_id: Option<String>,
) -> Result<Option<Taken>, ChannelError> {
    let raises = Action::RaiseHand {
        lesson_id: &lesson.id,
    };
    let (Who::Pupil(seat), true) = (who, can(who, raises)) else {
        return Err(ChannelError::Forbidden);
    };
    let question = match question.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) => Some(checked_text("question", q)?),
    };
    let mut taken = None;
    if let Some(question) = &question {
        let client_id = checked_client_id(client_id.as_deref().unwrap_or_default())?;
        let message = s
            .channels
            .post(Draft {
                thread: ThreadId::private(&lesson.id, &seat.participant_id, &seat.class_id)
                    .to_string(),
                lesson_id: lesson.id.clone(),
                author: author.clone(),
                kind: MessageKind::Question,
                text: question.clone(),
                doc: None,
                file: None,
                client_id: Some(client_id.clone()),
                origin: None,
            })
            .await?;
        taken = Some(Taken {
            client_id,
            seq: message.seq,
        });
    }
    let hand = Hand {
        participant_id: seat.participant_id.clone(),
        name: author.name.clone(),
        at_home: seat.at_home,
        raised_ms: s.channels.now_ms(),
        question,
        coming: false,
    };
    s.channels
        .update_hands(&lesson.id, |queue| {
            let before = queue.clone();
            hands::raise(queue, hand);
            *queue != before
        })
        .await?;
    Ok(taken)
}

/// A pupil lowers their own hand, or the teacher lowers anyone's.
pub async fn lower_hand(
    s: &Services,
    who: &Who,
    lesson: &Lesson,
    participant: Option<ParticipantId>,
) -> Result<(), ChannelError> {
    let teacher = runs(who, lesson);
    let whose = match (who, participant) {
        (_, Some(p)) if teacher => {
            if !member_names(s.channels.store(), lesson)?.contains_key(&p) {
                return Err(ChannelError::NotFound);
            }
            p
        }
        (_, None) if teacher => {
            return Err(invalid("participant", "name whose hand to lower").into())
        }
        (Who::Pupil(seat), None) => seat.participant_id.clone(),
        (Who::Pupil(seat), Some(p)) if p == seat.participant_id => p,
        _ => return Err(ChannelError::Forbidden),
    };
    lower_hand_of(s, &lesson.id, &whose).await
}

/// Lowers `whose` hand in the lesson, if it is up (the pupil left, or was deleted). Lowering
/// a hand that is already down is not an error: the teacher and the pupil may both have
/// pressed the button.
pub async fn lower_hand_of(
    s: &Services,
    lesson_id: &LessonId,
    whose: &ParticipantId,
) -> Result<(), ChannelError> {
    s.channels
        .update_hands(lesson_id, |queue| hands::lower(queue, whose))
        .await?;
    Ok(())
}

/// The teacher tells a pupil whose hand is up that she is coming to them.
pub async fn coming(
    s: &Services,
    who: &Who,
    lesson: &Lesson,
    participant: &ParticipantId,
) -> Result<(), ChannelError> {
    teacher_only(who, lesson)?;
    let queue = s.channels.hands(&lesson.id)?;
    if !queue.iter().any(|h| h.participant_id == participant) {
        return Err(ChannelError::NotFound);
    }
    s.channels
        .update_hands(&lesson.id, |queue| {
            let news = queue
                .iter()
                .any(|h| h.participant_id == participant && !h.coming);
            hands::coming(queue, participant);
            news
        })
        .await?;
    Ok(())
}

/// The teacher opens or closes the class chat (`scope` "class") or a group's (its id).
pub async fn set_chat(
    s: &Services,
    who: &Who,
    lesson: &Lesson,
    scope: &str,
    open: bool,
) -> Result<(), ChannelError> {
    teacher_only(who, lesson)?;
    let group = if scope == "class" {
        None
    } else {
        let id = GroupId::parse(scope).map_err(|_| ChannelError::NotFound)?;
        groups::get(s.channels.store(), &lesson.id, &id).map_err(|_| ChannelError::NotFound)?;
        Some(id)
    };
    s.channels
        .update_chat(&lesson.id, |settings| match group {
            None => settings.class_open = open,
            Some(group) => {
                settings.open_groups.retain(|g| *g != group);
                if open {
                    settings.open_groups.push(group);
                }
            }
        })
        .await
}

/// The teacher mutes a pupil in the chats for `minutes` (0 lifts it).
pub async fn mute(
    s: &Services,
    who: &Who,
    lesson: &Lesson,
    participant: &ParticipantId,
    minutes: u32,
) -> Result<(), ChannelError> {
    teacher_only(who, lesson)?;
    if minutes > MAX_MUTE_MINUTES {
        return Err(invalid("minutes", "must be at most 240").into());
    }
    if !member_names(s.channels.store(), lesson)?.contains_key(participant) {
        return Err(ChannelError::NotFound);
    }
    let until = s.channels.now_ms() + u64::from(minutes) * 60_000;
    s.channels
        .update_chat(&lesson.id, |settings| {
            if minutes == 0 {
                settings.muted.remove(participant);
            } else {
                settings.muted.insert(participant.clone(), until);
            }
        })
        .await
}
