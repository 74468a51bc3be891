//! The representations of a published file and the validators that tell them apart.
//!
//! A file is sent in up to four representations: as is or gzip-encoded, and (for `.xml`) under
//! its feed media type or as `application/xml` for a browser. Each has its own strong `ETag`: the
//! file's ETag (from `ServeDir`) with a suffix, so a cache or a client never takes one for the
//! other. Conditional requests name the ETag of the representation they hold; `ServeDir`
//! compares with the file's, so their entity-tag lists are rewritten into the file's terms
//! first ([`Variant::file_tags`]).
//!
//! Owns: choosing the content coding from `Accept-Encoding` and the browser view from `Accept`
//! (both by their weights), the ETag suffixes, rewriting `If-None-Match` / `If-Match`, which
//! `Range` is served (one byte range; anything else is ignored), whether `If-Range` holds
//! (RFC 9110 §13.1.5) and whether an `If-Modified-Since` date lies in the future. Must not:
//! read files, the clock or the configuration (the time is passed in).

use axum::http::header::{ACCEPT, ACCEPT_ENCODING};
use axum::http::{HeaderMap, HeaderName};
use chrono::{DateTime, NaiveDateTime, Utc};

/// The content coding to answer with, from the request's `Accept-Encoding` (RFC 9110 §12.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// gzip is acceptable and not less preferred than no coding.
    Gzip,
    /// No coding.
    Identity,
    /// Neither gzip nor the unencoded content is acceptable: 406.
    NoneAcceptable,
}

impl Coding {
    /// An `Accept-Encoding` value that any parser reads as this choice, so that every layer of
    /// the server makes the same one.
    pub fn as_accept_encoding(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
            Coding::NoneAcceptable => "identity;q=0",
        }
    }
}

/// A qvalue in thousandths (`q=0.5` → 500); `None` when malformed.
fn qvalue(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The elements of every `name` field of `headers` with their weights (`;q=`, 1 when absent), in
/// thousandths; an element with a malformed weight is left out.
fn weighted(headers: &HeaderMap, name: HeaderName) -> Vec<(&str, u16)> {
    let mut out = Vec::new();
    for value in headers.get_all(name) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut params = item.split(';');
            let token = params.next().unwrap_or("").trim();
            let mut q = Some(1000);
            for p in params {
                if let Some((k, v)) = p.split_once('=')
                    && k.trim().eq_ignore_ascii_case("q")
                {
                    q = qvalue(v.trim());
                    break;
                }
            }
            if let Some(q) = q
                && !token.is_empty()
            {
                out.push((token, q));
            }
        }
    }
    out
}

/// Choose the content coding for `headers` (all `Accept-Encoding` fields). gzip wins a tie with
/// the unencoded content; without the header, or with an empty one, nothing is encoded.
/// Entries with a malformed weight are ignored. Pure.
pub fn coding(headers: &HeaderMap) -> Coding {
    let (mut gzip, mut identity, mut any) = (None::<u16>, None::<u16>, None::<u16>);
    for (name, q) in weighted(headers, ACCEPT_ENCODING) {
        let slot = if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if name.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if name == "*" {
            &mut any
        } else {
            continue;
        };
        *slot = Some(slot.map_or(q, |old| old.max(q)));
    }
    let gzip = gzip.or(any).unwrap_or(0);
    // Unencoded content is acceptable unless `identity;q=0`, or `*;q=0` without an identity
    // entry, says otherwise; it is preferred over gzip only when weighted higher.
    let identity = identity.or(any);
    if gzip > 0 && identity.is_none_or(|q| gzip >= q) {
        Coding::Gzip
    } else if identity.is_none_or(|q| q > 0) {
        Coding::Identity
    } else {
        Coding::NoneAcceptable
    }
}

