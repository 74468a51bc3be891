//! Bytes → UTF-8: BOM, HTTP charset, `<meta>` prescan, detection; and what a page declared, for
//! a warning when its declarations disagree or decoding replaced bytes.

use std::sync::LazyLock;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{
    DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED,
};
use regex::bytes::Regex;

/// How many leading bytes the `<meta>` prescan looks at.
const PRESCAN_BYTES: usize = 1024;

static META_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<meta\b[^>]*>").expect("static regex"));
static CHARSET_ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)"#).expect("static regex")
});

/// A charset a document or its header declares: the encoding, and the label as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub encoding: &'static Encoding,
    /// The label as written (encoding_rs knows it, so it is short plain ASCII), such as
    /// `ISO-8859-1` for the encoding windows-1252.
    pub label: String,
}

impl Declared {
    fn of(label: &[u8]) -> Option<Declared> {
        let encoding = Encoding::for_label(label)?;
        let label = std::str::from_utf8(label)
            .ok()
            .map(str::trim)
            .filter(|w| w.len() <= 40 && w.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or(encoding.name())
            .to_owned();
        Some(Declared { encoding, label })
    }
}

/// The charset named by a `charset=` parameter in `text`, if encoding_rs knows the label.
fn charset_in(text: &[u8]) -> Option<Declared> {
    let label = CHARSET_ATTR.captures(text)?.get(1)?.as_bytes();
    Declared::of(label)
}

/// The charset declared by the first `<meta>` carrying one in the first 1024 bytes. As in
/// browsers, a UTF-16 declaration means UTF-8 and `x-user-defined` means windows-1252.
fn prescan_meta(bytes: &[u8]) -> Option<Declared> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let declared = META_TAG
        .find_iter(head)
        .find_map(|tag| charset_in(tag.as_bytes()))?;
    let encoding = declared.encoding;
    let encoding = if encoding == UTF_16LE || encoding == UTF_16BE {
        UTF_8
    } else if encoding == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        encoding
    };
    Some(Declared {
        encoding,
        ..declared
    })
}

