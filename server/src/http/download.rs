//! Files handed to the browser: exports, zips, attachments. Every one names itself (ASCII for
//! old browsers, exact UTF-8 per RFC 5987) and is never cached by anyone but the browser.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Whether the browser shows the file (pictures) or saves it.
pub enum Shown {
    Inline,
    Download,
}

pub fn file(content_type: &str, shown: Shown, file_name: &str, body: Vec<u8>) -> Response {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let disposition = match shown {
        Shown::Inline => "inline",
        Shown::Download => "attachment",
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
