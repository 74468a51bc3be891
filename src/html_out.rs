//! Writing a parsed HTML tree back out as text, for extraction (a post body without its chrome)
//! and normalization (images with their lazy-loading attributes promoted).
//!
//! Owns: the one serializer: iterative (deep nesting cannot overflow the stack), comments
//! dropped, text and attribute values escaped. Must not: decide what to keep or rewrite (callers
//! pass `skip` and `attrs`), sanitize, or do I/O.

use scraper::node::Element;
use scraper::{ElementRef, Node};

/// Elements without content or end tag.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param",
];

fn escape_into(out: &mut String, s: &str, attr: bool) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            '<' if !attr => out.push_str("&lt;"),
            '>' if !attr => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// The inner HTML of `root`, leaving out comments and every element (with its subtree) for which
/// `skip` is true, writing each element's attributes as `attrs` returns them.
pub(crate) fn inner_html(
    root: ElementRef<'_>,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
    attrs: &dyn Fn(&Element) -> Vec<(String, String)>,
) -> String {
    let mut out = String::new();
    // (node, closing?)
    let mut stack: Vec<_> = root.children().rev().map(|n| (n, false)).collect();
    while let Some((node, closing)) = stack.pop() {
        match node.value() {
            Node::Text(t) => escape_into(&mut out, t, false),
            Node::Element(e) => {
                let name = e.name();
                if closing {
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                    continue;
                }
                let Some(el) = ElementRef::wrap(node) else {
                    continue;
                };
                if skip(el) {
                    continue;
                }
                out.push('<');
                out.push_str(name);
                for (k, v) in attrs(e) {
                    out.push(' ');
                    out.push_str(&k);
                    out.push_str("=\"");
                    escape_into(&mut out, &v, true);
                    out.push('"');
                }
                out.push('>');
                if VOID.contains(&name) {
                    continue;
                }
                stack.push((node, true));
                stack.extend(node.children().rev().map(|n| (n, false)));
            }
            _ => {}
        }
    }
    out
}

/// An element's attributes, unchanged.
pub(crate) fn same_attrs(e: &Element) -> Vec<(String, String)> {
    e.attrs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
