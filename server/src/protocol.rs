//! The client WebSocket's protocol (`/ws`, and the close codes of every socket): its JSON
//! messages and why a socket is closed. Every type here is documented in
//! docs/PROTOCOL.md with who may send or receive it.

use serde::{Deserialize, Serialize};

use crate::auth::grants::Ended;
use crate::auth::Role;
use crate::channels::chat::ChatSettings;
use crate::channels::hands::{Hand, MyHand};
use crate::channels::message::Message;
pub use crate::channels::people::{GroupEntry, Member};
use crate::ids::{LessonId, ParticipantId};
pub use crate::lessons::PresenceEntry;

/// A message a client sends, routed once, by its `type`, to the part of the connection that
/// carries it out: the keep-alive, the message session, or the media link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Application-level keep-alive; answered with `pong` carrying the same `id`.
    Ping {
        id: Option<u64>,
    },
    Messages(MessageRequest),
    Media(MediaRequest),
}

/// The keep-alive's body.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Keepalive {
    Ping { id: Option<u64> },
}

/// Requests about messages, hands and chats (answered by `service::messages`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MessageRequest {
    /// Start (or resume) message delivery: everything readable numbered after `after`, then
    /// `synced`, then live.
    Sync { after: u64 },
    /// Write into a thread. `client_id` makes a resend after a reconnect harmless.
    Send {
        client_id: String,
        thread: String,
        text: String,
        #[serde(default)]
        doc: Option<String>,
        /// An uploaded file (`POST /api/files`) for this thread; `text` may then be empty.
        #[serde(default)]
        file: Option<String>,
        /// Teachers: show it to a group as an announcement.
        #[serde(default)]
        announce: bool,
    },
    /// Teachers: delete a message for everyone.
    DeleteMessage { thread: String, seq: u64 },
    /// Pupils: raise a hand, optionally with a question for the teacher alone.
    RaiseHand {
        #[serde(default)]
        question: Option<String>,
        #[serde(default)]
        client_id: Option<String>,
    },
    /// Pupils lower their own hand; teachers name whose.
    LowerHand {
        #[serde(default)]
        participant: Option<ParticipantId>,
    },
    /// Teachers: tell a pupil with a raised hand "coming to you".
    Coming { participant: ParticipantId },
    /// Teachers: open or close the class chat (`scope` "class") or a group's (its id).
    SetChat { scope: String, open: bool },
    /// Teachers: mute a pupil in the chats for `minutes` (0 lifts it).
    Mute {
        participant: ParticipantId,
        minutes: u32,
    },
}

/// Live-media signaling and the teacher's media controls (carried out by
/// [`crate::media::link`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MediaRequest {
    /// Offer (or renegotiate) the peer connection that publishes `stream`; answered with
    /// `media_answer`.
    MediaPublish { stream: Stream, sdp: String },
    /// Stop publishing `stream`.
    MediaUnpublish { stream: Stream },
    /// Receive `sources` on this client's receiving peer connection; the box sends
    /// `media_offer` whenever there is something (new) to receive.
    MediaWatch { sources: Vec<WatchSource> },
    /// The answer to the box's last `media_offer`.
    MediaAnswer { sdp: String },
    /// Stop receiving.
    MediaUnwatch,
    /// A trickled ICE candidate for one of this client's peer connections (optional: the box
    /// is ICE-lite and needs none).
    MediaIce {
        peer: String,
        candidate: String,
        #[serde(default)]
        sdp_mid: Option<String>,
        #[serde(default)]
        sdp_mline_index: Option<u16>,
    },
    /// Teachers: let a pupil speak to the class (their microphone, and camera if `video`).
    GrantTalk {
        participant: ParticipantId,
        #[serde(default)]
        video: bool,
    },
    /// Teachers: end a pupil's turn to speak.
    RevokeTalk { participant: ParticipantId },
    /// Teachers: a private voice (or video) call with one pupil.
    StartCall {
        participant: ParticipantId,
        #[serde(default)]
        video: bool,
    },
    /// Either side ends the private call.
    HangUp,
}

impl MediaRequest {
    /// The `type`s of media requests: how [`ClientMessage::parse`] routes a message here.
    const TYPES: [&'static str; 10] = [
        "media_publish",
        "media_unpublish",
        "media_watch",
        "media_answer",
        "media_unwatch",
        "media_ice",
        "grant_talk",
        "revoke_talk",
        "start_call",
        "hang_up",
    ];
}

