//! Asking a publisher for a keyframe: what a viewer who joins, switches layers or lost packets
//! needs before it can show a picture again. Many viewers asking at once cost the publisher one.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;

/// Many subscribers joining at once ask for a keyframe each; the publisher needs one.
const KEYFRAME_GAP: Duration = Duration::from_millis(500);

/// Asks a publisher for a keyframe of one of its video tracks.
pub struct Keyframes {
    publisher: Weak<RTCPeerConnection>,
    media_ssrc: u32,
    video: bool,
    asked: Arc<Mutex<Asked>>,
}

/// When a publisher was last asked, and whether a request waits for the gap to pass.
#[derive(Default)]
struct Asked {
    last: Option<Instant>,
    deferred: bool,
}

impl Keyframes {
    pub fn new(publisher: Weak<RTCPeerConnection>, media_ssrc: u32, video: bool) -> Self {
        Self {
            publisher,
            media_ssrc,
            video,
            asked: Arc::default(),
        }
    }

    /// Asks now, or — within `KEYFRAME_GAP` of the last request — once the gap has passed.
    /// A request is never dropped: a viewer switching layers or joining waits for exactly
    /// this keyframe, and a publisher (VP8 in Chromium) may send no other for minutes.
    pub async fn request(&self) {
        if !self.video {
            return;
        }
        let wait = {
            let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
            match asked.last.map(|at| at.elapsed()) {
                Some(since) if since < KEYFRAME_GAP => {
                    if asked.deferred {
                        return;
                    }
                    asked.deferred = true;
                    Some(KEYFRAME_GAP - since)
                }
                _ => {
                    asked.last = Some(Instant::now());
                    None
                }
            }
        };
        let Some(wait) = wait else {
            send_pli(&self.publisher, self.media_ssrc).await;
            return;
        };
        let (publisher, media_ssrc, asked) =
            (self.publisher.clone(), self.media_ssrc, self.asked.clone());
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            {
                let mut asked = asked.lock().unwrap_or_else(|e| e.into_inner());
                asked.deferred = false;
                asked.last = Some(Instant::now());
            }
            send_pli(&publisher, media_ssrc).await;
        });
    }
}

async fn send_pli(publisher: &Weak<RTCPeerConnection>, media_ssrc: u32) {
    let Some(publisher) = publisher.upgrade() else {
        return;
    };
    let pli = PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc,
    };
    if let Err(e) = publisher.write_rtcp(&[Box::new(pli)]).await {
        tracing::debug!("keyframe request not sent: {e}");
    }
}
