//! WireGuard keys: X25519, base64 as `wg genkey` / `wg pubkey` write them.

use base64::Engine;
use rand::RngCore;
use x25519_dalek::{PublicKey, StaticSecret};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A new key pair: (private, public), base64.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = StaticSecret::from(bytes);
    let public = PublicKey::from(&secret);
    (B64.encode(secret.to_bytes()), B64.encode(public.as_bytes()))
}

/// The public key of a base64 private key (`wg pubkey`), if it is one.
pub fn public_of(private: &str) -> Option<String> {
    let bytes: [u8; 32] = B64.decode(private).ok()?.try_into().ok()?;
    Some(B64.encode(PublicKey::from(&StaticSecret::from(bytes)).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_x25519_as_wireguard_writes_them() {
        // RFC 7748, section 6.1: Alice's private key and public key.
        let private = B64.encode(
            hex::decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
                .unwrap(),
        );
        let public = B64.encode(
            hex::decode("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
                .unwrap(),
        );
        assert_eq!(public_of(&private).as_deref(), Some(public.as_str()));
        let (private, public) = generate();
        assert_eq!(public_of(&private), Some(public));
        assert_eq!(B64.decode(&private).unwrap().len(), 32);
        assert_eq!(public_of("not a key"), None);
    }
}
