//! The representations of a published file and the validators that tell them apart.
//!
//! A file is sent in up to four representations: as is or gzip-encoded, and (for `.xml`) under
//! its feed media type or as `application/xml` for a browser. Each has its own strong `ETag`: the
//! file's ETag (from `ServeDir`) with a suffix, so a cache or a client never takes one for the
//! other. Conditional requests name the ETag of the representation they hold; `ServeDir`
//! compares with the file's, so their entity-tag lists are rewritten into the file's terms
//! first ([`Variant::file_tags`]).
//!
//! Owns: choosing the content coding from `Accept-Encoding`, the ETag suffixes, rewriting
//! `If-None-Match` / `If-Match`. Must not: read files, the clock or the configuration.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_ENCODING;

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

/// Choose the content coding for `headers` (all `Accept-Encoding` fields). gzip wins a tie with
/// the unencoded content; without the header, or with an empty one, nothing is encoded.
/// Entries with a malformed weight are ignored. Pure.
pub fn coding(headers: &HeaderMap) -> Coding {
    let (mut gzip, mut identity, mut any) = (None::<u16>, None::<u16>, None::<u16>);
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut params = item.split(';');
            let name = params.next().unwrap_or("").trim();
            let mut q = Some(1000);
            for p in params {
                if let Some((k, v)) = p.split_once('=')
                    && k.trim().eq_ignore_ascii_case("q")
                {
                    q = qvalue(v.trim());
                }
            }
            let Some(q) = q else { continue };
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
    /// What this representation adds to the file's ETag, inside the quotes. The file's ETag
    /// (size and mtime in hexadecimal) never ends in one of these, so tags of different
    /// representations never compare equal.
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
}