impl MessageRequest {
    /// The message's `type`, as refusals name the request.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sync { .. } => "sync",
            Self::Send { .. } => "send",
            Self::DeleteMessage { .. } => "delete_message",
            Self::RaiseHand { .. } => "raise_hand",
            Self::LowerHand { .. } => "lower_hand",
            Self::Coming { .. } => "coming",
            Self::SetChat { .. } => "set_chat",
            Self::Mute { .. } => "mute",
        }
    }
}

/// Messages the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every connection.
    Welcome {
        role: Role,
        lesson_id: LessonId,
    },
    Pong {
        id: Option<u64>,
    },
    /// Teachers only: everyone in the lesson and whether they are connected now.
    Presence {
        lesson_id: LessonId,
        participants: Vec<PresenceEntry>,
    },
    /// The lesson is over; the socket closes with 4001 next.
    LessonEnded,
    /// The teacher removed this pupil; the socket closes with 4002 next.
    Removed,
    /// Sent before a close caused by the client (4000, 4008, 1003, 1009).
    Error {
        code: &'static str,
        message: String,
    },
    /// Pupils, after `sync`: the threads they may read, by role.
    Threads {
        private: String,
        announcements: String,
        class_chat: String,
        group_chat: Option<String>,
    },
    /// A message of a thread the receiver may read (history during a sync, then live).
    Message {
        message: Message,
    },
    /// A message was deleted (`seq` numbers the deletion; `message` is the deleted one).
    MessageDeleted {
        seq: u64,
        thread: String,
        message: u64,
    },
    /// The history is delivered up to `seq`; send it as `after` when resuming.
    Synced {
        seq: u64,
    },
    /// Your `send` (or `raise_hand` question) is stored as message `seq`.
    Sent {
        client_id: String,
        seq: u64,
    },
    /// A request was not carried out; the connection stays open.
    Refused {
        request: &'static str,
        client_id: Option<String>,
        code: &'static str,
        message: String,
    },
    /// Teachers: the raised hands, oldest first.
    Hands {
        queue: Vec<Hand>,
    },
    /// Pupils: their own hand.
    MyHand {
        #[serde(flatten)]
        hand: MyHand,
    },
    /// Teachers: the chat switches and mutes.
    ChatSettings {
        #[serde(flatten)]
        settings: ChatSettings,
    },
    /// Pupils: whether they may write in the chats now.
    MyChat {
        class_open: bool,
        group_open: bool,
        muted_until_ms: Option<u64>,
    },
    /// A document this client may read was made read-only for pupils, or writable again.
    DocSettings {
        doc: String,
        read_only: bool,
    },
    /// New documents this client may open (a hand-out or a restored version).
    DocsAdded {
        docs: Vec<String>,
    },
    /// Teachers: the lesson's groups.
    Groups {
        groups: Vec<GroupEntry>,
    },
    /// Pupils: their group, if they are in one.
    MyGroup {
        group: Option<GroupEntry>,
    },
    /// The box's answer to `media_publish`.
    MediaAnswer {
        stream: Stream,
        sdp: String,
    },
    /// The box offers what this client receives now; reply with `media_answer`.
    MediaOffer {
        sdp: String,
    },
    /// A media request was not carried out; the connection stays open.
    MediaRefused {
        request: &'static str,
        /// The peer connection concerned: a stream's name or `watch`.
        peer: Option<&'static str>,
        code: &'static str,
        message: String,
    },
    /// The box closed one of this client's peer connections.
    MediaClosed {
        peer: &'static str,
        reason: &'static str,
    },
    /// A pupil may speak now, or no longer (teachers hear of every pupil, pupils of themselves).
    MediaTalk {
        participant: ParticipantId,
        granted: bool,
        video: bool,
    },
    /// Teachers: the classroom camera started or stopped sending (on connecting: only if live).
    ClassroomCamera {
        live: bool,
    },
    /// A private call this client is part of started or ended.
    MediaCall {
        participant: ParticipantId,
        active: bool,
        video: bool,
    },
}

impl ClientMessage {
    /// Parses a text frame and routes it by its `type`. The error says what was wrong (it is
    /// sent back with close code 4000).
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let kind = value
            .get("type")
            .and_then(serde_json::Value::as_str)
            .ok_or("a message needs a string `type`")?;
        let routed = if kind == "ping" {
            serde_json::from_value::<Keepalive>(value)
                .map(|Keepalive::Ping { id }| Self::Ping { id })
        } else if MediaRequest::TYPES.contains(&kind) {
            serde_json::from_value(value).map(Self::Media)
        } else {
            serde_json::from_value(value).map(Self::Messages)
        };
        routed.map_err(|e| e.to_string())
    }
}

