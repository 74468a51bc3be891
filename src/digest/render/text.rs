//! Plain text fit for a mail reader: pieces of right-to-left text isolated, long lines wrapped.
//!
//! Owns: the `isolate` template filter (a piece of post text that holds right-to-left
//! characters, or directional controls, between U+2068 FIRST STRONG ISOLATE and U+2069 POP
//! DIRECTIONAL ISOLATE), and the wrapping of the rendered text part ([`wrap_lines`]), applied
//! to whatever template rendered it, the user's included. Must not: know the templates' layout
//! beyond what a line shows (its list marker, its indentation).

use textwrap::{Options, WordSeparator, WordSplitter, WrapAlgorithm, core::display_width};
use unicode_bidi::{BidiClass, bidi_class};

/// U+2068 FIRST STRONG ISOLATE: opens an isolate whose direction is its first strong character's.
pub const FSI: char = '\u{2068}';
/// U+2069 POP DIRECTIONAL ISOLATE: closes the isolate last opened.
pub const PDI: char = '\u{2069}';

/// Lines longer than this (in columns) are wrapped: the length RFC 5322 asks lines to keep to.
pub const MAX_LINE: usize = 78;
/// Where a line that is too long is wrapped.
pub const WRAP_WIDTH: usize = 72;

/// Does `piece` need isolating: does it hold a right-to-left character, or a directional
/// control (embedding, override or isolate) that would otherwise act on the rest of its line?
fn needs_isolation(piece: &str) -> bool {
    piece.chars().any(|c| {
        matches!(
            bidi_class(c),
            BidiClass::R
                | BidiClass::AL
                | BidiClass::LRE
                | BidiClass::LRO
                | BidiClass::RLE
                | BidiClass::RLO
                | BidiClass::PDF
                | BidiClass::LRI
                | BidiClass::RLI
                | BidiClass::FSI
                | BidiClass::PDI
        )
    })
}

fn opens_isolate(c: char) -> bool {
    matches!(c, '\u{2066}' | '\u{2067}' | FSI)
}

/// `piece` between FSI and PDI when it holds right-to-left text or directional controls, else
/// as it is: left-to-right text in a left-to-right line needs nothing, and the two controls,
/// invisible where they are understood, show as boxes or `?` in some viewers and would make
/// the text part differ from the page for a search.
///
/// The isolate is balanced whatever `piece` holds: a PDI of its own with no opener in it is
/// dropped (it would close ours early), and an isolate it leaves open is closed before ours.
pub fn isolate(piece: &str) -> String {
    if !needs_isolation(piece) {
        return piece.to_owned();
    }
    let mut out = String::with_capacity(piece.len() + 8);
    out.push(FSI);
    let mut open = 0usize;
    for c in piece.chars() {
        if opens_isolate(c) {
            open += 1;
        } else if c == PDI {
            if open == 0 {
                continue;
            }
            open -= 1;
        }
        out.push(c);
    }
    for _ in 0..=open {
        out.push(PDI);
    }
    out
}

/// `text` with a PDI added at its end for every isolate left open (a string cut short).
pub fn close_isolates(text: &str) -> String {
    let mut open = 0usize;
    for c in text.chars() {
        if opens_isolate(c) {
            open += 1;
        } else if c == PDI {
            open = open.saturating_sub(1);
        }
    }
    let mut out = text.to_owned();
    out.extend(std::iter::repeat_n(PDI, open));
    out
}

/// Wrap every line of `text` longer than [`MAX_LINE`] columns at [`WRAP_WIDTH`]:
///
/// - only at spaces, so a word or a URL is never broken: one longer than the width gets a line
///   of its own, whole;
/// - a list item (`* `, `- `, `+ `, `• `, `1. `, `1) ` after any indentation) keeps its
///   indentation: its continuation lines start under its text; another line's continuation
///   lines keep its indentation;
/// - a line that is a label and one link (`Unsubscribe: https://…`: text ending in `:` that
///   fits on a line, then a URL) is kept whole: the label names the link;
/// - an isolate (see [`isolate`]) cut by a line break is closed at the end of the line and
///   opened again on the next, as a line is a paragraph of its own to the bidi algorithm.
///
/// Shorter lines are left as they are. Every line of the result ends with `\n`.
pub fn wrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.lines() {
        if display_width(line) <= MAX_LINE || is_link_line(line) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        for wrapped in wrap_line(line) {
            out.push_str(&wrapped);
            out.push('\n');
        }
    }
    out
}

/// One line, wrapped at [`WRAP_WIDTH`] (see [`wrap_lines`]).
fn wrap_line(line: &str) -> Vec<String> {
    let (head, rest) = line.split_at(list_prefix_len(line));
    let indent = if head.trim().is_empty() {
        head.to_owned()
    } else {
        " ".repeat(display_width(head))
    };
    let options = Options::new(WRAP_WIDTH)
        .initial_indent(head)
        .subsequent_indent(&indent)
        .break_words(false)
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation)
        .wrap_algorithm(WrapAlgorithm::FirstFit);
    let mut lines: Vec<String> = textwrap::wrap(rest, &options)
        .into_iter()
        .map(|l| l.into_owned())
        .collect();
    carry_isolates(&mut lines, indent.len());
    lines
}

