//! Any text a client could send on `/ws`: parsing never panics, and whatever parses is routed
//! to exactly one place (keep-alive, message session or media link) with a wire name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tavla::protocol::ClientMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ClientMessage::Messages(request)) = ClientMessage::parse(text) {
        assert!(!request.name().is_empty());
    }
});
