//! HTTP: the HTTPS router (JSON API, WebSocket, web client, CA files, metrics), the plain-HTTP
//! redirector, and the security headers every response carries.

mod api_boxes;
mod api_classes;
mod api_docs;
mod api_files;
mod api_groups;
mod api_handouts;
mod api_history;
mod api_lessons;
mod api_privacy;
mod api_profile;
mod api_teachers;
mod api_vpn;
mod assets;
mod ca_files;
mod connections;
mod doc_json;
mod download;
mod errors;
mod extract;
mod metrics;
pub mod plain;
pub mod ratelimit;
mod relay;
mod respond;
pub mod serve;
mod socket_limits;
pub mod state;
pub mod sync;
mod ws;
mod yjs;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::error::ServiceError;
use state::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route(
            "/setup",
            get(api_teachers::setup_info).post(api_teachers::setup),
        )
        .route("/login", post(api_teachers::login))
        .route("/logout", post(api_teachers::logout))
        .route("/me", get(api_teachers::me))
        .route("/me/lang", put(api_teachers::set_lang))
        .route(
            "/me/profile",
            get(api_profile::get_profile).put(api_profile::put_profile),
        )
        .route("/me/export", get(api_privacy::export_mine))
        .route("/retention", get(api_privacy::retention))
        .route("/boxes", get(api_boxes::nearby))
        .route(
            "/boxes/paired",
            get(api_boxes::paired).post(api_boxes::pair),
        )
        .route("/boxes/pairing", post(api_boxes::open_pairing))
        .route("/boxes/paired/{box_id}", delete(api_boxes::unpair))
        .route("/boxes/paired/{box_id}/shares", put(api_boxes::set_shares))
        .route("/teachers", get(api_teachers::list_teachers))
        .route("/teachers/invite", post(api_teachers::invite))
        .route("/classes", get(api_classes::list).post(api_classes::create))
        .route(
            "/classes/{class_id}",
            get(api_classes::get).delete(api_classes::delete_class),
        )
        .route("/classes/{class_id}/pupils", post(api_classes::add_pupils))
        .route(
            "/classes/{class_id}/pupils/{pupil_id}",
            delete(api_classes::remove_pupil),
        )
        .route(
            "/classes/{class_id}/pupils/{pupil_id}/export",
            get(api_privacy::export_pupil),
        )
        .route(
            "/classes/{class_id}/pupils/{pupil_id}/vpn",
            post(api_vpn::give).delete(api_vpn::take),
        )
        .route("/classes/{class_id}/vpn", get(api_vpn::list))
        .route(
            "/classes/{class_id}/pupils/{pupil_id}/card",
            post(api_classes::reissue_card),
        )
        .route(
            "/classes/{class_id}/pupils/{pupil_id}/card.svg",
            get(api_classes::card_qr),
        )
        .route("/classes/{class_id}/cards", get(api_classes::cards))
        .route("/lessons", get(api_lessons::list).post(api_lessons::start))
        .route("/lessons/{lesson_id}", get(api_lessons::get))
        .route("/lessons/{lesson_id}/qr.svg", get(api_lessons::qr))
        .route(
            "/lessons/{lesson_id}/participants",
            get(api_lessons::participants),
        )
        .route(
            "/lessons/{lesson_id}/participants/{participant_id}",
            delete(api_lessons::remove_participant),
        )
        .route("/lessons/{lesson_id}/end", post(api_lessons::end))
        .route(
            "/lessons/{lesson_id}/camera",
            post(api_lessons::camera_link),
        )
        .route(
            "/lessons/{lesson_id}/groups",
            get(api_groups::get).put(api_groups::set),
        )
        .route(
            "/lessons/{lesson_id}/groups/random",
            post(api_groups::random),
        )
        .route(
            "/lessons/{lesson_id}/groups/repeat",
            post(api_groups::repeat),
        )
        .route("/join", post(api_lessons::join))
        .route("/card-login", post(api_lessons::card_login))
        .route("/camera", post(api_lessons::camera_sign_in))
        .route("/tls", get(ca_files::info))
        .route("/docs", get(api_docs::list))
        .route("/docs/{doc}", get(api_docs::get))
        .route("/docs/{doc}/export", get(api_docs::export))
        .route("/docs/{doc}/settings", put(api_docs::settings))
        .route(
            "/docs/{doc}/versions",
            get(api_history::list).post(api_history::save),
        )
        .route(
            "/docs/{doc}/versions/{version_id}/copy",
            post(api_history::restore_as_copy),
        )
        .route("/docs/{doc}/hand-out", post(api_handouts::hand_out))
        .route("/lessons/{lesson_id}/docs.zip", get(api_docs::lesson_zip))
        .route(
            "/files",
            // Files are larger than JSON bodies; this inner limit overrides the API's.
            post(api_files::upload)
                .layer(DefaultBodyLimit::max(state.config.limits.max_upload_bytes)),
        )
        .route("/files/{file_id}", get(api_files::download))
        .fallback(|| async { ServiceError::NotFound })
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(middleware::from_fn(same_origin_writes));
    Router::new()
        .nest("/api", api)
        .route("/ws", get(ws::upgrade))
        .route("/yjs/{doc}", get(yjs::upgrade))
        .route("/ca.crt", get(ca_files::certificate))
        .route("/ca.mobileconfig", get(ca_files::mobileconfig))
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
        .fallback(assets::serve)
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(strict_transport))
        .with_state(state)
}

