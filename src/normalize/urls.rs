//! Canonical URLs, URL cleaning, twin keys and entry ids.

use std::borrow::Cow;

use url::Url;

/// Query parameters that never identify a post (exact names, compared ASCII case-insensitively).
const TRACKING_PARAMS: &[&str] = &["amp", "fbclid", "gclid", "mc_cid", "mc_eid"];

/// `true` for `http` and `https` URLs.
pub(crate) fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// A host name without a leading `www.`, for twin comparisons.
fn bare_host(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

/// `true` when both URLs have the same host, ignoring a leading `www.`.
pub(crate) fn same_site(a: &Url, b: &Url) -> bool {
    match (a.host_str(), b.host_str()) {
        (Some(a), Some(b)) => {
            bare_host(&a.to_ascii_lowercase()) == bare_host(&b.to_ascii_lowercase())
        }
        _ => false,
    }
}

fn is_tracking_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_") || TRACKING_PARAMS.contains(&key.as_str())
}

/// Clean a URL the way every post URL is cleaned: drop the fragment, the `amp` parameter and
/// tracking parameters (`utm_*`, `fbclid`, `gclid`, `mc_cid`, `mc_eid`), and any user name and
/// password (a source URL's credentials, which a post fetched through it carries, are never
/// published). Other parameters keep their order and their exact spelling; an emptied query
/// is removed. Scheme and host are kept.
pub fn clean_url(url: &Url) -> Url {
    let mut out = without_credentials(url);
    out.set_fragment(None);
    if let Some(query) = url.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| {
                let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
                !is_tracking_param(key)
            })
            .collect();
        if kept.is_empty() {
            out.set_query(None);
        } else {
            out.set_query(Some(&kept.join("&")));
        }
    }
    out
}

/// `url` without its user name and password, if it has any.
pub fn without_credentials(url: &Url) -> Url {
    let mut out = url.clone();
    // Only URLs that cannot have them refuse, and those have none to remove.
    let _ = out.set_username("");
    let _ = out.set_password(None);
    out
}

/// The key under which twins of one post meet: scheme-, `www.`- and fragment-insensitive, with
/// the host lowercased, tracking parameters removed and percent-escapes written one way
/// (`key_escapes`), e.g. `example.org/2024/01/01/caf%C3%A9/` for
/// `https://www.example.org/2024/01/01/café/`, `…/caf%c3%a9/` or `…/caf%C3%A9/`.
///
/// A string that is not an absolute URL is returned trimmed, without any fragment, its
/// escapes written the same way. No key contains a `#`.
pub fn twin_key(url: &str) -> String {
    key_escapes(&plain_twin_key(url)).into_owned()
}

/// [`twin_key`] before [`key_escapes`]: percent-escapes as written (the key of schema v23 and
/// before).
fn plain_twin_key(url: &str) -> String {
    let trimmed = url.trim();
    let Ok(parsed) = Url::parse(trimmed) else {
        return trimmed
            .split_once('#')
            .map_or(trimmed, |(before, _)| before)
            .to_string();
    };
    let cleaned = clean_url(&parsed);
    let Some(host) = cleaned.host_str() else {
        return cleaned.as_str().to_string();
    };
    let host = host.to_ascii_lowercase();
    let mut key = bare_host(&host).to_string();
    if let Some(port) = cleaned.port() {
        key.push(':');
        key.push_str(&port.to_string());
    }
    key.push_str(cleaned.path());
    if let Some(query) = cleaned.query() {
        key.push('?');
        key.push_str(query);
    }
    key
}

