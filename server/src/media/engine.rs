//! The WebRTC stack Tavla's peer connections share: default codecs and interceptors (NACK
//! answers and requests, RTCP reports), ICE-lite on one muxed UDP socket, host candidates only.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::{APIBuilder, API};
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::ice::udp_mux::{UDPMux, UDPMuxDefault, UDPMuxParams};
use webrtc::ice::udp_network::{EphemeralUDP, UDPNetwork};
use webrtc::interceptor::registry::Registry;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpHeaderExtensionCapability, RTPCodecType};

use super::MediaError;
use crate::config::MediaConfig;

/// The shared API and the one UDP socket it sends and receives on (none with a port range),
/// and the API of this box's own outgoing peer connections (relaying a paired box's lesson).
pub struct Engine {
    pub api: API,
    /// A full ICE agent: the box it connects to is ICE-lite and only answers, so this side
    /// must check and choose the path. Host candidates only, on a port of its own per
    /// connection (the configured range if there is one).
    pub relay_api: API,
    mux: Option<Arc<UDPMuxDefault>>,
    pub udp: Udp,
}

/// Where browsers send media.
#[derive(Debug, Clone, Copy)]
pub enum Udp {
    /// Every peer connection on this one socket.
    Port(SocketAddr),
    /// A port per peer connection from this range.
    Range(u16, u16),
}

impl std::fmt::Display for Udp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Udp::Port(addr) => write!(f, "{addr}"),
            Udp::Range(first, last) => write!(f, "ports {first}-{last}"),
        }
    }
}

impl Engine {
    /// Binds the UDP port on `bind_ip` (or uses the configured range) and offers
    /// `addresses` (or, when empty, what `bind_ip` allows) to browsers.
    pub async fn start(config: &MediaConfig, bind_ip: IpAddr) -> Result<Self, MediaError> {
        let mut settings = SettingEngine::default();
        let (mux, udp) = match config.udp_port_range {
            Some([first, last]) => {
                let range = EphemeralUDP::new(first, last)
                    .map_err(|e| MediaError::WebRtc(webrtc::Error::Ice(e)))?;
                settings.set_udp_network(UDPNetwork::Ephemeral(range));
                (None, Udp::Range(first, last))
            }
            None => {
                let port = config.udp_port;
                let socket = tokio::net::UdpSocket::bind(SocketAddr::new(bind_ip, port))
                    .await
                    .map_err(|e| MediaError::Bind(port, e))?;
                let addr = socket.local_addr().map_err(|e| MediaError::Bind(port, e))?;
                let mux = UDPMuxDefault::new(UDPMuxParams::new(socket));
                settings.set_udp_network(UDPNetwork::Muxed(
                    mux.clone() as Arc<dyn UDPMux + Send + Sync>
                ));
                (Some(mux), Udp::Port(addr))
            }
        };
        // The box is reachable directly on the LAN or VPN: it only answers connectivity checks
        // (ICE-lite), so browsers' obfuscated mDNS candidates never need resolving.
        settings.set_lite(true);
        settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
        gone_within_seconds(&mut settings);
        settings.set_network_types(vec![if bind_ip.is_ipv6() {
            NetworkType::Udp6
        } else {
            NetworkType::Udp4
        }]);
        let offered = offered_addresses(bind_ip, &config.addresses);
        settings.set_include_loopback_candidate(offered.iter().any(|ip| ip.is_loopback()));
        if !offered.is_empty() {
            settings.set_ip_filter(Box::new(move |ip| offered.contains(&ip)));
        }
        let api = build_api(settings)?;
        let relay_api = build_api(relay_settings(config)?)?;
        Ok(Self {
            api,
            relay_api,
            mux,
            udp,
        })
    }

    pub async fn close(&self) {
        if let Some(mux) = &self.mux {
            if let Err(e) = mux.close().await {
                tracing::debug!("closing the media socket: {e}");
            }
        }
    }
}

/// A browser that vanished (lid closed, VPN down) or a paired box that went away frees its
/// peers within seconds; a page reconnects by itself when it comes back, a relay asks again.
fn gone_within_seconds(settings: &mut SettingEngine) {
    settings.set_ice_timeouts(
        Some(Duration::from_secs(4)),
        Some(Duration::from_secs(8)),
        Some(Duration::from_secs(2)),
    );
}

/// Settings for this box's outgoing peer connections to a paired box (see
/// [`Engine::relay_api`]). Loopback is a candidate too: two boxes on one machine (tests) reach
/// each other only there, and elsewhere the other box's ICE-lite answer picks the path.
fn relay_settings(config: &MediaConfig) -> Result<SettingEngine, MediaError> {
    let mut settings = SettingEngine::default();
    if let Some([first, last]) = config.udp_port_range {
        let range = EphemeralUDP::new(first, last)
            .map_err(|e| MediaError::WebRtc(webrtc::Error::Ice(e)))?;
        settings.set_udp_network(UDPNetwork::Ephemeral(range));
    }
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    gone_within_seconds(&mut settings);
    settings.set_network_types(vec![NetworkType::Udp4, NetworkType::Udp6]);
    settings.set_include_loopback_candidate(true);
    Ok(settings)
}

/// Codecs (with the header extensions simulcast needs) and the default interceptors, on
/// `settings`.
fn build_api(settings: SettingEngine) -> Result<API, MediaError> {
    let mut codecs = MediaEngine::default();
    codecs.register_default_codecs()?;
    // Simulcast layers are told apart by their rid (RFC 8852).
    for uri in [
        webrtc::sdp::extmap::SDES_MID_URI,
        webrtc::sdp::extmap::SDES_RTP_STREAM_ID_URI,
        webrtc::sdp::extmap::SDES_REPAIR_RTP_STREAM_ID_URI,
    ] {
        codecs.register_header_extension(
            RTCRtpHeaderExtensionCapability {
                uri: uri.to_owned(),
            },
            RTPCodecType::Video,
            None,
        )?;
    }
    let interceptors = register_default_interceptors(Registry::new(), &mut codecs)?;
    Ok(APIBuilder::new()
        .with_media_engine(codecs)
        .with_interceptor_registry(interceptors)
        .with_setting_engine(settings)
        .build())
}

/// The configured addresses, or the one the server is bound to when it names one, or none
/// (meaning every non-loopback address of the box).
fn offered_addresses(bind_ip: IpAddr, configured: &[IpAddr]) -> Vec<IpAddr> {
    if !configured.is_empty() {
        configured.to_vec()
    } else if bind_ip.is_unspecified() {
        Vec::new()
    } else {
        vec![bind_ip]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_what_is_configured_else_the_bound_address() {
        let lan: IpAddr = "10.0.0.5".parse().unwrap();
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(offered_addresses(any, &[lan]), vec![lan]);
        assert_eq!(offered_addresses(loopback, &[]), vec![loopback]);
        assert!(offered_addresses(any, &[]).is_empty());
    }
}
