//! Plain-text fields: titles, summaries, author and category names, related-link titles.
//!
//! Owns: what a text field may contain once normalized: XML-safe, no control characters
//! (C1 and DEL included: U+009B is the 8-bit form of the terminal's ESC `[`), whitespace
//! collapsed, bidirectional controls balanced within the field (an unclosed right-to-left
//! override would reverse what follows it in a digest line or a reader's list), and
//! bounded lengths. Must not: read HTML structure (that is `html`) or do I/O.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;
use url::Url;

use super::html::{collapse_whitespace, xml_safe};

/// Longest title kept, in characters (including the ellipsis when cut).
pub(crate) const MAX_TITLE_CHARS: usize = 1000;

/// Longest summary, in characters (including the ellipsis when cut).
pub(crate) const MAX_SUMMARY_CHARS: usize = 300;

/// Longest author or category name kept, in characters (including the ellipsis when cut).
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// Most author names kept for one entry.
pub(crate) const MAX_AUTHORS: usize = 50;

/// Most category names kept for one entry.
pub(crate) const MAX_CATEGORIES: usize = 100;

const ELLIPSIS: char = '…';

/// Deepest nesting of bidirectional embeddings, overrides and isolates a text field keeps
/// (Unicode's algorithm allows 125; real text uses one or two).
const MAX_BIDI_DEPTH: usize = 8;

/// `s` XML-safe, without control characters (C1 and DEL too; NEL, a line break, becomes a
/// space), whitespace collapsed. Bidirectional controls are left for [`balance_bidi`], to run
/// after any cut.
pub(crate) fn clean(s: &str) -> String {
    let safe = xml_safe(s);
    let plain: String = if safe.chars().any(is_text_control) {
        safe.chars()
            .filter_map(|c| match c {
                '\u{85}' => Some(' '),
                c if is_text_control(c) => None,
                c => Some(c),
            })
            .collect()
    } else {
        safe
    };
    collapse_whitespace(&plain)
}

/// Control characters a text field never keeps (tab, LF and CR are whitespace, collapsed).
fn is_text_control(c: char) -> bool {
    matches!(c, '\u{7F}'..='\u{9F}') || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// `s` with its bidirectional embeddings, overrides and isolates balanced, following the
/// pairing of Unicode's bidi algorithm (UAX #9): a closer with nothing to close is dropped,
/// and whatever is still open at the end is closed there. The text a field is shown next to
/// (a date, an author, the next line) keeps its own direction.
pub(crate) fn balance_bidi(s: &str) -> String {
    const PDF: char = '\u{202C}';
    const PDI: char = '\u{2069}';
    if !s.contains(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')) {
        return s.to_owned();
    }
    // true: an isolate (closed by PDI), false: an embedding or override (closed by PDF).
    let mut open: Vec<bool> = Vec::new();
    // Openers dropped past `MAX_BIDI_DEPTH`, by kind: their closers are dropped with them (the
    // overflow counts of UAX #9), so that they do not close an outer opener instead.
    let (mut over_isolates, mut over_embeddings) = (0usize, 0usize);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            // Openers past a depth no real text reaches are dropped: the closers appended at
            // the end stay few, so a cut field stays within its length limit.
            '\u{2066}'..='\u{2068}' if open.len() >= MAX_BIDI_DEPTH || over_isolates > 0 => {
                over_isolates += 1;
                continue;
            }
            '\u{202A}' | '\u{202B}' | '\u{202D}' | '\u{202E}'
                if open.len() >= MAX_BIDI_DEPTH || over_isolates + over_embeddings > 0 =>
            {
                over_embeddings += 1;
                continue;
            }
            '\u{202A}' | '\u{202B}' | '\u{202D}' | '\u{202E}' => open.push(false),
            '\u{2066}'..='\u{2068}' => open.push(true),
            PDF if over_isolates == 0 && over_embeddings > 0 => {
                over_embeddings -= 1;
                continue;
            }
            PDI if over_isolates > 0 => {
                // It closes the dropped isolate, and the embeddings dropped inside it.
                over_isolates -= 1;
                over_embeddings = 0;
                continue;
            }
            PDF => {
                if over_isolates > 0 || open.last() != Some(&false) {
                    continue;
                }
                open.pop();
            }
            PDI => {
                let Some(at) = open.iter().rposition(|&isolate| isolate) else {
                    continue;
                };
                // The isolate's PDI closes the embeddings opened inside it too.
                open.truncate(at);
            }
            _ => {}
        }
        out.push(c);
    }
    for isolate in open.into_iter().rev() {
        out.push(if isolate { PDI } else { PDF });
    }
    out
}

