//! Enclosures: the media files a feed item carries, checked and cleaned for an [`Entry`].
//!
//! [`Entry`]: crate::model::Entry

use std::collections::HashSet;

use url::Url;

use super::text;
use super::urls::{is_http, without_credentials};
use super::xml_safe;
use crate::model::{Enclosure, MAX_ENCLOSURES};

/// Largest length or duration kept: 2^53 − 1, the largest whole number a JSON Feed reader in
/// JavaScript reads exactly. Anything larger is no real file's size or playing time.
const MAX_NUMBER: u64 = (1 << 53) - 1;

/// The enclosures an entry keeps of `raw`, in order: absolute http(s) URLs only (without user
/// name, password or fragment), one per URL, at most [`MAX_ENCLOSURES`] (a warning says how
/// many more were left out); media types that read as `type/subtype` (no wildcard: `*/*` names
/// no type), lower case and without parameters; a length of `0`, or a length or duration over
/// [`MAX_NUMBER`], as unknown; titles as plain one-line text.
pub(crate) fn enclosures(raw: &[Enclosure], warnings: &mut Vec<String>) -> Vec<Enclosure> {
    let mut seen = HashSet::new();
    let mut kept: Vec<Enclosure> = Vec::new();
    let mut left_out = 0;
    for e in raw {
        let Ok(url) = Url::parse(e.url.trim()) else {
            continue;
        };
        if !is_http(&url) {
            continue;
        }
        let mut url = without_credentials(&url);
        url.set_fragment(None);
        let url = xml_safe(url.as_str());
        if !seen.insert(url.clone()) {
            continue;
        }
        if kept.len() == MAX_ENCLOSURES {
            left_out += 1;
            continue;
        }
        kept.push(Enclosure {
            url,
            media_type: e.media_type.as_deref().and_then(media_type),
            length: e.length.filter(|&n| n > 0 && n <= MAX_NUMBER),
            title: e.title.as_deref().map(title).filter(|t| !t.is_empty()),
            duration_secs: e.duration_secs.filter(|&n| n <= MAX_NUMBER),
        });
    }
    if left_out > 0 {
        warnings.push(format!(
            "{left_out} more enclosures left out: an entry keeps at most {MAX_ENCLOSURES}"
        ));
    }
    kept
}

/// `type/subtype` of a media type as written (`Audio/MPEG; charset=x` → `audio/mpeg`); `None`
/// when it does not read as one (both parts RFC 9110 tokens), or is a wildcard of the kind an
/// `Accept` header holds (`*/*`, `audio/*`), which names no type.
fn media_type(raw: &str) -> Option<String> {
    let essence = raw.split(';').next().unwrap_or("").trim();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && !s.contains('*')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    (token(kind) && token(sub)).then(|| essence.to_ascii_lowercase())
}

/// An enclosure's title: one line of plain text, at most [`text::MAX_TITLE_CHARS`].
fn title(raw: &str) -> String {
    let cleaned = text::clean(raw);
    let cut = text::cut_at_word(&cleaned, text::MAX_TITLE_CHARS).unwrap_or(cleaned);
    text::balance_bidi(&cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url: &str) -> Enclosure {
        Enclosure {
            url: url.into(),
            media_type: None,
            length: None,
            title: None,
            duration_secs: None,
        }
    }

    #[test]
    fn only_http_urls_once_each_without_credentials() {
        let mut warnings = Vec::new();
        let got = enclosures(
            &[
                raw("https://user:pw@cdn.example.org/ep1.mp3#t=10"),
                raw("https://cdn.example.org/ep1.mp3"),
                raw("ftp://cdn.example.org/ep1.mp3"),
                raw("javascript:alert(1)"),
                raw("ep2.mp3"),
                raw(""),
                raw("#"),
                raw("   "),
                raw(" http://cdn.example.org/ep2.mp3?utm_source=feed "),
            ],
            &mut warnings,
        );
        let urls: Vec<&str> = got.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://cdn.example.org/ep1.mp3",
                // A media URL's query is its own (signed URLs): kept as it is.
                "http://cdn.example.org/ep2.mp3?utm_source=feed"
            ]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn fields_are_cleaned() {
        let mut warnings = Vec::new();
        let e = Enclosure {
            url: "https://example.org/a.mp4".into(),
            media_type: Some(" Video/MP4; codecs=\"avc1\" ".into()),
            length: Some(0),
            title: Some("  Part\n one\u{7} ".into()),
            duration_secs: Some(61),
        };
        let bad_type = Enclosure {
            url: "https://example.org/b".into(),
            media_type: Some("audio mpeg".into()),
            length: Some(12),
            ..raw("")
        };
        let huge = |url: &str, media_type: &str, n: u64| Enclosure {
            url: url.into(),
            media_type: Some(media_type.into()),
            length: Some(n),
            duration_secs: Some(n),
            ..raw("")
        };
        let got = enclosures(
            &[
                e,
                bad_type,
                huge("https://example.org/c", "*/*", u64::MAX),
                huge("https://example.org/d", "audio/*", (1 << 53) - 1),
                huge("https://example.org/e", "*/mpeg", 1 << 53),
            ],
            &mut warnings,
        );
        assert_eq!(got[0].media_type.as_deref(), Some("video/mp4"));
        assert_eq!(got[0].length, None);
        assert_eq!(got[0].title.as_deref(), Some("Part one"));
        assert_eq!(got[0].duration_secs, Some(61));
        assert_eq!(got[1].media_type, None);
        assert_eq!(got[1].length, Some(12));
        // Wildcards name no type; numbers past 2^53 - 1 are no real size or playing time.
        let kept: Vec<_> = got[2..]
            .iter()
            .map(|e| (e.media_type.clone(), e.length, e.duration_secs))
            .collect();
        let exact = Some((1 << 53) - 1);
        assert_eq!(
            kept,
            [(None, None, None), (None, exact, exact), (None, None, None)]
        );
    }

    #[test]
    fn at_most_max_enclosures_with_a_warning() {
        let many: Vec<Enclosure> = (0..MAX_ENCLOSURES + 3)
            .map(|i| raw(&format!("https://example.org/{i}.mp3")))
            .collect();
        let mut warnings = Vec::new();
        let got = enclosures(&many, &mut warnings);
        assert_eq!(got.len(), MAX_ENCLOSURES);
        assert_eq!(got[0].url, "https://example.org/0.mp3");
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("3 more enclosures left out"),
            "{warnings:?}"
        );
    }
}
