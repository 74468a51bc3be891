//! Credentials kept out of text shown to others.
//!
//! Owns: [`userinfo`], which removes the user name and password from every URL in a text, such
//! as a source's error (`site could not be reached (http://user:pw@host/…)`), before `/healthz`
//! serves it, `status` prints it, or any line goes to the terminal or the human-readable log
//! (through `terminal::Printable`). Pure; must not change what is stored.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// A URL's scheme, `://` and authority: up to the path, query, fragment, white space, or a
/// quote, angle bracket or backslash. Not up to `'`, `(` or `)`: a password may hold them (the
/// `url` crate leaves them as they are), and a `)` that closes the text around a URL is kept
/// after the host.
static AUTHORITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b[a-z][a-z0-9+.\-]*://[^/?#\s"<>\\]*"#).expect("valid regex")
});

/// `text` with the userinfo (`user:password@`) of every URL in it removed, as a URL parser
/// would split it: everything up to the last `@` of the authority. Borrowed when there is none.
pub fn userinfo(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    AUTHORITY.replace_all(text, |c: &regex::Captures<'_>| {
        let whole = &c[0];
        let start = whole.find("://").map_or(0, |i| i + 3);
        match whole[start..].rfind('@') {
            Some(at) => format!("{}{}", &whole[..start], &whole[start + at + 1..]),
            None => whole.to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_removed_from_every_url_and_nothing_else() {
        for (text, want) in [
            (
                "site could not be reached (http://user:s3cretpw@127.0.0.1:1/blog/?token=x)",
                "site could not be reached (http://127.0.0.1:1/blog/?token=x)",
            ),
            (
                "https://u@a.example/ and HTTPS://x:y@b.example",
                "https://a.example/ and HTTPS://b.example",
            ),
            (
                "http://us@er:p@ss@host:8080/p@th?q=a@b#f@g",
                "http://host:8080/p@th?q=a@b#f@g",
            ),
            (
                "ftp://anon:me%40x.org@files.example/",
                "ftp://files.example/",
            ),
            (
                "mail me at someone@example.org",
                "mail me at someone@example.org",
            ),
            ("http://plain.example/a@b", "http://plain.example/a@b"),
            ("http://user:pa(ss)@host/x", "http://host/x"),
            ("http://user:it's@host/x", "http://host/x"),
            (
                "(http://u:p@h) and (http://h2)",
                "(http://h) and (http://h2)",
            ),
            (
                "error sending request for url (http://user:pa(ss)@host/x)",
                "error sending request for url (http://host/x)",
            ),
            ("no url", "no url"),
        ] {
            assert_eq!(userinfo(text), want, "{text}");
        }
        assert!(matches!(userinfo("http://a.example/"), Cow::Borrowed(_)));
    }
}