/// Whether a request for an `.xml` feed whose own media type is `feed_type` (such as
/// `application/atom+xml`) comes from a browser, which gets it as `application/xml` to render it
/// through its stylesheet: its `Accept` names `text/html` with a weight above 0 and not below
/// the weight it gives the feed's type, that of the most specific range covering it (the type
/// itself, `application/*`, then `*/*`; 0 when none does), or above it when that range is the
/// type itself: a client naming the feed's own type as high as HTML (Miniflux's
/// `application/xml, application/atom+xml, …, text/html, */*;q=0.9`) is a feed reader. A
/// request that does not name `text/html` (only a wildcard, or no `Accept`) is a feed reader's.
/// Entries with a malformed weight are ignored. Pure.
pub fn wants_browser_view(headers: &HeaderMap, feed_type: &str) -> bool {
    let (top, _) = feed_type.split_once('/').unwrap_or((feed_type, ""));
    let mut html = None::<u16>;
    // (specificity, weight) of the most specific range covering the feed's type.
    let mut feed = (0u8, 0u16);
    for (range, q) in weighted(headers, ACCEPT) {
        if range.eq_ignore_ascii_case("text/html") {
            html = Some(html.map_or(q, |old| old.max(q)));
        }
        let (t, sub) = range.split_once('/').unwrap_or((range, ""));
        let specificity = if range.eq_ignore_ascii_case(feed_type) {
            3
        } else if t.eq_ignore_ascii_case(top) && sub == "*" {
            2
        } else if range == "*/*" {
            1
        } else {
            continue;
        };
        if specificity > feed.0 || specificity == feed.0 && q > feed.1 {
            feed = (specificity, q);
        }
    }
    html.is_some_and(|q| q > 0 && (q > feed.1 || q == feed.1 && feed.0 < 3))
}

/// An entity-tag list that matches no file: keeps the header present (so `If-None-Match` still
/// takes precedence over `If-Modified-Since`) while matching nothing.
pub const NO_TAG: &str = "\"\"";

/// One representation of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// An `.xml` feed sent as `application/xml` to a browser.
    pub browser: bool,
    /// gzip-encoded.
    pub gzip: bool,
}

impl Variant {
    /// What this representation adds to the file's ETag, inside the quotes. The suffixes
    /// differ, so the ETags of a file's representations do too.
    pub fn suffix(self) -> &'static str {
        match (self.browser, self.gzip) {
            (false, false) => "",
            (true, false) => "-xml",
            (false, true) => "-gzip",
            (true, true) => "-xml-gzip",
        }
    }

    /// This representation's ETag, from the file's (`"…"` or `W/"…"`); `None` if that is not
    /// a quoted entity-tag.
    pub fn etag(self, file_etag: &str) -> Option<String> {
        let open = file_etag.strip_suffix('"')?;
        (open.starts_with('"') || open.starts_with("W/\""))
            .then(|| format!("{open}{}\"", self.suffix()))
    }

    /// Rewrite an `If-None-Match` or `If-Match` list so that comparing it with the file's ETag
    /// is comparing the original with this representation's: its tags lose the suffix, tags of
    /// other representations are left out. `*` stays; a list left empty becomes [`NO_TAG`].
    pub fn file_tags(self, list: &str) -> String {
        let suffix = self.suffix();
        if suffix.is_empty() || list.trim() == "*" {
            return list.to_owned();
        }
        let tags: Vec<String> = entity_tags(list)
            .into_iter()
            .filter_map(|(weak, opaque)| {
                let w = if weak { "W/" } else { "" };
                opaque.strip_suffix(suffix).map(|o| format!("{w}\"{o}\""))
            })
            .collect();
        if tags.is_empty() {
            NO_TAG.to_owned()
        } else {
            tags.join(", ")
        }
    }
}

/// The entity-tags of a list, as (weak, opaque text without quotes); anything else is skipped.
fn entity_tags(list: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, tag) = match rest.strip_prefix("W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let Some(open) = tag.strip_prefix('"') else {
            // Not an entity-tag: skip to the next element.
            match rest.find(',') {
                Some(i) => {
                    rest = &rest[i + 1..];
                    continue;
                }
                None => break,
            }
        };
        let Some(end) = open.find('"') else { break };
        out.push((weak, &open[..end]));
        rest = &open[end + 1..];
    }
    out
}

