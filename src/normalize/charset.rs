//! Bytes → UTF-8: BOM, HTTP charset, `<meta>` prescan, detection.

use std::sync::LazyLock;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};
use regex::bytes::Regex;

/// How many leading bytes the `<meta>` prescan looks at.
const PRESCAN_BYTES: usize = 1024;

static META_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<meta\b[^>]*>").expect("static regex"));
static CHARSET_ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)"#).expect("static regex")
});

/// The encoding named by a `charset=` parameter in `text`, if encoding_rs knows the label.
fn charset_in(text: &[u8]) -> Option<&'static Encoding> {
    let label = CHARSET_ATTR.captures(text)?.get(1)?.as_bytes();
    Encoding::for_label(label)
}

/// The encoding declared by the first `<meta>` carrying a charset in the first 1024 bytes.
/// As in browsers, a UTF-16 declaration means UTF-8 and `x-user-defined` means windows-1252.
fn prescan_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let encoding = META_TAG
        .find_iter(head)
        .find_map(|tag| charset_in(tag.as_bytes()))?;
    Some(if encoding == UTF_16LE || encoding == UTF_16BE {
        UTF_8
    } else if encoding == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        encoding
    })
}

/// The charset parameter of a `Content-Type` header value.
fn http_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .and_then(|(_, value)| {
            Encoding::for_label(
                value
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .as_bytes(),
            )
        })
}

fn detect(bytes: &[u8]) -> &'static Encoding {
    if std::str::from_utf8(bytes).is_ok() || mostly_utf8(bytes) {
        return UTF_8;
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, Utf8Detection::Allow)
}

/// Is text that is not UTF-8 throughout still UTF-8 with a few stray bytes (a character pasted
/// from a legacy-encoded source)? Read as a legacy charset instead, every correct accented letter
/// would be garbled to spare the few wrong bytes. It is, when it holds valid multi-byte UTF-8
/// sequences, at least as many as malformed ones. A legacy-encoded document seldom forms one by
/// chance: none in Western and Central European text, and in Cyrillic or CJK text far fewer
/// than the malformed ones around them.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut valid, mut malformed) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        // Each non-ASCII character starts with a byte from 0xC0 up.
        valid += chunk.valid().bytes().filter(|b| *b >= 0xC0).count();
        malformed += usize::from(!chunk.invalid().is_empty());
    }
    valid > 0 && malformed <= valid
}

/// Decode a document to UTF-8 (without BOM).
///
/// The encoding is chosen from, in order: a byte order mark (which browsers let win over
/// everything), the `charset` of the HTTP `Content-Type` header, a `<meta charset>` or
/// `<meta http-equiv="Content-Type" content="…; charset=…">` in the first 1024 bytes, detection:
/// UTF-8 when the bytes are UTF-8, or mostly so (valid multi-byte sequences, at least as many
/// as malformed ones), else `chardetng`'s guess. Labels follow the WHATWG Encoding Standard
/// (`latin1` and `iso-8859-1` mean windows-1252). Malformed sequences become U+FFFD.
pub fn decode_text(bytes: &[u8], content_type: Option<&str>) -> String {
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => (encoding, &bytes[bom_len..]),
        None => {
            let encoding = content_type
                .and_then(http_charset)
                .or_else(|| prescan_meta(bytes))
                .unwrap_or_else(|| detect(bytes));
            (encoding, bytes)
        }
    };
    let (text, _had_errors) = encoding.decode_without_bom_handling(body);
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_stray_bytes_leave_utf8_text_utf8() {
        // One valid multi-byte sequence, one stray byte.
        assert_eq!(
            decode_text(b"Mixed Caf\xc3\xa9, a stray \xe9.", None),
            "Mixed Café, a stray \u{FFFD}."
        );
        let bytes = ["“naïve” ".as_bytes(), b"\x96", " 中文".as_bytes()].concat();
        assert_eq!(decode_text(&bytes, None), "“naïve” \u{FFFD} 中文");
        // A declaration still wins.
        assert_eq!(
            decode_text(b"Caf\xc3\xa9 \xe9", Some("text/html; charset=windows-1252")),
            "CafÃ© é"
        );
    }

    #[test]
    fn legacy_text_is_still_detected() {
        // No valid multi-byte sequence at all.
        let french = b"Le caf\xe9 d\xe9j\xe0 tr\xe8s fr\xe9quent\xe9 par les \xe9tudiants.";
        assert_eq!(
            decode_text(french, None),
            "Le café déjà très fréquenté par les étudiants."
        );
        // Ukrainian in windows-1251 forms a few valid sequences by chance ("Сі" is C1 B3, "ѳ"
        // in UTF-8), among many more malformed ones; CJK in double-byte charsets too.
        let cyrillic = "Сім Він Україна та її міста: Київ, Харків, Львів. ".repeat(4);
        let hanzi = "中文繁體字臺灣香港資訊學習".repeat(20);
        for (encoding, text) in [
            (encoding_rs::WINDOWS_1251, &cyrillic),
            (encoding_rs::GBK, &hanzi),
            (encoding_rs::BIG5, &hanzi),
        ] {
            let (bytes, _, _) = encoding.encode(text);
            assert!(
                bytes
                    .utf8_chunks()
                    .any(|c| c.valid().bytes().any(|b| b >= 0xC0)),
                "{}",
                encoding.name()
            );
            assert!(!mostly_utf8(&bytes), "{}", encoding.name());
            assert_eq!(decode_text(&bytes, None), *text, "{}", encoding.name());
        }
    }
}
