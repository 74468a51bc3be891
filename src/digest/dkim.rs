//! DKIM signing of the digest message (RFC 6376), with lettre's pure-Rust signer.
//!
//! Owns: reading `[digest] dkim_key` (RSA in PKCS#1 or PKCS#8 PEM, Ed25519 in PKCS#8 PEM or as
//! a bare base64 seed), turning it into what lettre accepts, and which headers the signature
//! covers. Must not: build or send the message, write files, or decide whether to sign (the
//! caller signs only what it hands to the SMTP server).
//!
//! lettre stamps the signature's `t=` tag from the system clock when it signs; signing happens
//! right before sending, like the SMTP conversation itself.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};

/// Headers the signature covers. Listing one the message lacks (e.g. `List-Unsubscribe-Post`
/// without an https unsubscribe URL) is deliberate: nobody can add it later without breaking the
/// signature. RFC 8058 requires `List-Unsubscribe` and `List-Unsubscribe-Post` to be covered.
/// `Content-Type` is not listed: lettre keeps it with the body, where the body hash covers
/// the part boundaries anyway.
pub const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Archive",
    "Auto-Submitted",
    "Precedence",
];

/// Smallest RSA modulus accepted, in bits (RFC 8301: verifiers reject shorter keys).
pub const MIN_RSA_BITS: usize = 1024;

/// The signature algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `rsa-sha256`.
    Rsa {
        /// Size of the modulus in bits.
        bits: usize,
    },
    /// `ed25519-sha256` (RFC 8463).
    Ed25519,
}

/// A private key ready for lettre.
#[derive(Debug)]
pub struct SigningKey {
    /// What kind of key it is.
    pub kind: KeyKind,
    key: DkimSigningKey,
}

/// Read and parse the key file at `path`. The error names the file and says what is wrong
/// (missing, unreadable, not a private key, encrypted, too short).
pub fn read_key(path: &Path) -> Result<SigningKey, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "{} is not a PEM private key (it is not text)",
            path.display()
        )
    })?;
    parse_key(&text).map_err(|m| format!("{}: {m}", path.display()))
}

/// Parse a private key from the text of a key file.
pub fn parse_key(text: &str) -> Result<SigningKey, String> {
    let text = text.trim();
    if !text.contains("-----BEGIN ") {
        // lettre's own Ed25519 format: the 32-byte seed in base64.
        let seed = B64.decode(text).ok().filter(|s| s.len() == 32);
        return match seed {
            Some(_) => lettre_key(text, DkimSigningAlgorithm::Ed25519, KeyKind::Ed25519),
            None => Err(
                "not a private key: expected a PEM file (-----BEGIN RSA PRIVATE KEY----- \
                 or -----BEGIN PRIVATE KEY-----) or a base64 Ed25519 seed"
                    .into(),
            ),
        };
    }
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err("the key is encrypted; store it decrypted with \
             `openssl pkey -in KEY -out KEY.plain` and restrict the file's permissions"
            .into());
    }
    if text.contains("-----BEGIN PUBLIC KEY-----")
        || text.contains("-----BEGIN RSA PUBLIC KEY-----")
    {
        return Err("this is a public key (it goes in DNS); dkim_key needs the private key".into());
    }
    if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(text)
            .map_err(|e| format!("not a valid RSA PRIVATE KEY (PKCS#1): {e}"))?;
        return rsa_key(&key);
    }
    if text.contains("-----BEGIN PRIVATE KEY-----") {
        if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(text) {
            return rsa_key(&key);
        }
        return match ed25519_dalek::SigningKey::from_pkcs8_pem(text) {
            Ok(key) => lettre_key(
                &B64.encode(key.to_bytes()),
                DkimSigningAlgorithm::Ed25519,
                KeyKind::Ed25519,
            ),
            Err(e) => Err(format!(
                "not a valid PKCS#8 private key, or an unsupported key type (DKIM signs with \
                 RSA or Ed25519 keys): {e}"
            )),
        };
    }
    Err("a PEM block that is not a private key (expected RSA PRIVATE KEY or PRIVATE KEY)".into())
}

/// The lettre configuration that signs as `selector._domainkey.domain` with `key`: the headers
/// in [`SIGNED_HEADERS`], relaxed/relaxed canonicalization (survives relays that refold headers
/// or trim trailing spaces).
pub fn config(key: SigningKey, selector: &str, domain: &str) -> DkimConfig {
    DkimConfig::new(
        selector.to_owned(),
        domain.to_owned(),
        key.key,
        SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    )
}

/// Add a `DKIM-Signature` header to `msg`. Call it last: any later change to a signed header
/// or the body breaks the signature.
pub fn sign(msg: &mut Message, config: &DkimConfig) {
    msg.sign(config);
}

fn lettre_key(text: &str, alg: DkimSigningAlgorithm, kind: KeyKind) -> Result<SigningKey, String> {
    DkimSigningKey::new(text, alg)
        .map(|key| SigningKey { kind, key })
        .map_err(|e| format!("not a valid private key: {e}"))
}

/// An RSA key, checked for size and handed to lettre as PKCS#1 PEM.
fn rsa_key(key: &rsa::RsaPrivateKey) -> Result<SigningKey, String> {
    let bits = rsa::traits::PublicKeyParts::size(key) * 8;
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "the RSA key has {bits} bits; DKIM needs at least {MIN_RSA_BITS} (2048 recommended)"
        ));
    }
    let pem = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .map_err(|e| format!("cannot re-encode the RSA key: {e}"))?;
    lettre_key(&pem, DkimSigningAlgorithm::Rsa, KeyKind::Rsa { bits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_keys_are_refused_with_a_reason() {
        let e = parse_key("hello").expect_err("not a key");
        assert!(e.contains("not a private key"), "{e}");
        let e = parse_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .expect_err("public");
        assert!(e.contains("public key"), "{e}");
        let e = parse_key(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .expect_err("encrypted");
        assert!(e.contains("encrypted"), "{e}");
        let e = parse_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .expect_err("garbage DER");
        assert!(e.contains("PKCS#8"), "{e}");
        let e = parse_key("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n").expect_err("no END");
        assert!(e.contains("RSA PRIVATE KEY"), "{e}");
    }

    #[test]
    fn an_ed25519_seed_in_pkcs8_or_base64_is_accepted() {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
        let pem = key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .expect("pem");
        assert_eq!(parse_key(&pem).expect("pkcs8").kind, KeyKind::Ed25519);
        let bare = B64.encode([42u8; 32]);
        assert_eq!(parse_key(&bare).expect("seed").kind, KeyKind::Ed25519);
    }
}