/// The charset parameter of a `Content-Type` header value.
fn http_charset(content_type: &str) -> Option<Declared> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .and_then(|(_, value)| {
            Declared::of(
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

/// Where the encoding a document was decoded with came from (see [`decode_page`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// A byte order mark.
    Bom,
    /// The `charset` of the HTTP `Content-Type` header.
    Header,
    /// A `<meta>` in the document's first 1024 bytes.
    Meta,
    /// Detection: no BOM and no declaration (that encoding_rs knows).
    Detected,
}

/// A document decoded to UTF-8 by [`decode_page`], with what decided its encoding.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text, without BOM.
    pub text: String,
    /// The encoding it was decoded with.
    pub encoding: &'static Encoding,
    pub chosen: Chosen,
    /// The charset the HTTP header declares, if any.
    pub header: Option<Declared>,
    /// The charset the document's `<meta>` declares, if any.
    pub meta: Option<Declared>,
    /// How many malformed byte sequences decoding replaced with U+FFFD.
    pub replaced: usize,
    /// The bytes are valid UTF-8 with multi-byte sequences, read in the single-byte charset a
    /// declaration named: every such character comes out as two or three (`NÃ©gociations`).
    pub utf8_as_single_byte: bool,
}

impl Decoded {
    /// Why the text may not read as its author wrote it, as one line for a warning: the HTTP
    /// header and the document's `<meta>` name different charsets (the header's was used, as in
    /// browsers: text in the other one comes out garbled), or decoding replaced bytes that are
    /// not valid in the charset used, or the bytes are UTF-8 read in a single-byte charset a
    /// declaration named (browsers garble them the same way). `None` when none of these.
    pub fn doubt(&self) -> Option<String> {
        let conflict = self.chosen == Chosen::Header
            && matches!((&self.header, &self.meta), (Some(h), Some(m)) if h.encoding != m.encoding);
        let replaced = self.replaced > 0;
        let what = match (conflict, replaced) {
            (false, false) if !self.utf8_as_single_byte => return None,
            (false, false) => "",
            (true, false) => "the HTTP header and the page's <meta> name different charsets",
            (true, true) => {
                "the HTTP header and the page's <meta> name different charsets, and bytes are \
                 not valid in the one used"
            }
            (false, true) => "bytes are not valid in the page's charset",
        };
        fn label(d: &Option<Declared>) -> &str {
            d.as_ref().map_or("none", |d| d.label.as_str())
        }
        let from = match self.chosen {
            Chosen::Bom => "from its byte order mark",
            Chosen::Header => "the header's, which wins as in browsers",
            Chosen::Meta => "the <meta>'s",
            Chosen::Detected => "detected",
        };
        let utf8 = if self.utf8_as_single_byte {
            "the bytes are UTF-8, which reads garbled in the single-byte charset declared (é as \
             Ã©)"
        } else {
            ""
        };
        let sep = if what.is_empty() || utf8.is_empty() {
            ""
        } else {
            "; "
        };
        Some(format!(
            "{what}{sep}{utf8}: HTTP header charset {}, <meta> charset {}; decoded as {} ({from}) \
             with {} replacement character{} (U+FFFD)",
            label(&self.header),
            label(&self.meta),
            self.encoding.name(),
            self.replaced,
            if self.replaced == 1 { "" } else { "s" },
        ))
    }
}

/// Decode a document to UTF-8 (without BOM).
///
/// The encoding is chosen from, in order: a byte order mark (which browsers let win over
/// everything, as the WHATWG encoding sniffing does), the `charset` of the HTTP `Content-Type`
/// header, a `<meta charset>` or `<meta http-equiv="Content-Type" content="…; charset=…">` in
/// the first 1024 bytes, detection: UTF-8 when the bytes are UTF-8, or mostly so (valid
/// multi-byte sequences, at least as many as malformed ones), else `chardetng`'s guess. Labels
/// follow the WHATWG Encoding Standard (`latin1` and `iso-8859-1` mean windows-1252). Malformed
/// sequences become U+FFFD.
pub fn decode_text(bytes: &[u8], content_type: Option<&str>) -> String {
    decode_page(bytes, content_type).text
}

/// [`decode_text`], saying which charsets were declared, which one was used and how many
/// malformed sequences became U+FFFD (see [`Decoded::doubt`]).
pub fn decode_page(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let header = content_type.and_then(http_charset);
    let meta = prescan_meta(bytes);
    let (encoding, chosen, body) = match Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => (encoding, Chosen::Bom, &bytes[bom_len..]),
        None => match (&header, &meta) {
            (Some(h), _) => (h.encoding, Chosen::Header, bytes),
            (None, Some(m)) => (m.encoding, Chosen::Meta, bytes),
            (None, None) => (detect(bytes), Chosen::Detected, bytes),
        },
    };
    let (mut text, replaced) = decode_counting(encoding, body);
    let utf8_as_single_byte = matches!(chosen, Chosen::Header | Chosen::Meta)
        && encoding.is_single_byte()
        && body.iter().any(|b| *b >= 0xC0)
        && std::str::from_utf8(body).is_ok();
    if text.starts_with('\u{FEFF}') {
        text.drain(..'\u{FEFF}'.len_utf8());
    }
    Decoded {
        text,
        encoding,
        chosen,
        header,
        meta,
        replaced,
        utf8_as_single_byte,
    }
}