/// A twin key with its percent-escapes written one way (RFC 3986 6.2.2): an escaped unreserved
/// character (`A`-`Z`, `a`-`z`, `0`-`9`, `-`, `.`, `_`, `~`) is decoded (`%7E` is `~`), any other
/// escape takes uppercase hex digits (`%c3%a9` is `%C3%A9`, which is also how the `url` crate
/// writes a raw `é`), and a `%` that starts no escape is escaped (`%25`), so that applying it
/// again changes nothing. Nothing else changes: `%2F` stays `%2F`, and the case of the rest of
/// the path still matters.
///
/// Applied to a key of the old form (escapes as written), it gives the key [`twin_key`] gives
/// now, which is how the store upgrades the keys it kept (migration `V24__twin_key_escapes`).
pub(crate) fn key_escapes(key: &str) -> Cow<'_, str> {
    if !key.contains('%') {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len() + 4);
    let mut rest = key;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        let digits = escape
            .get(1..3)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            out.push_str("%25");
            rest = &escape[1..];
            continue;
        };
        match u8::from_str_radix(digits, 16) {
            Ok(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') => {
                out.push(char::from(b));
            }
            _ => {
                out.push('%');
                out.push_str(&digits.to_ascii_uppercase());
            }
        }
        rest = &escape[3..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Is `url` the root of its site: path `/` (or empty) and no query other than tracking
/// parameters (`/?p=12` is a post)?
fn is_site_root(url: &Url) -> bool {
    let cleaned = clean_url(url);
    matches!(cleaned.path(), "" | "/") && cleaned.query().is_none()
}

/// Pick the canonical URL of a post fetched from `page_url`, before cleaning. A same-host
/// canonical is taken (twins point to each other) unless it is the site root while the page is
/// not.
///
/// Returns the chosen URL and, when a declared canonical was ignored, a warning.
pub(crate) fn choose_canonical(page_url: &Url, canonical: Option<&Url>) -> (Url, Option<String>) {
    let Some(canonical) = canonical else {
        return (page_url.clone(), None);
    };
    if !is_http(canonical) {
        return (
            page_url.clone(),
            Some(format!("ignored canonical URL {canonical}: not http(s)")),
        );
    }
    if !is_http(page_url) || same_site(page_url, canonical) {
        if is_http(page_url) && is_site_root(canonical) && !is_site_root(page_url) {
            // A theme or SEO plugin that declares the home page canonical for every post would
            // merge all posts into one entry.
            return (
                page_url.clone(),
                Some(format!(
                    "ignored canonical URL {canonical}: it is the site root, not {page_url}"
                )),
            );
        }
        return (canonical.clone(), None);
    }
    (
        page_url.clone(),
        Some(format!(
            "ignored canonical URL {canonical}: it points to another host than {page_url}"
        )),
    )
}

/// The stable id of an entry whose cleaned canonical URL is `canonical`: the WordPress shortlink
/// form `<scheme>://<host>[:port]/?p=<id>` when the post id is known, else the canonical URL.
pub(crate) fn entry_id(canonical: &Url, wp_post_id: Option<u64>) -> String {
    let Some(id) = wp_post_id else {
        return canonical.as_str().to_string();
    };
    let mut short = canonical.clone();
    short.set_path("/");
    short.set_query(Some(&format!("p={id}")));
    short.set_fragment(None);
    // Drop any credentials: an id must not carry them.
    let _ = short.set_username("");
    let _ = short.set_password(None);
    short.as_str().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_in_any_case_and_raw_utf8_are_one_key() {
        let key = twin_key("https://example.org/caf%C3%A9/");
        assert_eq!(key, "example.org/caf%C3%A9/");
        assert_eq!(twin_key("https://example.org/caf%c3%a9/"), key);
        assert_eq!(twin_key("https://www.example.org/caf%c3%A9/#top"), key);
        assert_eq!(twin_key("http://example.org/café/"), key);
    }

    #[test]
    fn the_case_of_the_path_outside_escapes_still_matters() {
        assert_ne!(
            twin_key("https://example.org/Caf%C3%A9/"),
            twin_key("https://example.org/caf%C3%A9/")
        );
        assert_ne!(
            twin_key("https://example.org/A/"),
            twin_key("https://example.org/a/")
        );
    }

    #[test]
    fn query_escapes_are_written_one_way_too() {
        let key = twin_key("https://example.org/?s=caf%C3%A9&utm_source=x");
        assert_eq!(key, "example.org/?s=caf%C3%A9");
        assert_eq!(twin_key("https://example.org/?s=caf%c3%a9"), key);
        assert_eq!(twin_key("https://example.org/?s=café"), key);
        // A reserved character escaped is not the character.
        assert_ne!(
            twin_key("https://example.org/?s=a%26b"),
            twin_key("https://example.org/?s=a&b")
        );
        assert_eq!(
            twin_key("https://example.org/?s=a%2fb"),
            "example.org/?s=a%2Fb"
        );
    }

    #[test]
    fn escaped_unreserved_characters_are_the_characters() {
        assert_eq!(
            twin_key("https://example.org/%7euser/%41-%2D%5f%2e/"),
            twin_key("https://example.org/~user/A--_./")
        );
        // `%2F` is not a path separator, nor `%3F` a query.
        assert_eq!(
            twin_key("https://example.org/a%2fb%3f/"),
            "example.org/a%2Fb%3F/"
        );
    }

    #[test]
    fn key_escapes_is_idempotent_and_escapes_a_stray_percent() {
        for key in [
            "example.org/100%/",
            "example.org/%%41e",
            "example.org/%4",
            "example.org/%é",
            "example.org/%zz%c3%a9%7e",
        ] {
            let once = key_escapes(key).into_owned();
            assert_eq!(key_escapes(&once), once, "{key}");
        }
        assert_eq!(key_escapes("example.org/100%/"), "example.org/100%25/");
        assert_eq!(key_escapes("example.org/%%41e"), "example.org/%25Ae");
        assert_eq!(key_escapes("example.org/%é"), "example.org/%25é");
        assert_eq!(key_escapes("example.org/a/"), "example.org/a/");
    }

    #[test]
    fn old_keys_upgrade_to_the_new_keys() {
        for url in [
            "https://www.example.org/caf%c3%a9/?q=%7e#x",
            "https://example.org/caf%C3%A9/",
            "https://example.org/café/",
            "https://example.org:8080/a%2fb/",
            "mailto:a%40b",
            "/relative/caf%c3%a9/",
        ] {
            assert_eq!(key_escapes(&plain_twin_key(url)), twin_key(url), "{url}");
        }
    }

    #[test]
    fn a_string_that_is_not_a_url_is_trimmed_without_its_fragment() {
        assert_eq!(twin_key("  /caf%c3%a9/#top "), "/caf%C3%A9/");
        assert_eq!(twin_key("not a url"), "not a url");
        assert_eq!(twin_key("#top"), "");
    }
}
