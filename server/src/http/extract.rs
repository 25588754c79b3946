//! Request extractors: JSON bodies with our error type, the caller from the session cookie,
//! and on the sync listener the paired box from its certificate.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::state::AppState;
use crate::auth::sessions::{token_from_cookie_header, SessionToken};
use crate::auth::Who;
use crate::error::ServiceError;
use crate::service;
use crate::service::boxes::federation::identity::Fingerprint;
use crate::validate::invalid;

/// Like `axum::Json`, but a bad body becomes an [`ServiceError`] with our JSON shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ServiceError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ServiceError> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// Like `axum::extract::Path`, with typed ids: a path segment that is not a valid id names
/// nothing on this box, so it is 404 in our JSON shape (not axum's plain-text 400).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ServiceError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(_) => Err(ServiceError::NotFound),
        }
    }
}

/// Like `axum::extract::Query`, but a bad query string is a 400 in our JSON shape.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ServiceError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(_) => Err(ServiceError::Invalid(invalid(
                "query",
                "is not valid for this call",
            ))),
        }
    }
}

/// Who is calling, from the session cookie. Never fails: no valid session is `Who::Nobody`.
pub struct Caller {
    pub who: Who,
    pub token: Option<SessionToken>,
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ServiceError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ServiceError> {
        let token = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(token_from_cookie_header);
        let Some(token) = token else {
            return Ok(Caller {
                who: Who::Nobody,
                token: None,
            });
        };
        let who = service::sessions::who_is(&state.services, &token)?;
        Ok(Caller {
            who,
            token: Some(token),
        })
    }
}

/// A signed-in teacher; anyone else gets 401 (no session) or 403 (a pupil, a camera).
pub struct TeacherCaller {
    pub who: Who,
}

impl FromRequestParts<Arc<AppState>> for TeacherCaller {
    type Rejection = ServiceError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ServiceError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.who {
            Who::Teacher { .. } => Ok(TeacherCaller { who: caller.who }),
            Who::Nobody => Err(ServiceError::Unauthenticated),
            Who::Pupil(_) | Who::Camera { .. } | Who::PairedBox { .. } => {
                Err(ServiceError::Forbidden)
            }
        }
    }
}

/// The client's address (the school LAN has no proxies in front of Tavla).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ServiceError> {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| ClientIp(addr.ip()))
            .ok_or_else(|| ServiceError::Internal("no client address on the request".into()))
    }
}

/// The host the client used (Host header, or the URI authority under HTTP/2), for links that
/// must point back at this box.
pub struct RequestHost(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestHost {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ServiceError> {
        let from_header = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        let from_uri = parts.uri.authority().map(|a| a.as_str());
        Ok(RequestHost(from_header.or(from_uri).map(str::to_string)))
    }
}

/// The certificate the other box showed in the handshake (put on each request by the accept
/// loop).
#[derive(Debug, Clone)]
pub struct PeerCertificate(pub Fingerprint);

impl<S: Send + Sync> FromRequestParts<S> for PeerCertificate {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ServiceError> {
        parts
            .extensions
            .get::<PeerCertificate>()
            .cloned()
            .ok_or(ServiceError::Forbidden)
    }
}

/// The paired box asking, built once per request from its certificate.
pub struct PairedCaller(pub Who);

impl FromRequestParts<Arc<AppState>> for PairedCaller {
    type Rejection = ServiceError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ServiceError> {
        let PeerCertificate(peer) = PeerCertificate::from_request_parts(parts, state).await?;
        match service::boxes::who_is(&state.services, &peer) {
            Who::Nobody => Err(ServiceError::Forbidden),
            who => Ok(PairedCaller(who)),
        }
    }
}