/// Cut `s` (already whitespace-collapsed) to at most `max` characters including a trailing `…`.
/// `None` when it fits.
///
/// The cut falls between user-perceived characters (extended grapheme clusters, UAX #29), so
/// that an emoji sequence (a ZWJ family, a flag), a letter with its combining accents or a
/// Hangul syllable is kept whole or left out whole. Where the text has a space a line may break
/// at in the second half of what fits, it is cut there, before the word that did not fit; text
/// written without spaces (Chinese, Japanese, Thai) or one overlong word is cut at the last
/// character that fits. No-break spaces (U+00A0, U+2007, U+202F) join what they separate: no
/// cut falls at them. Only a single character longer than `max` (a base letter under hundreds
/// of combining marks) is cut inside.
pub(crate) fn cut_at_word(s: &str, max: usize) -> Option<String> {
    if s.chars().count() <= max {
        return None;
    }
    let budget = max.saturating_sub(1);
    let head = whole_graphemes(s, budget);
    let rest = &s[head.len()..];
    // Cut before the word that did not fit, unless the next character starts a new word, and
    // unless that leaves less than half of what fits (text without spaces).
    let cut = if rest.starts_with(breaks_line) {
        head
    } else {
        match head.rfind(breaks_line) {
            Some(i) if head[..i].chars().count() > budget / 2 => &head[..i],
            _ => head,
        }
    };
    let cut = cut.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | ':' | '、' | '，' | '；' | '：')
    });
    let cut = if cut.is_empty() { head } else { cut };
    Some(format!("{cut}{ELLIPSIS}"))
}

/// The longest prefix of `s` of at most `max` characters that ends between two user-perceived
/// characters (grapheme clusters); when the first of them alone is longer, the first `max`
/// characters.
pub(crate) fn whole_graphemes(s: &str, max: usize) -> &str {
    let mut chars = 0;
    let mut end = 0;
    for (at, grapheme) in s.grapheme_indices(true) {
        chars += grapheme.chars().count();
        if chars > max {
            break;
        }
        end = at + grapheme.len();
    }
    if end == 0 && !s.is_empty() {
        end = s.char_indices().nth(max).map_or(s.len(), |(i, _)| i);
    }
    &s[..end]
}

/// A space a line may break at: white space other than the no-break ones (U+00A0, the figure
/// space U+2007, the narrow no-break space U+202F of French typography).
fn breaks_line(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{2007}' | '\u{202F}')
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
    Some(balance_bidi(&clean(&words.join(" "))))
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

/// The entry title: [`clean`], cut at 1,000 characters, bidi controls balanced, or derived
/// from `url` when missing. Warnings are appended to `warnings`.
pub(crate) fn title(raw: Option<&str>, url: &Url, warnings: &mut Vec<String>) -> String {
    let title = clean(raw.unwrap_or(""));
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
            balance_bidi(&cut)
        }
        None => balance_bidi(&title),
    }
}

/// The plain-text summary from already-extracted text, cut to about 300 characters.
pub(crate) fn summary(text: &str) -> String {
    let text = clean(text);
    balance_bidi(&cut_at_word(&text, MAX_SUMMARY_CHARS).unwrap_or(text))
}

/// A related link's title: [`clean`], bidi controls balanced.
pub(crate) fn link_title(raw: &str) -> String {
    balance_bidi(&clean(raw))
}

/// Which names [`names`] cleans: the word for its warnings and how many it keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NameKind {
    Author,
    Category,
}