impl ServerMessage {
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why the server closes a WebSocket. The numbers are the protocol: docs/PROTOCOL.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// 1001: the server is shutting down; reconnect later.
    GoingAway,
    /// 1003: a binary frame where only JSON text is spoken.
    Unsupported,
    /// 1007: a text frame that is not UTF-8.
    InvalidText,
    /// 1009: a message over `ws_max_message_bytes`.
    TooBig,
    /// 4000: not valid JSON, or an unknown or malformed message type.
    BadMessage,
    /// 4001: the lesson ended; do not reconnect.
    LessonEnded,
    /// 4002: the teacher removed this pupil; do not reconnect.
    Removed,
    /// 4003: a write to a document that is read-only for this client.
    ReadOnly,
    /// 4004: the person logged out (on this or another page of the same sign-in); do not
    /// reconnect.
    LoggedOut,
    /// 4005: the pupil's login card was replaced; sign in again with the new card.
    CardReissued,
    /// 4006: awareness (cursor) state for a client id another connection speaks for.
    NotYours,
    /// 4008: too many messages per second.
    RateLimited,
    /// 4010: the client stopped answering pings.
    Timeout,
    /// 4013: the write would make the document larger than `max_doc_bytes`.
    DocTooLarge,
    /// 4014: the writer's room for documents is used up (their share of the box, of their
    /// device, of the lesson or of this document), or the disk is below its reserve.
    NoRoom,
    /// 4011: (a paired box's relay) this box unpaired the asking box.
    Unpaired,
    /// 4012: (a paired box's relay) the lesson's class is no longer shared with the asking box.
    Unshared,
    /// 1011: the server could not serve this connection (logged).
    Internal,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        match self {
            CloseCode::GoingAway => 1001,
            CloseCode::Unsupported => 1003,
            CloseCode::InvalidText => 1007,
            CloseCode::TooBig => 1009,
            CloseCode::BadMessage => 4000,
            CloseCode::LessonEnded => 4001,
            CloseCode::Removed => 4002,
            CloseCode::ReadOnly => 4003,
            CloseCode::LoggedOut => 4004,
            CloseCode::CardReissued => 4005,
            CloseCode::NotYours => 4006,
            CloseCode::RateLimited => 4008,
            CloseCode::Timeout => 4010,
            CloseCode::DocTooLarge => 4013,
            CloseCode::NoRoom => 4014,
            CloseCode::Unpaired => 4011,
            CloseCode::Unshared => 4012,
            CloseCode::Internal => 1011,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::GoingAway => "server shutting down",
            CloseCode::Unsupported => "binary frames are not accepted here",
            CloseCode::InvalidText => "text frame is not UTF-8",
            CloseCode::TooBig => "message too large",
            CloseCode::BadMessage => "malformed message",
            CloseCode::LessonEnded => "lesson ended",
            CloseCode::Removed => "removed by the teacher",
            CloseCode::ReadOnly => "document is read-only",
            CloseCode::LoggedOut => "logged out",
            CloseCode::CardReissued => "login card replaced",
            CloseCode::NotYours => "awareness for another client",
            CloseCode::RateLimited => "too many messages",
            CloseCode::Timeout => "no answer to ping",
            CloseCode::DocTooLarge => "document too large",
            CloseCode::NoRoom => "no room for documents",
            CloseCode::Unpaired => "box unpaired",
            CloseCode::Unshared => "class no longer shared",
            CloseCode::Internal => "server error",
        }
    }
}

