//! Any `tavla.toml` an IT contact could write: read or refused with an error naming the
//! problem, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tavla::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Config::from_toml(text, std::path::Path::new("tavla.toml")) {
        assert!(!e.to_string().is_empty());
    }
});
