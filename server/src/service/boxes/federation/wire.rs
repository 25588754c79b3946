//! The box-to-box protocol's messages (docs/PROTOCOL.md, "Between paired boxes"): JSON bodies
//! over mutual TLS on the sync port; document updates and state vectors as base64 (lib0 v1).

use serde::{Deserialize, Serialize};

use crate::channels::message::{Author, MessageKind, Origin};
use crate::ids::{BoxId, LessonId};
use crate::lessons::classes::{Class, Pupil};
use crate::lessons::groups::Formed;
use crate::lessons::lesson::Lesson;

/// Most documents one `POST /sync/docs` may name.
pub const MAX_DOCS_PER_REQUEST: usize = 64;
/// Most bytes of document updates one `POST /sync/docs` answers with (always at least one
/// document): the asker asks again for the rest.
pub const MAX_DOCS_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// Most messages one `GET /sync/messages` answers with.
pub const MAX_MESSAGES_PER_ANSWER: usize = 500;

/// `POST /pair`: the box entering the code proves it knows it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    /// Its name (host name), shown to the teacher.
    pub name: String,
    /// The port of its own sync listener (its address is the connection's).
    pub port: u16,
    /// `trust::proof(code, "client", its fingerprint, ours)`.
    pub proof: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PairAnswer {
    pub box_id: BoxId,
    pub name: String,
    /// `trust::proof(code, "server", our fingerprint, its)`: we know the code too.
    pub proof: String,
}

/// `GET /sync/classes`: what the asking box receives from this one now.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub classes: Vec<SharedClass>,
    /// Tombstones of deleted pupils and classes (hashes that name no one).
    pub tombstones: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SharedClass {
    pub class: Class,
    pub pupils: Vec<Pupil>,
    pub lessons: Vec<Lesson>,
    /// Every group formed in its lessons (group documents need them).
    #[serde(default)]
    pub groups: Vec<Formed>,
    /// The names of the class's documents that hold something.
    pub documents: Vec<String>,
}

/// `POST /sync/docs`: the asking box's state vector of each document it wants.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsRequest {
    pub docs: Vec<DocState>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocState {
    pub name: String,
    #[serde(with = "base64_bytes")]
    pub state_vector: Vec<u8>,
}

/// The updates the asking box lacks, only for documents where it lacks something; `answered`
/// says how many of the request's documents were looked at (the rest did not fit the answer:
/// ask again for them).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DocsAnswer {
    pub docs: Vec<DocUpdate>,
    pub answered: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DocUpdate {
    pub name: String,
    #[serde(with = "base64_bytes")]
    pub update: Vec<u8>,
}

/// `GET /sync/messages?after=<n>`: messages of shared classes numbered after `n` here.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MessagesAnswer {
    pub messages: Vec<SharedMessage>,
    /// Ask with this `after` next time.
    pub next_after: u64,
    /// More wait: ask again at once.
    pub more: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SharedMessage {
    pub origin: Origin,
    pub thread: String,
    pub lesson_id: LessonId,
    pub author: Author,
    pub kind: MessageKind,
    pub text: String,
    #[serde(default)]
    pub doc: Option<String>,
}

mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}