impl From<Ended> for CloseCode {
    fn from(why: Ended) -> Self {
        match why {
            Ended::LessonEnded => CloseCode::LessonEnded,
            Ended::Removed => CloseCode::Removed,
            Ended::LoggedOut => CloseCode::LoggedOut,
            Ended::CardReissued => CloseCode::CardReissued,
            Ended::Unpaired => CloseCode::Unpaired,
            Ended::Unshared => CloseCode::Unshared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name` is the `type` the client sent.
    #[test]
    fn names_are_the_wire_types() {
        for text in [
            r#"{"type":"sync","after":0}"#,
            r#"{"type":"coming","participant":"p"}"#,
            r#"{"type":"mute","participant":"p","minutes":1}"#,
        ] {
            let Ok(ClientMessage::Messages(request)) = ClientMessage::parse(text) else {
                panic!("{text} is a message request");
            };
            assert!(text.contains(&format!(r#""type":"{}""#, request.name())));
        }
    }

    /// Every media type routes to the media link, and nothing else does.
    #[test]
    fn media_requests_are_routed_to_media() {
        let bodies = [
            r#","stream":"camera","sdp":"x""#,
            r#","stream":"camera""#,
            r#","sources":["lesson"]"#,
            r#","sdp":"x""#,
            "",
            r#","peer":"watch","candidate":"c""#,
            r#","participant":"p""#,
            r#","participant":"p""#,
            r#","participant":"p""#,
            "",
        ];
        for (kind, body) in MediaRequest::TYPES.iter().zip(bodies) {
            let text = format!(r#"{{"type":"{kind}"{body}}}"#);
            assert!(
                matches!(ClientMessage::parse(&text), Ok(ClientMessage::Media(_))),
                "{text}"
            );
        }
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"sync","after":1}"#),
            Ok(ClientMessage::Messages(_))
        ));
    }

    #[test]
    fn parses_known_messages_and_refuses_others() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"ping","id":7}"#),
            Ok(ClientMessage::Ping { id: Some(7) })
        );
        assert!(ClientMessage::parse(r#"{"type":"launch_rockets"}"#).is_err());
        assert!(ClientMessage::parse(r#"{"type":"ping","extra":1}"#).is_err());
        // Ids are checked as the message is read: one that could reach into a key or a name
        // is a malformed message, not something the lesson looks up.
        assert!(ClientMessage::parse(r#"{"type":"coming","participant":"p-1"}"#).is_ok());
        assert!(ClientMessage::parse(r#"{"type":"coming","participant":"p-1/x"}"#).is_err());
        assert!(ClientMessage::parse(r#"{"type":"grant_talk","participant":"a.b"}"#).is_err());
        assert!(ClientMessage::parse("not json").is_err());
    }

    #[test]
    fn stream_names_read_back() {
        for stream in [Stream::Camera, Stream::DocumentCamera, Stream::Call] {
            assert_eq!(Stream::from_name(stream.name()), Some(stream));
        }
        assert_eq!(Stream::from_name("teacher"), None);
    }

    #[test]
    fn server_messages_are_tagged() {
        assert_eq!(
            ServerMessage::LessonEnded.to_json(),
            r#"{"type":"lesson_ended"}"#
        );
    }
}

/// What a client publishes on one peer connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// The teacher's camera and microphone, for the lesson's watchers.
    Camera,
    /// The teacher's shared screen, for the lesson's watchers.
    Screen,
    /// A second picture beside the teacher's, chosen by the teacher: a sign-language
    /// interpreter's camera (video only).
    Interpreter,
    /// A second picture beside the teacher's: a document camera (video only).
    DocumentCamera,
    /// A pupil the teacher let speak: their microphone (and camera if allowed), to the teacher.
    Talk,
    /// The two sides of a private call.
    Call,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Camera => "camera",
            Stream::Screen => "screen",
            Stream::Interpreter => "interpreter",
            Stream::DocumentCamera => "document_camera",
            Stream::Talk => "talk",
            Stream::Call => "call",
        }
    }

    /// The stream a [`Stream::name`] names (how a relayed track's stream id says what it is).
    pub fn from_name(name: &str) -> Option<Stream> {
        [
            Stream::Camera,
            Stream::Screen,
            Stream::Interpreter,
            Stream::DocumentCamera,
            Stream::Talk,
            Stream::Call,
        ]
        .into_iter()
        .find(|stream| stream.name() == name)
    }

    /// The lesson's own pictures and sound (its camera, the screen, the second picture): one
    /// publisher each at a time, received by whoever watches `lesson`.
    pub fn is_lesson_source(self) -> bool {
        match self {
            Stream::Camera | Stream::Screen | Stream::Interpreter | Stream::DocumentCamera => true,
            Stream::Talk | Stream::Call => false,
        }
    }
}

/// What a client asks to receive on its receiving peer connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchSource {
    /// The teacher's camera and screen, and the second picture beside them.
    Lesson,
    /// Teachers: the pupils allowed to speak.
    Talk,
    /// Their side's view of a private call they are in.
    Call,
}
