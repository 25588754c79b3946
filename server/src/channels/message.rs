//! Stored messages: one key per message under its thread, numbered box-wide so a client can
//! say "everything after 1234" and get exactly what it missed.

use serde::{Deserialize, Serialize};

use super::ChannelError;
use crate::ids::{BoxId, LessonId};
use crate::store::{Store, StoreExt, Tree};

/// Longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Box-wide, increasing; the resume cursor.
    pub seq: u64,
    pub thread: String,
    /// The lesson it was written in (a rostered pupil's private thread spans lessons).
    pub lesson_id: LessonId,
    pub author: Author,
    pub at_ms: u64,
    pub kind: MessageKind,
    /// Empty once deleted.
    pub text: String,
    /// A shared document the message points to (`lesson.….pupil.…` and the like).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// An attached file (`GET /api/files/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    #[serde(default)]
    pub deleted: bool,
    /// Where it was written, when that was a paired box (its number there, and when).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// A message's first home: the box that numbered it first, and its number and time there. A
/// message keeps its origin on every box it reaches, so none takes it twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub box_id: BoxId,
    pub seq: u64,
    pub at_ms: u64,
}

impl Origin {
    /// The resend guard's client id for a message taken from a paired box.
    pub fn client_id(&self) -> String {
        format!("box.{}.{}", self.box_id, self.seq)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// A participant id, or the teacher's id.
    pub id: String,
    pub name: String,
    pub teacher: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Message,
    Announcement,
    /// Written with a raised hand.
    Question,
}

pub(super) fn message_key(thread: &str, seq: u64) -> String {
    format!("m/{thread}/{seq:016x}")
}

/// Which message a client's `client_id` became, so a resend after a reconnect is not stored twice.
pub(super) fn sent_key(author_id: &str, client_id: &str) -> String {
    format!("{SENT}{author_id}/{client_id}")
}

/// Every resend guard's key starts with this.
pub(super) const SENT: &str = "sent/";

const COUNTER_KEY: &str = "counter";

pub fn last_seq(store: &dyn Store) -> Result<u64, ChannelError> {
    Ok(store
        .get_json::<u64>(Tree::Channels, COUNTER_KEY)?
        .unwrap_or(0))
}

/// Writes the message (not yet flushed). The counter is written first, so after a crash it is
/// never behind a stored message.
pub fn store_new(
    store: &dyn Store,
    message: &Message,
    client_id: Option<&str>,
) -> Result<(), ChannelError> {
    store.put_json(Tree::Channels, COUNTER_KEY, &message.seq)?;
    store.put_json(
        Tree::Channels,
        &message_key(&message.thread, message.seq),
        message,
    )?;
    if let Some(client_id) = client_id {
        store.put_json(
            Tree::Channels,
            &sent_key(&message.author.id, client_id),
            &(&message.thread, message.seq),
        )?;
    }
    Ok(())
}

/// The message an earlier send with this `client_id` became, if any.
pub fn already_sent(
    store: &dyn Store,
    author_id: &str,
    client_id: &str,
) -> Result<Option<Message>, ChannelError> {
    let Some((thread, seq)) =
        store.get_json::<(String, u64)>(Tree::Channels, &sent_key(author_id, client_id))?
    else {
        return Ok(None);
    };
    get(store, &thread, seq)
}

pub fn get(store: &dyn Store, thread: &str, seq: u64) -> Result<Option<Message>, ChannelError> {
    Ok(store.get_json(Tree::Channels, &message_key(thread, seq))?)
}

pub fn put(store: &dyn Store, message: &Message) -> Result<(), ChannelError> {
    store.put_json(
        Tree::Channels,
        &message_key(&message.thread, message.seq),
        message,
    )?;
    Ok(())
}

/// Every message numbered after `after`, in any thread, in no particular order (a paired box
/// catching up). Keys end in the number, so only newer messages are decoded.
pub fn numbered_after(store: &dyn Store, after: u64) -> Result<Vec<Message>, ChannelError> {
    let mut found = Vec::new();
    for (key, value) in store.scan_prefix(Tree::Channels, b"m/")? {
        let seq = std::str::from_utf8(&key)
            .ok()
            .and_then(|k| k.rsplit_once('/'))
            .and_then(|(_, hex)| u64::from_str_radix(hex, 16).ok());
        if seq.is_some_and(|seq| seq > after) {
            if let Ok(message) = serde_json::from_slice::<Message>(&value) {
                found.push(message);
            }
        }
    }
    Ok(found)
}

/// A thread's messages with `seq > after`, oldest first.
pub fn after(store: &dyn Store, thread: &str, after: u64) -> Result<Vec<Message>, ChannelError> {
    let all: Vec<Message> = store.scan_json(Tree::Channels, &format!("m/{thread}/"))?;
    Ok(all.into_iter().filter(|m| m.seq > after).collect())
}

fn deletion_key(thread: &str, seq: u64) -> String {
    format!("del/{thread}/{seq:016x}")
}

/// Records that message `deleted` was deleted, as event number `seq` of the box, so a client
/// resuming after `seq - 1` hears of it.
pub fn store_deletion(
    store: &dyn Store,
    thread: &str,
    seq: u64,
    deleted: u64,
) -> Result<(), ChannelError> {
    store.put_json(Tree::Channels, COUNTER_KEY, &seq)?;
    store.put_json(Tree::Channels, &deletion_key(thread, seq), &deleted)?;
    Ok(())
}

/// Messages of a thread deleted after event `after`.
pub fn deleted_after(
    store: &dyn Store,
    thread: &str,
    after: u64,
) -> Result<Vec<u64>, ChannelError> {
    let prefix = format!("del/{thread}/");
    Ok(store
        .scan_prefix(Tree::Channels, prefix.as_bytes())?
        .into_iter()
        .filter_map(|(key, value)| {
            let seq =
                u64::from_str_radix(std::str::from_utf8(&key[prefix.len()..]).ok()?, 16).ok()?;
            let deleted: u64 = serde_json::from_slice(&value).ok()?;
            (seq > after).then_some(deleted)
        })
        .collect())
}
