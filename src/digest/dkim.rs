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

use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;

/// Headers the signature covers. Listing one the message lacks (e.g. `List-Unsubscribe-Post`
/// without an https unsubscribe URL) is deliberate: nobody can add it later without breaking the
/// signature. RFC 8058 requires `List-Unsubscribe` and `List-Unsubscribe-Post` to be covered.
/// `Content-Type` is not listed: lettre keeps it with the body, where the body hash covers
/// the part boundaries anyway.
pub const SIGNED_HEADERS: [&str; 9] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
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
        let seed = base64_decode(text).ok().filter(|s| s.len() == 32);
        return match seed {
            Some(_) => lettre_key(text, DkimSigningAlgorithm::Ed25519, KeyKind::Ed25519),
            None => Err(
                "not a private key: expected a PEM file (-----BEGIN RSA PRIVATE KEY----- \
                 or -----BEGIN PRIVATE KEY-----) or a base64 Ed25519 seed"
                    .into(),
            ),
        };
    }
    let (label, der) = pem_block(text)?;
    match label {
        "RSA PRIVATE KEY" => rsa_key(&der),
        "PRIVATE KEY" => pkcs8_key(&der),
        "ENCRYPTED PRIVATE KEY" => Err("the key is encrypted; store it decrypted with \
             `openssl pkey -in KEY -out KEY.plain` and restrict the file's permissions"
            .into()),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            Err("this is a public key (it goes in DNS); dkim_key needs the private key".into())
        }
        other => Err(format!(
            "a PEM \"{other}\" block is not a private key (expected RSA PRIVATE KEY or PRIVATE KEY)"
        )),
    }
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

/// PKCS#1 `RSAPrivateKey` DER.
fn rsa_key(der: &[u8]) -> Result<SigningKey, String> {
    let bits = rsa_modulus_bits(der).ok_or("not a valid RSA private key")?;
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "the RSA key has {bits} bits; DKIM needs at least {MIN_RSA_BITS} (2048 recommended)"
        ));
    }
    let pem = pem_encode("RSA PRIVATE KEY", der);
    lettre_key(&pem, DkimSigningAlgorithm::Rsa, KeyKind::Rsa { bits })
}

/// DER of the `rsaEncryption` and `id-Ed25519` object identifiers (content octets).
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// PKCS#8 `PrivateKeyInfo` DER: version, algorithm identifier, then the key as an OCTET STRING.
fn pkcs8_key(der: &[u8]) -> Result<SigningKey, String> {
    let bad = || "not a valid PKCS#8 private key".to_string();
    let (info, _) = der_take(der, 0x30).ok_or_else(bad)?;
    let (_version, rest) = der_take(info, 0x02).ok_or_else(bad)?;
    let (alg, rest) = der_take(rest, 0x30).ok_or_else(bad)?;
    let (oid, _) = der_take(alg, 0x06).ok_or_else(bad)?;
    let (key, _) = der_take(rest, 0x04).ok_or_else(bad)?;
    if oid == OID_RSA {
        rsa_key(key)
    } else if oid == OID_ED25519 {
        // CurvePrivateKey ::= OCTET STRING (the 32-byte seed).
        let (seed, _) = der_take(key, 0x04).ok_or_else(bad)?;
        if seed.len() != 32 {
            return Err(bad());
        }
        lettre_key(
            &base64_encode(seed),
            DkimSigningAlgorithm::Ed25519,
            KeyKind::Ed25519,
        )
    } else {
        Err("unsupported key type: DKIM signs with RSA or Ed25519 keys".into())
    }
}

fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let (seq, _) = der_take(der, 0x30)?;
    let (_version, rest) = der_take(seq, 0x02)?;
    let (modulus, _) = der_take(rest, 0x02)?;
    let first = modulus.iter().position(|&b| b != 0)?;
    let top = modulus[first];
    Some((modulus.len() - first - 1) * 8 + (8 - top.leading_zeros() as usize))
}

