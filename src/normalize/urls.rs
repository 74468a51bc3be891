//! Canonical URLs, URL cleaning, twin keys and entry ids.

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
/// the host lowercased and tracking parameters removed, e.g. `example.org/2024/01/01/post/`.
///
/// A string that is not an absolute URL is returned trimmed, without any fragment.
pub fn twin_key(url: &str) -> String {
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
