//! Plain text fit for a mail reader: long lines wrapped.
//!
//! Owns: the wrapping of the rendered text part ([`wrap_lines`]), applied to whatever template
//! rendered it, the user's included. Must not: know the templates' layout beyond what a line
//! shows (its list marker, its indentation).

use textwrap::{Options, WordSeparator, WordSplitter, WrapAlgorithm, core::display_width};

/// Lines longer than this (in columns) are wrapped: the length RFC 5322 asks lines to keep to.
pub const MAX_LINE: usize = 78;
/// Where a line that is too long is wrapped.
pub const WRAP_WIDTH: usize = 72;

/// Wrap every line of `text` longer than [`MAX_LINE`] columns at [`WRAP_WIDTH`]:
///
/// - only at spaces, so a word or a URL is never broken: one longer than the width gets a line
///   of its own, whole;
/// - a list item (`* `, `- `, `+ `, `• `, `1. `, `1) ` after any indentation) keeps its
///   indentation: its continuation lines start under its text; another line's continuation
///   lines keep its indentation;
/// - a line that is a label and one link (`Unsubscribe: https://…`: text ending in `:` that
///   fits on a line, then a URL) is kept whole: the label names the link.
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
    textwrap::wrap(rest, &options)
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
