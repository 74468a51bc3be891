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
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, Utf8Detection::Allow)
}

/// Decode a document to UTF-8 (without BOM).
///
/// The encoding is chosen from, in order: a byte order mark (which browsers let win over
/// everything), the `charset` of the HTTP `Content-Type` header, a `<meta charset>` or
/// `<meta http-equiv="Content-Type" content="…; charset=…">` in the first 1024 bytes, `chardetng`
/// detection. Labels follow the WHATWG Encoding Standard (`latin1` and `iso-8859-1` mean
/// windows-1252). Malformed sequences become U+FFFD.
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