/// Take one DER element with `tag` from the front of `der`: its content and what follows.
fn der_take(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = der.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, tail) = rest.split_at(n);
        rest = tail;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The first PEM block in `text`: its label and decoded contents.
fn pem_block(text: &str) -> Result<(&str, Vec<u8>), String> {
    let bad = |m: &str| format!("not a valid PEM file: {m}");
    let start = text
        .find("-----BEGIN ")
        .ok_or_else(|| bad("no BEGIN line"))?;
    let after = &text[start + "-----BEGIN ".len()..];
    let label_end = after
        .find("-----")
        .ok_or_else(|| bad("unterminated BEGIN line"))?;
    let label = &after[..label_end];
    let body_and_rest = &after[label_end + 5..];
    let end_line = format!("-----END {label}-----");
    let end = body_and_rest
        .find(&end_line)
        .ok_or_else(|| bad(&format!("no {end_line:?} line")))?;
    let body = &body_and_rest[..end];
    if body.contains(':') {
        // "Proc-Type: 4,ENCRYPTED" headers of OpenSSL's legacy encrypted PEM.
        return Err("the key is encrypted; store it decrypted with \
             `openssl pkey -in KEY -out KEY.plain` and restrict the file's permissions"
            .into());
    }
    let der = base64_decode(body).map_err(|m| bad(&m))?;
    Ok((label, der))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding; whitespace (line breaks) is ignored.
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if symbols.is_empty() || !symbols.len().is_multiple_of(4) {
        return Err("bad base64 length".into());
    }
    let pad = symbols.iter().rev().take_while(|&&b| b == b'=').count();
    if pad > 2 {
        return Err("bad base64 padding".into());
    }
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3);
    for (ci, chunk) in symbols.chunks(4).enumerate() {
        let last = ci == symbols.len() / 4 - 1;
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' if last && i >= 4 - pad => 0,
                _ => return Err(format!("invalid base64 character {:?}", char::from(c))),
            };
            n = (n << 6) | u32::from(v);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = if last { 3 - pad } else { 3 };
        out.extend_from_slice(&bytes[..keep]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length_and_rejects_garbage() {
        for len in 0..40u8 {
            let data: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(5))
                .collect();
            let enc = base64_encode(&data);
            if len == 0 {
                assert!(base64_decode(&enc).is_err());
            } else {
                assert_eq!(base64_decode(&enc).expect("decode"), data, "len {len}");
            }
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm9v\nYmE=").expect("decode"), b"fooba");
        assert!(base64_decode("Zm9=YmFy").is_err());
        assert!(base64_decode("Zm9vY").is_err());
        assert!(base64_decode("Zm9v!mFy").is_err());
    }

    #[test]
    fn der_lengths_short_and_long_form() {
        let short = [0x04, 0x02, 0xaa, 0xbb, 0xcc];
        assert_eq!(
            der_take(&short, 0x04),
            Some((&[0xaa, 0xbb][..], &[0xcc][..]))
        );
        assert_eq!(der_take(&short, 0x30), None);
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(der_take(&long, 0x04).map(|(c, _)| c.len()), Some(0x80));
        assert_eq!(der_take(&[0x04, 0x05, 0x01], 0x04), None);
    }

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
        assert!(e.contains("END RSA PRIVATE KEY"), "{e}");
    }

    #[test]
    fn an_ed25519_seed_in_pkcs8_or_base64_is_accepted() {
        // PrivateKeyInfo { 0, { id-Ed25519 }, OCTET STRING { OCTET STRING { seed } } }.
        let seed = [42u8; 32];
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        let pem = pem_encode("PRIVATE KEY", &der);
        assert_eq!(parse_key(&pem).expect("pkcs8").kind, KeyKind::Ed25519);
        let bare = base64_encode(&seed);
        assert_eq!(parse_key(&bare).expect("seed").kind, KeyKind::Ed25519);
        der[10] = 0x71; // id-Ed448: not supported
        let e = parse_key(&pem_encode("PRIVATE KEY", &der)).expect_err("ed448");
        assert!(e.contains("unsupported key type"), "{e}");
    }
}
