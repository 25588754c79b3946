//! What a browser's offer asks to send, read before the box answers it: an offer that would
//! send a kind the sender may not publish (video on a voice-only talk-back, say), more than
//! one track of a kind, or a data channel is refused with a reason.

use std::io::Cursor;

use webrtc::sdp::SessionDescription;

use super::stage::Allowed;

/// Why an offer is refused; `code` goes to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadOffer {
    pub code: &'static str,
    pub message: String,
}

fn bad(code: &'static str, message: impl Into<String>) -> BadOffer {
    BadOffer {
        code,
        message: message.into(),
    }
}

/// Checks an offer to publish against what the sender may send.
pub fn check(sdp: &str, allowed: Allowed) -> Result<(), BadOffer> {
    let session = SessionDescription::unmarshal(&mut Cursor::new(sdp.as_bytes()))
        .map_err(|e| bad("bad_sdp", format!("the offer is not valid SDP: {e}")))?;
    if session.media_descriptions.is_empty() {
        return Err(bad("bad_sdp", "the offer has no media"));
    }
    let (mut audio, mut video) = (0, 0);
    for media in &session.media_descriptions {
        let sends =
            !(media.attribute("recvonly").is_some() || media.attribute("inactive").is_some());
        match media.media_name.media.as_str() {
            "audio" if sends => audio += 1,
            "video" if sends => video += 1,
            "audio" | "video" => {}
            other => {
                return Err(bad(
                    "unsupported_media",
                    format!("only audio and video can be published, not {other:?}"),
                ))
            }
        }
    }
    if (audio > 0 && !allowed.audio) || (video > 0 && !allowed.video) {
        return Err(bad(
            "forbidden_track",
            "the offer sends a kind of track this stream may not carry",
        ));
    }
    if audio > 1 || video > 1 {
        return Err(bad(
            "too_many_tracks",
            "a stream carries at most one audio and one video track",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(sections: &[(&str, &str)]) -> String {
        let mut sdp = String::from("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
        for (kind, direction) in sections {
            sdp.push_str(&format!(
                "m={kind} 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na={direction}\r\n"
            ));
        }
        sdp
    }

    const ALL: Allowed = Allowed {
        audio: true,
        video: true,
    };

    #[test]
    fn accepts_one_of_each_kind() {
        assert_eq!(
            check(&offer(&[("audio", "sendonly"), ("video", "sendrecv")]), ALL),
            Ok(())
        );
    }

    #[test]
    fn refuses_a_kind_not_allowed_and_counts_only_sending_sections() {
        let voice_only = Allowed {
            audio: true,
            video: false,
        };
        let err = check(
            &offer(&[("audio", "sendonly"), ("video", "sendonly")]),
            voice_only,
        );
        assert_eq!(err.unwrap_err().code, "forbidden_track");
        assert_eq!(
            check(
                &offer(&[("audio", "sendonly"), ("video", "recvonly")]),
                voice_only
            ),
            Ok(())
        );
    }

    #[test]
    fn refuses_garbage_data_channels_and_extra_tracks() {
        assert_eq!(check("hello", ALL).unwrap_err().code, "bad_sdp");
        assert_eq!(check(&offer(&[]), ALL).unwrap_err().code, "bad_sdp");
        assert_eq!(
            check(&offer(&[("application", "sendrecv")]), ALL)
                .unwrap_err()
                .code,
            "unsupported_media"
        );
        assert_eq!(
            check(&offer(&[("video", "sendonly"), ("video", "sendonly")]), ALL)
                .unwrap_err()
                .code,
            "too_many_tracks"
        );
    }
}