/// Byte length of a line's indentation and list marker with the spaces after it (the
/// indentation alone when the line is not a list item).
fn list_prefix_len(line: &str) -> usize {
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let rest = &line[indent..];
    let marker = if let Some(c) = rest.chars().next().filter(|c| "*-+•".contains(*c)) {
        c.len_utf8()
    } else {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match rest[digits..].chars().next() {
            Some('.' | ')') if (1..=3).contains(&digits) => digits + 1,
            _ => 0,
        }
    };
    let after = &rest[marker..];
    let spaces = after.len() - after.trim_start_matches(' ').len();
    if marker == 0 || spaces == 0 || spaces == after.len() {
        indent
    } else {
        indent + marker + spaces
    }
}

/// `Label: https://…`: a label ending in `:` that fits on a line, then one URL.
fn is_link_line(line: &str) -> bool {
    let Some((label, last)) = line.trim_end().rsplit_once(' ') else {
        return false;
    };
    let is_url = ["https://", "http://", "mailto:"]
        .iter()
        .any(|scheme| last.starts_with(scheme));
    is_url && label.ends_with(':') && display_width(label) < WRAP_WIDTH
}

/// Close at the end of each line the isolates still open there, and open them again after the
/// next line's indentation (`indent` bytes).
fn carry_isolates(lines: &mut [String], indent: usize) {
    let mut open: Vec<char> = Vec::new();
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter_mut().enumerate() {
        if i > 0 && !open.is_empty() {
            let at = indent.min(line.len());
            let reopened: String = open.iter().collect();
            line.insert_str(at, &reopened);
            open.clear();
        }
        for c in line.chars() {
            if opens_isolate(c) {
                open.push(c);
            } else if c == PDI {
                open.pop();
            }
        }
        if i < last {
            line.extend(std::iter::repeat_n(PDI, open.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pieces_with_right_to_left_text_or_controls_are_isolated() {
        assert_eq!(isolate("Ana Ruiz"), "Ana Ruiz");
        assert_eq!(isolate("Talks (2026)!"), "Talks (2026)!");
        assert_eq!(isolate("الوساطة"), "\u{2068}الوساطة\u{2069}");
        assert_eq!(isolate("שלום"), "\u{2068}שלום\u{2069}");
        // An override of its own stays inside.
        assert_eq!(isolate("a\u{202E}b"), "\u{2068}a\u{202E}b\u{2069}");
        // A stray PDI would close ours early: dropped. An isolate left open is closed.
        assert_eq!(isolate("a\u{2069}ب"), "\u{2068}aب\u{2069}");
        assert_eq!(isolate("\u{2067}ب"), "\u{2068}\u{2067}ب\u{2069}\u{2069}");
    }

    #[test]
    fn short_lines_are_left_alone_and_long_ones_wrap_at_spaces() {
        let short = format!("{}\n", "word ".repeat(15).trim_end()); // 74 columns
        assert_eq!(wrap_lines(&short), short);
        let long = "word ".repeat(40);
        let out = wrap_lines(long.trim_end());
        assert!(out.lines().all(|l| l.len() <= WRAP_WIDTH), "{out}");
        assert_eq!(out.split_whitespace().count(), 40);
    }

    #[test]
    fn a_long_url_gets_a_line_of_its_own_whole() {
        let url = format!(
            "https://docs.example.com/forms/d/e/{}/viewform",
            "x".repeat(80)
        );
        let out = wrap_lines(&format!("Register with the form at {url} before Friday."));
        assert_eq!(
            out,
            format!("Register with the form at\n{url}\nbefore Friday.\n")
        );
    }

    #[test]
    fn list_items_keep_their_indentation() {
        // 75 columns.
        let title = "a related post whose title goes on and on, well past the width of one line!";
        let out = wrap_lines(&format!(
            "  - {title}\n* {title}\n12. {title}\n   no marker: {title}\n"
        ));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "  - a related post whose title goes on and on, well past the width of",
                "    one line!",
                // 77 columns: left alone.
                "* a related post whose title goes on and on, well past the width of one line!",
                "12. a related post whose title goes on and on, well past the width of",
                "    one line!",
                "   no marker: a related post whose title goes on and on, well past the",
                "   width of one line!",
            ]
        );
    }

    #[test]
    fn a_label_and_its_link_stay_together() {
        let line = format!("Unsubscribe: https://example.org/u?t={}", "x".repeat(80));
        assert_eq!(wrap_lines(&line), format!("{line}\n"));
    }

    #[test]
    fn an_isolate_cut_by_a_line_break_is_closed_and_reopened() {
        let arabic = "كلمة ".repeat(30);
        let piece = isolate(arabic.trim_end());
        let out = wrap_lines(&format!("  - {piece}"));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1, "{out}");
        for (i, l) in lines.iter().enumerate() {
            let body = l.strip_prefix(if i == 0 { "  - " } else { "    " });
            let body = body.unwrap_or_else(|| panic!("line {i} indented as its item: {l:?}"));
            assert!(body.starts_with(FSI), "line {i} opens the isolate: {l:?}");
            assert!(body.ends_with(PDI), "line {i} closes it: {l:?}");
            assert_eq!(body.matches(FSI).count(), 1, "{l:?}");
            assert_eq!(body.matches(PDI).count(), 1, "{l:?}");
        }
    }
}
