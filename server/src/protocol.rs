//! The JSON messages of the client WebSocket (`/ws`). Every type here is documented in
//! docs/PROTOCOL.md with who may send or receive it.

use serde::{Deserialize, Serialize};

use crate::auth::Role;

/// Messages a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Application-level keep-alive; answered with `pong` carrying the same `id`.
    Ping { id: Option<u64> },
}

/// Messages the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every connection.
    Welcome {
        role: Role,
        lesson_id: String,
    },
    Pong {
        id: Option<u64>,
    },
    /// Teachers only: everyone in the lesson and whether they are connected now.
    Presence {
        lesson_id: String,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresenceEntry {
    pub id: String,
    pub name: String,
    /// Signed in with a login card (on the class roster) rather than as a guest.
    pub rostered: bool,
    pub at_home: bool,
    pub online: bool,
}

impl ClientMessage {
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

impl ServerMessage {
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_messages_and_refuses_others() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"ping","id":7}"#),
            Ok(ClientMessage::Ping { id: Some(7) })
        );
        assert!(ClientMessage::parse(r#"{"type":"launch_rockets"}"#).is_err());
        assert!(ClientMessage::parse(r#"{"type":"ping","extra":1}"#).is_err());
        assert!(ClientMessage::parse("not json").is_err());
    }

    #[test]
    fn server_messages_are_tagged() {
        assert_eq!(
            ServerMessage::LessonEnded.to_json(),
            r#"{"type":"lesson_ended"}"#
        );
    }
}
