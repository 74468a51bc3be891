//! A source's own site: the hosts its posts may come from.
//!
//! Owns: what "the same site" means for URLs (the host compared case-insensitively and without
//! one leading `www.`, the explicit port equal; `http` and `https` of one host are one site) and
//! the hosts a source reads: the host of its `url` and its `also_hosts`, never the website a
//! feed names (a feed naming another configured source's site could rewrite its posts). A post,
//! a feed item, a listing link, a REST API root or a redirect on another site is never read for
//! a source, so one source can never change what another site's pages gave. Must not: fetch, or decide how a post outside the site is
//! reported (the callers do).

use url::Url;

use crate::config::{SourceConfig, SourceKind};

/// The part of an http(s) URL that names its site: lowercase host without one leading `www.`,
/// and the explicit port (`None` for the scheme's default). `None` for any other scheme.
fn site_key(url: &Url) -> Option<(String, Option<u16>)> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    Some((host, url.port()))
}

/// Are `a` and `b` http(s) URLs on the same site (see the module docs)?
pub fn same_site(a: &Url, b: &Url) -> bool {
    matches!((site_key(a), site_key(b)), (Some(x), Some(y)) if x == y)
}

/// The hosts one source reads (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    keys: Vec<(String, Option<u16>)>,
}

impl Site {
    /// The site of a source: the host of its `url` and its `also_hosts`. `None` for a `dir`
    /// source (its posts' URLs are what its files say; it reads no network) or a `url` that is
    /// not an http(s) URL (configuration validation refuses those).
    pub fn of(src: &SourceConfig) -> Option<Site> {
        if src.kind == SourceKind::Dir {
            return None;
        }
        let url = Url::parse(&src.url).ok()?;
        let mut site = Site::at(&url)?;
        for host in &src.also_hosts {
            if let Some(u) = also_host_url(host) {
                site.add(&u);
            }
        }
        Some(site)
    }

    /// The site of one URL alone; `None` unless it is http(s).
    pub fn at(url: &Url) -> Option<Site> {
        Some(Site {
            keys: vec![site_key(url)?],
        })
    }

    /// This site and the host of `url`.
    pub fn with(mut self, url: &Url) -> Site {
        self.add(url);
        self
    }

    fn add(&mut self, url: &Url) {
        if let Some(k) = site_key(url)
            && !self.keys.contains(&k)
        {
            self.keys.push(k);
        }
    }

    /// Is `url` an http(s) URL on this site?
    pub fn contains(&self, url: &Url) -> bool {
        site_key(url).is_some_and(|k| self.keys.contains(&k))
    }
}

/// An `also_hosts` value (`host` or `host:port`) as a URL, or `None` when it is not exactly
/// that (a scheme, a path, user info…).
pub fn also_host_url(value: &str) -> Option<Url> {
    let value = value.trim();
    if value.is_empty()
        || value.contains(['/', '\\', '@', '?', '#'])
        || value.contains(char::is_whitespace)
    {
        return None;
    }
    let url = Url::parse(&format!("http://{value}/")).ok()?;
    // A name a site can have: labels of letters, digits, `-` and `_` (an internationalized name
    // is punycoded by then), not a pattern such as `*.example.org`; or an IP address.
    let name_ok = match url.host()? {
        url::Host::Domain(d) => d.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }),
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => true,
    };
    (name_ok && url.port() != Some(0)).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn same_site_ignores_scheme_case_and_www_but_not_port_or_host() {
        assert!(same_site(
            &u("http://Example.org/a"),
            &u("https://www.example.org/b")
        ));
        assert!(same_site(
            &u("https://www.example.org/"),
            &u("http://example.org:80/")
        ));
        assert!(!same_site(
            &u("http://example.org/"),
            &u("http://example.org:8080/")
        ));
        assert!(!same_site(
            &u("http://localhost:1/"),
            &u("http://127.0.0.1:1/")
        ));
        assert!(!same_site(
            &u("http://example.org/"),
            &u("http://blog.example.org/")
        ));
        assert!(!same_site(
            &u("http://www.www.example.org/"),
            &u("http://example.org/")
        ));
        assert!(!same_site(
            &u("http://example.org/"),
            &u("file:///etc/passwd")
        ));
        assert!(!same_site(
            &u("http://example.org/"),
            &u("data:text/html,x")
        ));
    }

    #[test]
    fn a_site_holds_its_hosts_only() {
        let site = Site::at(&u("https://example.org/cat/"))
            .expect("site")
            .with(&u("http://blog.example.org/"));
        assert!(site.contains(&u("http://www.example.org/p/")));
        assert!(site.contains(&u("https://blog.example.org/p/")));
        assert!(!site.contains(&u("https://other.example/p/")));
        assert!(!site.contains(&u("javascript:alert(1)")));
    }

    #[test]
    fn also_hosts_values_are_bare_hosts() {
        assert!(also_host_url("blog.example.org").is_some());
        assert!(also_host_url("blog.example.org:8080").is_some());
        assert!(also_host_url("127.0.0.1:8080").is_some());
        assert!(also_host_url("[::1]").is_some());
        assert!(also_host_url("bücher.example").is_some());
        for bad in [
            "",
            "http://x.org",
            "x.org/path",
            "u@x.org",
            "x .org",
            "x.org:99999",
            "*.example.org",
            "x.org:0",
            "x..org",
            "x.org.",
        ] {
            assert!(also_host_url(bad).is_none(), "{bad}");
        }
    }
}