/// `encoding.decode_without_bom_handling(body)`, counting the malformed sequences it replaces
/// with U+FFFD (a U+FFFD the document itself holds is not one).
fn decode_counting(encoding: &'static Encoding, body: &[u8]) -> (String, usize) {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(body.len())
            .unwrap_or(body.len()),
    );
    let (mut rest, mut replaced) = (body, 0);
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        rest = &rest[read..];
        match result {
            DecoderResult::InputEmpty => return (text, replaced),
            DecoderResult::Malformed(_, _) => {
                text.push('\u{FFFD}');
                replaced += 1;
            }
            DecoderResult::OutputFull => {
                let more = decoder
                    .max_utf8_buffer_length_without_replacement(rest.len())
                    .unwrap_or(rest.len())
                    .max(4);
                text.reserve(more);
            }
        }
    }
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
    fn a_byte_order_mark_wins_over_the_header_and_the_meta() {
        let bytes = [
            &b"\xEF\xBB\xBF"[..],
            "<meta charset=\"latin1\">Lucía".as_bytes(),
        ]
        .concat();
        let d = decode_page(&bytes, Some("text/html; charset=windows-1251"));
        assert_eq!(d.text, "<meta charset=\"latin1\">Lucía");
        assert_eq!((d.encoding, d.chosen), (UTF_8, Chosen::Bom));
        // Header and meta disagree, but neither was used: nothing to warn of.
        assert_eq!(d.doubt(), None);
    }

    #[test]
    fn declarations_that_disagree_or_bytes_replaced_are_a_doubt() {
        let page = "<meta charset=\"UTF-8\"><p>Lucía García — ok \u{FFFD}</p>";
        // Header wins: garbled, and said so with both labels as written.
        let d = decode_page(page.as_bytes(), Some("text/html; charset=ISO-8859-1"));
        assert!(d.text.contains("LucÃ\u{AD}a"), "{}", d.text);
        assert_eq!(
            (d.encoding, d.chosen, d.replaced),
            (WINDOWS_1252, Chosen::Header, 0)
        );
        let doubt = d.doubt().expect("a doubt");
        assert!(
            doubt.contains("different charsets")
                && doubt.contains("HTTP header charset ISO-8859-1")
                && doubt.contains("<meta> charset UTF-8")
                && doubt.contains("decoded as windows-1252")
                && doubt.contains("0 replacement characters"),
            "{doubt}"
        );
        // Two labels of one encoding agree; the U+FFFD the page holds is no replacement.
        let d = decode_page(page.as_bytes(), Some("text/html; charset=utf8"));
        assert_eq!((d.replaced, d.doubt()), (0, None));
        let d = decode_page(
            b"<meta charset=windows-1252>caf\xe9",
            Some("text/html; charset=latin1"),
        );
        assert_eq!(
            (d.text.as_str(), d.doubt()),
            ("<meta charset=windows-1252>café", None)
        );
        // Bytes that are not UTF-8, each counted.
        let d = decode_page(b"caf\xe9 tr\xe8s \x96 ok", Some("text/html; charset=utf-8"));
        assert_eq!(d.text, "caf\u{FFFD} tr\u{FFFD}s \u{FFFD} ok");
        assert_eq!(d.replaced, 3);
        let doubt = d.doubt().expect("a doubt");
        assert!(
            doubt.contains("not valid")
                && doubt.contains("HTTP header charset utf-8, <meta> charset none")
                && doubt.contains("3 replacement characters"),
            "{doubt}"
        );
        // Detected as mostly UTF-8, one stray byte.
        let d = decode_page(b"Caf\xc3\xa9, a stray \xe9.", None);
        assert_eq!((d.chosen, d.replaced), (Chosen::Detected, 1));
        assert!(
            d.doubt()
                .unwrap()
                .contains("1 replacement character (U+FFFD)")
        );
        // decode_text is the same text.
        assert_eq!(
            decode_text(b"caf\xe9", Some("text/html; charset=utf-8")),
            "caf\u{FFFD}"
        );
    }

    /// A UTF-8 page declaring ISO-8859-1 (in its `<meta>` or its header) is read as declared,
    /// as browsers do, and garbled: the doubt says the bytes are UTF-8. A page in a single-byte
    /// charset that holds no valid multi-byte UTF-8, or UTF-8 with nothing but ASCII, has none.
    #[test]
    fn utf8_read_as_a_declared_single_byte_charset_is_a_doubt() {
        let page = "<meta charset=ISO-8859-1><h1>Négociations à Genève</h1>";
        for (bytes, ct) in [
            (page.as_bytes(), None),
            (page.as_bytes(), Some("text/html; charset=latin1")),
        ] {
            let d = decode_page(bytes, ct);
            assert!(
                d.text.contains("NÃ©gociations Ã\u{A0} GenÃ¨ve"),
                "{}",
                d.text
            );
            assert!(d.utf8_as_single_byte);
            let doubt = d.doubt().expect("a doubt");
            assert!(
                doubt.starts_with("the bytes are UTF-8, which reads garbled")
                    && doubt.contains("<meta> charset ISO-8859-1")
                    && doubt.contains("decoded as windows-1252"),
                "{doubt}"
            );
        }
        // With a conflict too: both said, in one line.
        let d = decode_page(
            "<meta charset=utf-8>é".as_bytes(),
            Some("text/html; charset=ISO-8859-1"),
        );
        let doubt = d.doubt().expect("a doubt");
        assert!(
            doubt.starts_with(
                "the HTTP header and the page's <meta> name different charsets; the bytes are UTF-8"
            ),
            "{doubt}"
        );
        for (bytes, ct) in [
            (
                &b"<meta charset=ISO-8859-1>N\xe9gociations \xe0 Gen\xe8ve"[..],
                None,
            ),
            (
                &b"<meta charset=ISO-8859-1>Negotiations in Geneva"[..],
                None,
            ),
            (
                &b"N\xc3\xa9gociations"[..],
                Some("text/html; charset=utf-8"),
            ),
            (&b"N\xc3\xa9gociations"[..], None),
        ] {
            let d = decode_page(bytes, ct);
            assert!(!d.utf8_as_single_byte, "{bytes:?}");
            assert_eq!(d.doubt(), None, "{bytes:?}");
        }
        // A multi-byte legacy charset is not single-byte: Shift_JIS declared over UTF-8 bytes is
        // named by its replacement characters instead, if any.
        let d = decode_page("<meta charset=shift_jis>日本".as_bytes(), None);
        assert!(!d.utf8_as_single_byte);
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