/// The `Range` to pass on for a GET: one range of bytes, as `bytes=<range>`. `None` (serve the
/// whole representation) for another unit, which a server must ignore (RFC 9110 §14.2), and for
/// several ranges, which would need `multipart/byteranges`, not offered here. A malformed
/// range of bytes is passed on as is (answered 416). Pure.
pub fn single_byte_range(value: &str) -> Option<String> {
    let (unit, set) = value.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let specs: Vec<&str> = set
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match specs.as_slice() {
        [one] => Some(format!("bytes={one}")),
        [] => Some(value.to_owned()),
        _ => None,
    }
}

/// Parse an HTTP-date in the IMF-fixdate form servers send (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), "%a, %d %b %Y %H:%M:%S GMT")
        .ok()
        .map(|t| t.and_utc())
}

/// Whether an `If-Modified-Since` value is a date after `now`, in any of HTTP's date formats: a
/// client whose clock runs ahead would otherwise be told "not modified" about a file changed
/// since its copy until the server's clock catches up, so such a condition is ignored (as
/// Apache does).
pub fn is_future_date(value: &str, now: DateTime<Utc>) -> bool {
    httpdate::parse_http_date(value.trim()).is_ok_and(|date| DateTime::<Utc>::from(date) > now)
}

/// A request's `If-Range` validator (RFC 9110 §13.1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfRange {
    /// A strong entity-tag, with its quotes.
    Tag(String),
    /// An HTTP-date.
    Date(DateTime<Utc>),
    /// A weak entity-tag or nothing usable: never holds.
    Never,
}

