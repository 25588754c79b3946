//! What the message channels keep about a pupil: their private thread with the teacher (both
//! directions), what they wrote in class and group chat, their raised hands, mutes, and the
//! ids that stop a resent message from being stored twice.
//!
//! Announcements are the teacher's and name no pupil; they stay.

use serde_json::json;

use super::message::{sent_key, Message, SENT};
use super::thread::ThreadId;
use super::{chat, hands};
use crate::ids::{ClassId, LessonId, ParticipantId, PupilId};
use crate::privacy::{
    remove_key, remove_prefix, Category, Held, Keeper, LessonKeeper, LessonScope, Subject,
};
use crate::store::{Store, StoreError, StoreExt, Tree};

pub struct Messages;

/// The name of a rostered pupil's private thread with the teacher.
pub fn private_thread(class_id: &ClassId, pupil_id: &PupilId) -> String {
    ThreadId::PrivateRostered {
        class_id: class_id.clone(),
        pupil_id: pupil_id.clone(),
    }
    .to_string()
}

/// Key prefixes of the chat threads of a lesson: the class chat and every group's.
fn chat_prefixes(lesson_id: &LessonId) -> [String; 2] {
    [
        format!(
            "m/{}/",
            ThreadId::ClassChat {
                lesson_id: lesson_id.clone()
            }
        ),
        format!("m/gr.{lesson_id}."),
    ]
}

/// The chat messages the pupil wrote in a lesson, with their keys.
fn written_in_chats(
    store: &dyn Store,
    lesson_id: &LessonId,
    me: &ParticipantId,
) -> Result<Vec<(Vec<u8>, Message)>, StoreError> {
    let mut written = Vec::new();
    for prefix in chat_prefixes(lesson_id) {
        for (key, value) in store.scan_prefix(Tree::Channels, prefix.as_bytes())? {
            if let Ok(message) = serde_json::from_slice::<Message>(&value) {
                if message.author.id == me.as_str() {
                    written.push((key, message));
                }
            }
        }
    }
    Ok(written)
}

fn record(message: &Message, thread: &str) -> Held {
    Held::Record {
        category: Category::Messages,
        value: json!({
            "thread": thread,
            "at_ms": message.at_ms,
            "from": if message.author.teacher { "teacher" } else { "pupil" },
            "kind": message.kind,
            "text": message.text,
            "file": message.file.as_ref().map(|f| &f.name),
            "deleted": message.deleted,
        }),
    }
}

impl Keeper for Messages {
    fn name(&self) -> &'static str {
        "messages and hands"
    }

    fn trees(&self) -> &'static [Tree] {
        &[Tree::Channels]
    }

    fn holds(&self, store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, StoreError> {
        let me = &subject.participant;
        let private = &subject.private_thread;
        let mut held: Vec<Held> = store
            .scan_json::<Message>(Tree::Channels, &format!("m/{private}/"))?
            .iter()
            .map(|m| record(m, "private"))
            .collect();
        for lesson_id in &subject.lessons {
            for (_, message) in written_in_chats(store, lesson_id, me)? {
                let chat = if message.thread.starts_with("gr.") {
                    "group chat"
                } else {
                    "class chat"
                };
                held.push(record(&message, chat));
            }
            let queue = hands::load(store, lesson_id).map_err(into_store)?;
            for hand in queue.iter().filter(|h| h.participant_id == me) {
                held.push(Held::Record {
                    category: Category::Hands,
                    value: json!({
                        "raised_ms": hand.raised_ms,
                        "question": hand.question,
                        "from_home": hand.at_home,
                    }),
                });
            }
        }
        Ok(held)
    }

    fn forget(&self, store: &dyn Store, subject: &Subject) -> Result<usize, StoreError> {
        let me = &subject.participant;
        let private = &subject.private_thread;
        let mut gone = remove_prefix(store, Tree::Channels, &format!("m/{private}/"))?
            + remove_prefix(store, Tree::Channels, &format!("del/{private}/"))?
            // `sent/<author>/<client id>`: the pupil's resend guard.
            + remove_prefix(store, Tree::Channels, &sent_key(me, ""))?;
        let mut chat_lines = Vec::new();
        for lesson_id in &subject.lessons {
            for (key, message) in written_in_chats(store, lesson_id, me)? {
                store.take(Tree::Channels, &key)?;
                chat_lines.push((message.thread.clone(), message.seq));
                gone += 1;
                // A deletion marker points at the message by number; it goes with it.
                for (del_key, value) in store.scan_prefix(
                    Tree::Channels,
                    format!("del/{}/", message.thread).as_bytes(),
                )? {
                    if serde_json::from_slice::<u64>(&value).ok() == Some(message.seq) {
                        store.take(Tree::Channels, &del_key)?;
                        gone += 1;
                    }
                }
            }
            let mut queue = hands::load(store, lesson_id).map_err(into_store)?;
            if hands::lower(&mut queue, me) {
                hands::save(store, lesson_id, &queue).map_err(into_store)?;
                gone += 1;
            }
            let mut settings = chat::load(store, lesson_id).map_err(into_store)?;
            if settings.muted.remove(me).is_some() {
                chat::save(store, lesson_id, &settings).map_err(into_store)?;
                gone += 1;
            }
        }
        // The teacher's resend guards that point into the private thread (its name holds the
        // pupil's id) or at a removed chat line.
        gone += remove_sent_guards(store, |thread, seq| {
            thread == private.as_str() || chat_lines.iter().any(|(t, s)| t == thread && *s == seq)
        })?;
        Ok(gone)
    }
}