impl NameKind {
    fn word(self) -> (&'static str, &'static str) {
        match self {
            NameKind::Author => ("author", "authors"),
            NameKind::Category => ("category", "categories"),
        }
    }

    fn most(self) -> usize {
        match self {
            NameKind::Author => MAX_AUTHORS,
            NameKind::Category => MAX_CATEGORIES,
        }
    }
}

/// Names (authors, categories): [`clean`], empties dropped, each cut at [`MAX_NAME_CHARS`],
/// bidi controls balanced, deduplicated case-insensitively (and whatever their spaces, no-break
/// or not) keeping the first spelling, at
/// most [`MAX_AUTHORS`] or [`MAX_CATEGORIES`] of them (the first ones). What is cut is
/// said in `warnings`.
pub(crate) fn names(raw: &[String], kind: NameKind, warnings: &mut Vec<String>) -> Vec<String> {
    let (one, many) = kind.word();
    let mut seen = HashSet::new();
    let mut longest_cut = None;
    let mut kept: Vec<String> = raw
        .iter()
        .map(|name| clean(name))
        .filter(|name| !name.is_empty())
        .map(|name| match cut_at_word(&name, MAX_NAME_CHARS) {
            Some(cut) => {
                longest_cut = longest_cut.max(Some(name.chars().count()));
                balance_bidi(&cut)
            }
            None => balance_bidi(&name),
        })
        // `Jane\u{A0}Doe` (a byline) and `Jane Doe` (JSON-LD) are one name.
        .filter(|name| {
            let key: String = name
                .chars()
                .map(|c| if c.is_whitespace() { ' ' } else { c })
                .collect();
            seen.insert(key.to_lowercase())
        })
        .collect();
    if let Some(chars) = longest_cut {
        warnings.push(format!(
            "{one} name of {chars} characters cut to {MAX_NAME_CHARS}"
        ));
    }
    if kept.len() > kind.most() {
        warnings.push(format!(
            "{} {many}: keeping the first {}",
            kept.len(),
            kind.most()
        ));
        kept.truncate(kind.most());
    }
    kept
}