/// Whether the Origin header (if any) names the host the request was sent to. The host is the
/// Host header under HTTP/1.1 and the `:authority` (the URI's) under HTTP/2.
pub fn origin_matches_host(headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    // Scheme, host and port: these pages are only ever served over HTTPS, so an `http://`
    // page of the same name (a plain-HTTP listener on the LAN) is another origin.
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Refuses writes sent by pages of other sites (defence in depth beside SameSite cookies).
async fn same_origin_writes(request: Request, next: Next) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes && !origin_matches_host(request.headers(), request.uri()) {
        return ServiceError::CrossOrigin.into_response();
    }
    next.run(request).await
}

/// Nothing the browser loads may come from outside the box; no framing, no sniffing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// HTTPS answers tell browsers to use HTTPS for this name from now on. Not on plain HTTP (it
/// would mean nothing there) and without subdomains; browsers ignore it for bare addresses.
async fn strict_transport(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(self), geolocation=()",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn origin_is_compared_with_the_host_or_the_http2_authority() {
        let plain: Uri = "/api/login".parse().unwrap();
        let h2: Uri = "https://box.local:8443/api/login".parse().unwrap();
        assert!(
            origin_matches_host(&headers(&[]), &plain),
            "no Origin: not a browser"
        );
        let same = headers(&[
            ("origin", "https://box.local:8443"),
            ("host", "box.local:8443"),
        ]);
        assert!(origin_matches_host(&same, &plain));
        let h2_same = headers(&[("origin", "https://box.local:8443")]);
        assert!(origin_matches_host(&h2_same, &h2));
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "box.local:8443"),
        ]);
        assert!(!origin_matches_host(&evil, &plain));
        assert!(!origin_matches_host(
            &headers(&[("origin", "https://evil.example")]),
            &h2
        ));
        assert!(
            !origin_matches_host(&h2_same, &plain),
            "no host to compare with"
        );
        let other_scheme = headers(&[
            ("origin", "http://box.local:8443"),
            ("host", "box.local:8443"),
        ]);
        assert!(!origin_matches_host(&other_scheme, &plain), "scheme counts");
        let other_port = headers(&[
            ("origin", "https://box.local:9443"),
            ("host", "box.local:8443"),
        ]);
        assert!(!origin_matches_host(&other_port, &plain), "port counts");
    }
}