/// Everything of an expired lesson: announcements, class and group chat, guests' private
/// threads, the hand queue, the chat switches.
impl LessonKeeper for Messages {
    fn name(&self) -> &'static str {
        "messages and hands"
    }

    fn forget_lesson(&self, store: &dyn Store, lesson: &LessonScope) -> Result<usize, StoreError> {
        let l = &lesson.lesson_id;
        let mut gone = 0;
        for thread in ThreadId::lesson_key_prefixes(l) {
            gone += remove_prefix(store, Tree::Channels, &format!("m/{thread}"))?;
            gone += remove_prefix(store, Tree::Channels, &format!("del/{thread}"))?;
        }
        gone += remove_sent_guards(store, |thread, _| {
            ThreadId::parse(thread).is_some_and(|t| t.lesson() == Some(l))
        })?;
        gone += remove_key(store, Tree::Channels, &hands::key(l))?;
        gone += remove_key(store, Tree::Channels, &chat::key(l))?;
        Ok(gone)
    }
}

/// Removes the resend guards (`sent/…` → thread and number) that `points_at` picks.
fn remove_sent_guards(
    store: &dyn Store,
    points_at: impl Fn(&str, u64) -> bool,
) -> Result<usize, StoreError> {
    let mut gone = 0;
    for (key, value) in store.scan_prefix(Tree::Channels, SENT.as_bytes())? {
        let Ok((thread, seq)) = serde_json::from_slice::<(String, u64)>(&value) else {
            continue;
        };
        if points_at(&thread, seq) {
            store.take(Tree::Channels, &key)?;
            gone += 1;
        }
    }
    Ok(gone)
}

/// Deletes messages in class-list pupils' private threads written before `before_ms` (with
/// their deletion markers and resend guards); returns how many went.
pub fn expire_private(store: &dyn Store, before_ms: u64) -> Result<usize, StoreError> {
    let prefix = format!("m/{}", ThreadId::ROSTERED_PRIVATE_PREFIX);
    let mut expired = Vec::new();
    for (key, value) in store.scan_prefix(Tree::Channels, prefix.as_bytes())? {
        if let Ok(message) = serde_json::from_slice::<Message>(&value) {
            if message.at_ms < before_ms {
                store.take(Tree::Channels, &key)?;
                expired.push((message.thread, message.seq));
            }
        }
    }
    let mut gone = expired.len();
    for (thread, seq) in &expired {
        for (key, value) in
            store.scan_prefix(Tree::Channels, format!("del/{thread}/").as_bytes())?
        {
            if serde_json::from_slice::<u64>(&value).ok() == Some(*seq) {
                store.take(Tree::Channels, &key)?;
                gone += 1;
            }
        }
    }
    gone += remove_sent_guards(store, |thread, seq| {
        expired.iter().any(|(t, s)| t == thread && *s == seq)
    })?;
    Ok(gone)
}

/// When the oldest message of the private threads of `class_id` was written, and how many
/// there are.
pub fn private_survey(
    store: &dyn Store,
    class_id: &ClassId,
) -> Result<(usize, Option<u64>), StoreError> {
    let prefix = format!("m/{}{class_id}.", ThreadId::ROSTERED_PRIVATE_PREFIX);
    let messages: Vec<Message> = store.scan_json(Tree::Channels, &prefix)?;
    Ok((messages.len(), messages.iter().map(|m| m.at_ms).min()))
}

fn into_store(e: super::ChannelError) -> StoreError {
    match e {
        super::ChannelError::Store(e) => e,
        other => StoreError::Io(other.to_string()),
    }
}
