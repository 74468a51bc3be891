//! Plain-text fields: titles, summaries, author and category names.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use url::Url;

use super::html::{collapse_whitespace, xml_safe};

/// Longest title kept, in characters (including the ellipsis when cut).
pub(crate) const MAX_TITLE_CHARS: usize = 1000;

/// Longest summary, in characters (including the ellipsis when cut).
pub(crate) const MAX_SUMMARY_CHARS: usize = 300;

const ELLIPSIS: char = '…';

/// Cut `s` (already whitespace-collapsed) to at most `max` characters including a trailing `…`,
/// at the last space that fits; a single overlong word is cut mid-word. `None` when it fits.
pub(crate) fn cut_at_word(s: &str, max: usize) -> Option<String> {
    if s.chars().count() <= max {
        return None;
    }
    let budget = max.saturating_sub(1);
    let end = s.char_indices().nth(budget).map_or(s.len(), |(i, _)| i);
    let head = &s[..end];
    // Cut before the word that did not fit, unless the next character starts a new word.
    let cut = if s[end..].starts_with(' ') {
        head
    } else {
        head.rfind(' ').map_or(head, |i| &head[..i])
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
    let cut = if cut.is_empty() { head } else { cut };
    Some(format!("{cut}{ELLIPSIS}"))
}

/// A readable title from a URL's last path segment: `my-first-post.html` → `My First Post`.
fn title_from_url(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let decoded = percent_decode(segment);
    let stem = [".html", ".htm", ".php", ".aspx", ".asp"]
        .iter()
        .find_map(|ext| decoded.strip_suffix(ext))
        .unwrap_or(&decoded);
    let words: Vec<String> = stem
        .split(['-', '_', '+', ' ', '.'])
        .filter(|w| !w.is_empty())
        .map(capitalise)
        .collect();
    if words.is_empty() || words.iter().all(|w| w.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    Some(collapse_whitespace(&xml_safe(&words.join(" "))))
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Percent-decode a path segment, replacing invalid UTF-8.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The entry title: collapsed and XML-safe, cut at 1,000 characters, or derived from `url`
/// when missing. Warnings are appended to `warnings`.
pub(crate) fn title(raw: Option<&str>, url: &Url, warnings: &mut Vec<String>) -> String {
    let title = collapse_whitespace(&xml_safe(raw.unwrap_or("")));
    if title.is_empty() {
        let derived = title_from_url(url).unwrap_or_else(|| "Untitled".to_string());
        warnings.push(format!("no title: using \"{derived}\""));
        return derived;
    }
    match cut_at_word(&title, MAX_TITLE_CHARS) {
        Some(cut) => {
            warnings.push(format!(
                "title of {} characters cut to {MAX_TITLE_CHARS}",
                title.chars().count()
            ));
            cut
        }
        None => title,
    }
}

/// The plain-text summary from already-extracted text, cut to about 300 characters.
pub(crate) fn summary(text: &str) -> String {
    let text = collapse_whitespace(&xml_safe(text));
    cut_at_word(&text, MAX_SUMMARY_CHARS).unwrap_or(text)
}

/// Names (authors, categories): collapsed, XML-safe, empties dropped, deduplicated
/// case-insensitively keeping the first spelling.
pub(crate) fn names(raw: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    raw.iter()
        .map(|name| collapse_whitespace(&xml_safe(name)))
        .filter(|name| !name.is_empty())
        .filter(|name| seen.insert(name.to_lowercase()))
        .collect()
}

/// Author names: [`names`] of each name without its email address (see [`author_name`]), so no
/// address reaches a feed or a digest, and `Jane Roe <jane@example.org>` and `Jane Roe` are one
/// author.
pub(crate) fn authors(raw: &[String]) -> Vec<String> {
    let names_only: Vec<String> = raw.iter().map(|a| author_name(a)).collect();
    names(&names_only)
}

/// An author's name without an email address: `Jane Roe <jane@example.org>`, `"Jane Roe"
/// <jane@example.org>`, `jane@example.org (Jane Roe)`, `(Jane Roe)` (what a feed parser leaves
/// of that) and `Jane Roe (mailto:jane@example.org)` are all `Jane Roe`; an address alone is
/// no name (empty). A name with no address is returned as it is.
pub(crate) fn author_name(raw: &str) -> String {
    // An address, bare or `mailto:`, and the angle brackets around it.
    static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)<?\s*(?:mailto:)?[^\s<>()\[\]{}\x22',;:]+@[^\s<>()\[\]{}\x22',;:]+\.[a-z]{2,}\s*>?")
            .expect("static regex")
    });
    static EMPTY_BRACKETS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\(\s*\)|\[\s*\]|<\s*>").expect("static regex"));
    let had_address = ADDRESS.is_match(raw);
    let without = ADDRESS.replace_all(raw, " ");
    let without = EMPTY_BRACKETS.replace_all(&without, " ");
    let mut name = without.trim();
    if had_address {
        // Separators left between the name and the address (`Jane Roe - jane@…`).
        name = name.trim_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '|' | '/')
        });
    } else if !name.starts_with(['(', '"']) {
        return raw.to_owned();
    }
    // A whole name in parentheses or quotes: `(Jane Roe)`, `"Jane Roe"`.
    for (open, close) in [('(', ')'), ('"', '"')] {
        if let Some(inner) = name
            .strip_prefix(open)
            .and_then(|n| n.strip_suffix(close))
            .filter(|inner| !inner.contains(open) && !inner.contains(close))
        {
            name = inner.trim();
        }
    }
    name.to_owned()
}
