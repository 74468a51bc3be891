//! Lazy-loaded images: before sanitizing, the real image URL that lazy-loading scripts keep in
//! `data-src` / `data-lazy-src` / `data-original` (and `data-srcset` / `data-lazy-srcset`) is
//! moved into `src` / `srcset`, since the sanitizer keeps neither the `data-*` attributes nor
//! the `<noscript>` fallback. After sanitizing, an `<img>` left without a `src` is removed.
//!
//! Only rewrites attributes of `<img>` and `<source>`; every other decision about what is safe
//! is the sanitizer's.

use std::borrow::Cow;

/// Attributes lazy-loading scripts read the real `src` from, in order of preference.
const LAZY_SRC: [&str; 3] = ["data-src", "data-lazy-src", "data-original"];

/// Attributes lazy-loading scripts read the real `srcset` from, in order of preference.
const LAZY_SRCSET: [&str; 2] = ["data-srcset", "data-lazy-srcset"];

/// Is `value` a usable image URL (present, not blank, not an inline `data:` placeholder)?
fn usable(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        !v.is_empty()
            && !v
                .get(..5)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"))
    })
}

/// The first usable value among `names` on `el`.
fn first_usable<'a>(el: &'a scraper::node::Element, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .filter_map(|n| el.attr(n))
        .find(|v| usable(Some(v)))
}

/// The attributes `el` should be written with: `src` / `srcset` taken from the lazy-loading
/// attributes when missing or a `data:` placeholder, in their original order otherwise.
fn rewritten_attrs(el: &scraper::node::Element) -> Vec<(String, String)> {
    let mut attrs: Vec<(String, String)> = el
        .attrs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut set = |name: &str, value: &str| match attrs.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => attrs.insert(0, (name.to_string(), value.to_string())),
    };
    let srcset = match el.attr("srcset").filter(|v| usable(Some(v))) {
        Some(v) => Some(v),
        None => {
            let lazy = first_usable(el, &LAZY_SRCSET);
            if let Some(v) = lazy {
                set("srcset", v);
            }
            lazy
        }
    };
    if el.name() == "img" && !usable(el.attr("src")) {
        // The lazy `src`, else the first candidate of the srcset.
        let from_srcset = srcset
            .and_then(|s| s.split(',').next())
            .and_then(|c| c.split_whitespace().next())
            .filter(|u| usable(Some(u)));
        if let Some(v) = first_usable(el, &LAZY_SRC).or(from_srcset) {
            set("src", v);
        }
    }
    attrs
}

/// Could `html` hold a lazy-loaded image? Fragments without any `data-` attribute need not be
/// parsed for them.
pub(super) fn may_be_lazy(html: &str) -> bool {
    html.contains("data-")
}

/// The attributes to write an element of a parsed body with: for `<img>` and `<source>`, the
/// lazy-loading attributes promoted to `src` / `srcset`; others unchanged.
pub(super) fn lazy_attrs(e: &scraper::node::Element) -> Vec<(String, String)> {
    if matches!(e.name(), "img" | "source") {
        rewritten_attrs(e)
    } else {
        crate::html_out::same_attrs(e)
    }
}

/// Remove every `<img>` tag without a `src` attribute from sanitizer output (whose attribute
/// values are always double-quoted and never contain a literal `"`).
pub(crate) fn drop_images_without_src(html: &str) -> Cow<'_, str> {
    if !html.contains("<img") {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<img") {
        out.push_str(&rest[..start]);
        let tag_and_after = &rest[start..];
        let mut in_quote = false;
        let end = tag_and_after.char_indices().find_map(|(i, c)| match c {
            '"' => {
                in_quote = !in_quote;
                None
            }
            '>' if !in_quote => Some(i + 1),
            _ => None,
        });
        let Some(end) = end else {
            // An unterminated tag cannot come out of the sanitizer; keep the text as it is.
            out.push_str(tag_and_after);
            return Cow::Owned(out);
        };
        let tag = &tag_and_after[..end];
        let is_img = tag[4..].starts_with([' ', '>', '/']);
        if !is_img || tag.contains(" src=\"") {
            out.push_str(tag);
        }
        rest = &tag_and_after[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}
