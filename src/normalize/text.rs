//! Plain-text fields: titles, summaries, author and category names.

use std::collections::HashSet;

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