/// Author names: [`names`] of each name without its email address (see [`author_name`]), so no
/// address reaches a feed or a digest, and `Jane Roe <jane@example.org>` and `Jane Roe` are one
/// author.
pub(crate) fn authors(raw: &[String], warnings: &mut Vec<String>) -> Vec<String> {
    let names_only: Vec<String> = raw.iter().map(|a| author_name(a)).collect();
    names(&names_only, NameKind::Author, warnings)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a summary of Chinese text after one short word was `第1章…`, cut at the only
    /// space; a title of such text too, while its warning said it was cut to 1,000.
    #[test]
    fn text_without_spaces_is_cut_near_the_limit() {
        let chinese = format!("第1章 {}", "天下大势分久必合合久必分".repeat(50));
        let cut = cut_at_word(&chinese, MAX_SUMMARY_CHARS).expect("cut");
        assert_eq!(cut.chars().count(), MAX_SUMMARY_CHARS, "{cut}");
        assert!(cut.starts_with("第1章 天下") && cut.ends_with('…'), "{cut}");
        let long = format!("第1章 {}", "天下大势".repeat(271));
        let mut warnings = Vec::new();
        let url = Url::parse("https://example.org/p/").unwrap();
        let t = title(Some(&long), &url, &mut warnings);
        assert_eq!(t.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(warnings, ["title of 1088 characters cut to 1000"]);
        // Thai: no spaces between words either.
        let thai = "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ".repeat(20);
        let cut = cut_at_word(&thai, 100).expect("cut");
        assert!(
            cut.chars().count() > 90 && cut.chars().count() <= 100,
            "{cut}"
        );
    }

    #[test]
    fn text_with_spaces_is_still_cut_before_the_word_that_does_not_fit() {
        let text = "word ".repeat(100);
        let cut = cut_at_word(text.trim(), 22).expect("cut");
        assert_eq!(cut, "word word word word…");
        // A last space early on is no place to cut: the long word is cut instead.
        let text = format!("a {}", "x".repeat(600));
        let cut = cut_at_word(&text, 300).expect("cut");
        assert_eq!(cut.chars().count(), 300);
        assert!(cut.starts_with("a xxx"), "{cut}");
        // Trailing punctuation and spaces go, ideographic commas too.
        assert_eq!(cut_at_word("one, two three", 6).as_deref(), Some("one…"));
        let cut = cut_at_word(&format!("{}、{}", "字".repeat(8), "字".repeat(8)), 10);
        assert_eq!(cut.as_deref(), Some("字字字字字字字字…"));
        assert_eq!(cut_at_word("short", 10), None);
    }

    /// Regression: a summary ended with U+1F468 U+200D `…`, half of a ZWJ family emoji.
    #[test]
    fn cuts_never_split_a_user_perceived_character() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        let text = format!("{}{family}{family}", "x".repeat(8));
        for max in 9..=17 {
            let cut = cut_at_word(&text, max).expect("cut");
            assert!(cut.chars().count() <= max, "{max}: {cut}");
            let kept = cut.strip_suffix('…').unwrap();
            assert!(
                !kept.ends_with('\u{200D}') && !kept.ends_with('\u{1F468}'),
                "{max}: {kept:?}"
            );
            assert!(text.starts_with(kept));
            assert_eq!(
                kept.matches(family).count(),
                (max - 9) / 5,
                "{max}: {kept:?}"
            );
        }
        // Flags (regional indicator pairs), combining accents, Hangul jamo.
        for (unit, len) in [
            ("🇫🇷", 2),
            ("e\u{301}\u{327}", 3),
            ("\u{1100}\u{1161}\u{11A8}", 3),
        ] {
            let text = unit.repeat(20);
            for max in len + 1..30 {
                let kept = cut_at_word(&text, max).unwrap();
                let kept = kept.strip_suffix('…').unwrap();
                assert_eq!(kept.chars().count() % len, 0, "{unit} {max}: {kept:?}");
            }
        }
        // One character longer than the limit is cut inside all the same.
        let zalgo = format!("a{}", "\u{301}".repeat(50));
        assert_eq!(cut_at_word(&zalgo, 10).unwrap().chars().count(), 10);
        assert_eq!(whole_graphemes("", 3), "");
        assert_eq!(whole_graphemes("🇫🇷🇩🇪", 3), "🇫🇷");
    }

    /// A no-break space joins what it separates (French `Genève\u{A0}:`): no cut falls there.
    #[test]
    fn no_cut_at_a_no_break_space() {
        let text = "Une longue phrase pour rien, vue\u{202F}! Puis\u{A0}: fin";
        let cut = cut_at_word(text, 34).unwrap();
        assert_eq!(cut, "Une longue phrase pour rien…");
        let text = "aaaaaaaaaaaa bbbbbbb\u{A0}cccccccc";
        assert_eq!(cut_at_word(text, 22).unwrap(), "aaaaaaaaaaaa…");
    }

    /// A no-break space kept in a name does not make it another name.
    #[test]
    fn names_differing_only_in_their_spaces_are_one() {
        let raw = [
            "Jane\u{A0}Doe".to_owned(),
            "jane doe".to_owned(),
            "Bo\u{202F}Li".to_owned(),
        ];
        let mut warnings = Vec::new();
        assert_eq!(
            names(&raw, NameKind::Author, &mut warnings),
            ["Jane\u{A0}Doe", "Bo\u{202F}Li"]
        );
    }

    #[test]
    fn clean_keeps_no_break_spaces_and_collapses_the_rest() {
        let raw = "  Genève\u{A0}: «\u{A0}accord\u{A0}»\t\n vue\u{202F}!\u{2028}東京\u{3000}大阪 \u{A0} fin\u{A0}";
        assert_eq!(
            clean(raw),
            "Genève\u{A0}: «\u{A0}accord\u{A0}» vue\u{202F}! 東京\u{3000}大阪 fin"
        );
    }
}
