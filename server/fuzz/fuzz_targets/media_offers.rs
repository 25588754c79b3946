//! Any SDP a browser (or a script) could offer to publish: the check answers yes or a
//! refusal with a code, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tavla::media::offer;
use tavla::media::stage::Allowed;

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = std::str::from_utf8(data) else {
        return;
    };
    for allowed in [
        Allowed {
            audio: true,
            video: true,
        },
        Allowed {
            audio: true,
            video: false,
        },
    ] {
        if let Err(refusal) = offer::check(sdp, allowed) {
            assert!(!refusal.code.is_empty());
        }
    }
});
