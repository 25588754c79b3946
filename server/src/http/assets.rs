//! The web client, embedded in the binary from `web-client/dist`.

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../web-client/dist"]
struct WebClient;

/// Serves a file of the web client; paths without an extension are app routes and get the
/// app's page (the client routes them).
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if let Some(file) = WebClient::get(path) {
        return file_response(path, file);
    }
    let is_app_route = !path.rsplit('/').next().unwrap_or("").contains('.');
    match WebClient::get("index.html") {
        Some(index) if is_app_route => file_response("index.html", index),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn file_response(path: &str, file: rust_embed::EmbeddedFile) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    (
        [
            (header::CONTENT_TYPE, mime.as_ref().to_string()),
            // Revalidate every time: a box upgrade must reach every tablet at once.
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (
                header::ETAG,
                format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12])),
            ),
        ],
        file.data,
    )
        .into_response()
}