impl IfRange {
    /// Read an `If-Range` value. A date in an obsolete format is not read, so it never holds
    /// (the whole representation is sent, which is always correct).
    pub fn parse(value: &str) -> IfRange {
        let v = value.trim();
        if v.starts_with("W/") {
            return IfRange::Never;
        }
        if let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            return if inner.contains('"') {
                IfRange::Never
            } else {
                IfRange::Tag(v.to_owned())
            };
        }
        parse_http_date(v).map_or(IfRange::Never, IfRange::Date)
    }

    /// Whether the range may be served from the representation that has `etag` and
    /// `last_modified` (as sent in its headers) at `now`. A tag must be identical to the ETag
    /// (strong comparison). A date must equal `Last-Modified` and be a strong validator: its
    /// second must be over at `now`, else the file could still change within it unseen.
    pub fn holds(
        &self,
        etag: Option<&str>,
        last_modified: Option<&str>,
        now: DateTime<Utc>,
    ) -> bool {
        match self {
            IfRange::Tag(tag) => etag.is_some_and(|e| !e.starts_with("W/") && e == tag),
            IfRange::Date(date) => {
                last_modified.and_then(parse_http_date) == Some(*date)
                    && now >= *date + chrono::Duration::seconds(1)
            }
            IfRange::Never => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn coding_of(values: &[&str]) -> Coding {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(ACCEPT_ENCODING, HeaderValue::from_str(v).expect("value"));
        }
        coding(&h)
    }

    fn browser_view(accept: &[&str], feed_type: &str) -> bool {
        let mut h = HeaderMap::new();
        for v in accept {
            h.append(ACCEPT, HeaderValue::from_str(v).expect("value"));
        }
        wants_browser_view(&h, feed_type)
    }

    /// `text/html` makes the browser view only with a weight above 0 and not below the feed
    /// type's (the most specific range covering it); a wildcard alone is a reader's.
    #[test]
    fn accept_chooses_the_browser_view_by_weight() {
        const ATOM: &str = "application/atom+xml";
        const RSS: &str = "application/rss+xml";
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(browser_view(&[browser], ATOM));
        assert!(browser_view(&[browser], RSS));
        assert!(browser_view(&["text/html"], ATOM));
        assert!(
            browser_view(&["TEXT/HTML;level=1;q=0.5"], ATOM),
            "not acceptable as Atom"
        );
        assert!(browser_view(&["text/html, */*"], ATOM), "a tie");
        // Naming the feed's own type as high as HTML is a feed reader's doing.
        assert!(!browser_view(
            &["application/atom+xml;q=0.5", "text/html;q=0.5"],
            ATOM
        ));
        let miniflux = "application/xml, application/atom+xml, application/rss+xml, \
                        application/rdf+xml, application/feed+json, text/html, */*;q=0.9";
        assert!(!browser_view(&[miniflux], ATOM));
        assert!(!browser_view(&[miniflux], RSS));
        assert!(browser_view(
            &["application/atom+xml, text/html;q=0.1"],
            RSS
        ));
        // The type's own weight counts, not a wildcard's.
        assert!(browser_view(
            &["text/html;q=0.5, application/atom+xml;q=0.1, application/*;q=0.9"],
            ATOM
        ));
        for reader in [
            "",
            "*/*",
            "text/*",
            "text/html;q=0",
            "text/html;q=0.000",
            "text/html ; q=0, */*",
            "application/atom+xml, text/html;q=0.1",
            "application/*;q=0.9, text/html;q=0.8",
            "*/*;q=0.9, text/html;q=0.5",
            "text/html;q=2",
            "text/html;q=0.5, application/atom+xml;q=0.9, application/*;q=0.1",
        ] {
            assert!(!browser_view(&[reader], ATOM), "{reader:?}");
        }
        assert!(!browser_view(&[], ATOM));
        // Several fields are one list.
        assert!(!browser_view(
            &["text/html;q=0.5", "application/atom+xml"],
            ATOM
        ));
    }

    #[test]
    fn accept_encoding_chooses_gzip_identity_or_nothing() {
        assert_eq!(coding_of(&[]), Coding::Identity);
        assert_eq!(coding_of(&[""]), Coding::Identity);
        assert_eq!(coding_of(&["gzip"]), Coding::Gzip);
        assert_eq!(coding_of(&["br, GZIP;q=0.5"]), Coding::Gzip);
        assert_eq!(coding_of(&["deflate", "x-gzip"]), Coding::Gzip);
        assert_eq!(coding_of(&["*"]), Coding::Gzip);
        assert_eq!(coding_of(&["br"]), Coding::Identity);
        assert_eq!(coding_of(&["gzip;q=0"]), Coding::Identity);
        assert_eq!(coding_of(&["gzip;q=0.5, identity"]), Coding::Identity);
        assert_eq!(coding_of(&["gzip;q=0.5, *;q=0.8"]), Coding::Identity);
        assert_eq!(coding_of(&["gzip ; q=1.000, identity;q=1"]), Coding::Gzip);
        assert_eq!(
            coding_of(&["gzip;q=2"]),
            Coding::Identity,
            "malformed weight"
        );
        assert_eq!(coding_of(&["gzip;q=0.5000"]), Coding::Identity);
        assert_eq!(coding_of(&["identity;q=0"]), Coding::NoneAcceptable);
        assert_eq!(coding_of(&["*;q=0"]), Coding::NoneAcceptable);
        assert_eq!(coding_of(&["*;q=0, identity"]), Coding::Identity);
        assert_eq!(
            coding_of(&["gzip;q=0, identity;q=0"]),
            Coding::NoneAcceptable
        );
        for c in [Coding::Gzip, Coding::Identity, Coding::NoneAcceptable] {
            assert_eq!(coding_of(&[c.as_accept_encoding()]), c);
        }
    }

    const FILE: &str = "\"6b0b12a6.23596dc8-3b8\"";

    fn all() -> [Variant; 4] {
        [(false, false), (false, true), (true, false), (true, true)]
            .map(|(browser, gzip)| Variant { browser, gzip })
    }

    #[test]
    fn every_representation_has_its_own_etag() {
        let tags: Vec<String> = all().iter().map(|v| v.etag(FILE).expect("tag")).collect();
        assert_eq!(tags[0], FILE);
        for (i, a) in tags.iter().enumerate() {
            assert!(a.starts_with('"') && a.ends_with('"'), "{a}");
            for b in &tags[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            Variant {
                browser: true,
                gzip: true
            }
            .etag(FILE)
            .as_deref(),
            Some("\"6b0b12a6.23596dc8-3b8-xml-gzip\"")
        );
        assert_eq!(
            Variant {
                browser: false,
                gzip: true
            }
            .etag("bare"),
            None
        );
    }

    /// Whether the rewritten list names the file's ETag (weak comparison).
    fn names_file(list: &str) -> bool {
        list.trim() == "*"
            || entity_tags(list)
                .iter()
                .any(|(_, o)| format!("\"{o}\"") == FILE)
    }

    #[test]
    fn a_list_matches_exactly_when_it_names_this_representation() {
        for v in all() {
            for w in all() {
                let theirs = w.etag(FILE).expect("tag");
                for list in [
                    theirs.clone(),
                    format!("W/{theirs}"),
                    format!("\"a\", {theirs} ,\"b,c\""),
                    format!("junk, {theirs}"),
                ] {
                    assert_eq!(names_file(&v.file_tags(&list)), v == w, "{v:?} {list}");
                }
            }
            assert_eq!(v.file_tags("*"), "*");
            assert!(!names_file(&v.file_tags("\"other\"")));
        }
        let gz = Variant {
            browser: false,
            gzip: true,
        };
        assert_eq!(gz.file_tags("\"x\""), NO_TAG);
        assert_eq!(gz.file_tags("W/\"x-gzip\", \"y-gzip\""), "W/\"x\", \"y\"");
    }

    #[test]
    fn only_one_range_of_bytes_is_passed_on() {
        assert_eq!(single_byte_range("bytes=0-9").as_deref(), Some("bytes=0-9"));
        assert_eq!(
            single_byte_range("Bytes= 5- ,").as_deref(),
            Some("bytes=5-")
        );
        assert_eq!(
            single_byte_range("bytes=-500").as_deref(),
            Some("bytes=-500")
        );
        assert_eq!(single_byte_range("bytes=abc").as_deref(), Some("bytes=abc"));
        assert_eq!(single_byte_range("bytes=").as_deref(), Some("bytes="));
        assert_eq!(single_byte_range("bytes=0-1,5-6"), None);
        assert_eq!(single_byte_range("bytes=0-1, 0-1"), None);
        assert_eq!(single_byte_range("items=0-1"), None);
        assert_eq!(single_byte_range("0-1"), None);
    }

    #[test]
    fn only_a_date_after_now_is_in_the_future() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        assert!(!is_future_date("Tue, 14 Nov 2023 22:13:20 GMT", now));
        assert!(is_future_date("Tue, 14 Nov 2023 22:13:21 GMT", now));
        assert!(is_future_date("Tuesday, 14-Nov-23 22:13:21 GMT", now));
        assert!(is_future_date("Tue Nov 14 22:13:21 2023", now));
        assert!(!is_future_date("soon", now));
    }

    #[test]
    fn if_range_holds_only_for_the_same_strong_validator() {
        let t = |s: i64| DateTime::from_timestamp(s, 0).expect("time");
        let lm = "Tue, 14 Nov 2023 22:13:20 GMT";
        assert_eq!(parse_http_date(lm), Some(t(1_700_000_000)));
        let later = t(1_700_000_001);
        let tag = IfRange::parse(FILE);
        assert!(matches!(tag, IfRange::Tag(_)));
        assert!(tag.holds(Some(FILE), None, later));
        assert!(!tag.holds(Some("\"other\""), Some(lm), later));
        assert!(!tag.holds(None, Some(lm), later));
        assert!(!tag.holds(Some(&format!("W/{FILE}")), None, later));
        assert_eq!(IfRange::parse(&format!("W/{FILE}")), IfRange::Never);
        assert_eq!(IfRange::parse("\"a\"b\""), IfRange::Never);
        assert_eq!(IfRange::parse("yesterday"), IfRange::Never);
        // Obsolete date forms are not read: the whole file is sent.
        assert_eq!(
            IfRange::parse("Tuesday, 14-Nov-23 22:13:20 GMT"),
            IfRange::Never
        );

        let date = IfRange::parse(lm);
        assert_eq!(date, IfRange::Date(t(1_700_000_000)));
        assert!(date.holds(Some(FILE), Some(lm), later));
        assert!(
            !date.holds(Some(FILE), Some(lm), t(1_700_000_000)),
            "second not over"
        );
        assert!(!date.holds(Some(FILE), Some("Tue, 14 Nov 2023 22:13:21 GMT"), later));
        assert!(!date.holds(Some(FILE), None, later));
        assert!(!IfRange::Never.holds(Some(FILE), Some(lm), later));
    }
}
