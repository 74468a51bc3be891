//! Text for the terminal and the log: remote text made harmless to print.
//!
//! Owns: [`Printable`] (and [`printable`]), through which every line feedwright prints itself
//! goes when it may carry text from a site, a feed, a hub or the store (error messages, URLs,
//! a source's last error), the log's field formatter and the log's writers ([`LogWriter`] for
//! JSON, [`HumanWriter`]) and which one is in use ([`json_log`]); URLs lose their credentials
//! there. A multi-line error (a TOML one) made one log line: [`one_line`]. It also owns the one progress bar
//! a command may show ([`show_bar`]): a log line clears the bar, is written on a line of its
//! own, and the bar is drawn again below it.
//! Must not: change what is stored or published; it only changes how a line is shown.
//!
//! Control characters (C0, DEL, C1) and the bidirectional overrides and isolates (U+202A–U+202E,
//! U+2066–U+2069) are shown as `\u{1b}`: an escape sequence cannot recolour the terminal, set its
//! title or clear it, a CR or LF cannot start a line that looks like one of feedwright's own,
//! and right-to-left overrides cannot reorder what is shown.

use std::borrow::Cow;
use std::fmt::{self, Write};

/// Whether `c` is shown escaped by [`Printable`].
pub fn is_unprintable(c: char) -> bool {
    matches!(c,
        '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Displays its value with every [`is_unprintable`] character written as `\u{hex}`, and every
/// URL in it without its user name and password ([`crate::redact::userinfo`]): a source URL
/// that carries credentials does not put them into the terminal or the log.
#[derive(Debug, Clone, Copy)]
pub struct Printable<T>(pub T);

impl<T: fmt::Display> fmt::Display for Printable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        write!(Escaping(f), "{}", crate::redact::userinfo(&text))
    }
}

/// `s` as [`Printable`] shows it: every [`is_unprintable`] character written as `\u{hex}` and
/// URLs without credentials (borrowed when there is nothing to change).
pub fn printable(s: &str) -> Cow<'_, str> {
    if s.contains(is_unprintable) || matches!(crate::redact::userinfo(s), Cow::Owned(_)) {
        Cow::Owned(Printable(s).to_string())
    } else {
        Cow::Borrowed(s)
    }
}

/// The progress bar on the terminal, if a command shows one (see [`show_bar`]).
static BAR: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Shows `bar` until [`hide_bar`]: meanwhile every log line is written above it rather than
/// onto the end of its line.
pub fn show_bar(bar: &indicatif::ProgressBar) {
    *BAR.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bar.clone());
}

/// Clears the bar [`show_bar`] showed, if any, and lets log lines go straight to stderr again.
pub fn hide_bar() {
    let bar = BAR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// Writes `bytes` to stderr, with the progress bar (if shown) cleared meanwhile.
fn to_stderr(bytes: &[u8]) -> std::io::Result<()> {
    let bar = BAR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    match bar {
        Some(bar) => bar.suspend(|| std::io::Write::write_all(&mut std::io::stderr(), bytes)),
        None => std::io::Write::write_all(&mut std::io::stderr(), bytes),
    }
}

/// Whether the log is JSON (`--log-format json`): set once by `cli`, as it installs the log,
/// before any command runs; the lines a command writes itself then become log events too.
static JSON_LOG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Says that the log is JSON from now on (see [`json_log`]).
pub fn set_json_log() {
    JSON_LOG.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether every line on stderr is a JSON object (`--log-format json`): then a command's report
/// lines, warnings and errors are log events, and no progress bar is drawn.
pub fn json_log() -> bool {
    JSON_LOG.load(std::sync::atomic::Ordering::Relaxed)
}

/// Standard error for the JSON log: each line written (the log writes one event per write)
/// loses the credentials of the URLs in it, as [`Printable`] does for the human format, and
/// shows the [`is_unprintable`] characters JSON leaves as they are (DEL, C1, bidirectional
/// overrides and isolates) as `\u` escapes, so the line is harmless on a terminal too.
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        to_stderr(json_escaped(&crate::redact::userinfo(&text)).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Standard error for the human log (its fields are made harmless by [`log_fields`]): one
/// event per write, so a line is never split by the progress bar.
pub struct HumanWriter;

impl std::io::Write for HumanWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        to_stderr(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A JSON line with every [`is_unprintable`] character above the C0 range written as a `\u`
/// escape. JSON escapes C0 itself; the others can only stand inside its strings (the rest of a
/// line is ASCII), where `\u` is the same character to a JSON reader.
fn json_escaped(line: &str) -> Cow<'_, str> {
    let shown = |c: char| is_unprintable(c) && c > '\x1f';
    if !line.contains(shown) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 16);
    for c in line.chars() {
        if shown(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

struct Escaping<'a, W: Write>(&'a mut W);

impl<W: Write> Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(is_unprintable) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(self.0, "\\u{{{:x}}}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// The log's field formatter (human format): each field's value, the message included, through
/// [`Printable`]. The subscriber's own formatter escapes only some control characters, and only
/// in the message: a URL field or a line break would pass.
///
/// A library's record that comes through the `log` crate carries where its source file was on
/// the machine that built feedwright (`log.file`, `log.line`, `log.module_path`): those fields
/// are left out, `log.target` (which library) is kept.
pub fn log_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| match field.name() {
        "message" => write!(w, "{}", Printable(format_args!("{value:?}"))),
        "log.file" | "log.line" | "log.module_path" => Ok(()),
        _ => write!(w, " {field}={}", Printable(format_args!("{value:?}"))),
    })
}

/// A message that may span lines (a TOML error quotes the offending line under its position,
/// with a caret) as one log line: the quoted source and caret lines left out, the others
/// joined with "; " (a rejected reload of `daemon` and `serve`).
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            let quoted = l
                .split_once('|')
                .is_some_and(|(before, _)| before.trim().chars().all(|c| c.is_ascii_digit()));
            !l.is_empty() && !quoted
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_multi_line_error_is_one_log_line() {
        let toml = "TOML parse error at line 19, column 1\n   |\n19 | bogus_key = 1\n   | ^^^^^^^^^\nunknown field `bogus_key`\n";
        assert_eq!(
            super::one_line(toml),
            "TOML parse error at line 19, column 1; unknown field `bogus_key`"
        );
        assert_eq!(super::one_line("plain"), "plain");
    }

    use super::*;

    /// The human log's line for one event, formatted as `cli` sets it up.
    fn human_line(event: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .fmt_fields(log_fields())
            .finish();
        tracing::subscriber::with_default(subscriber, event);
        let bytes = buffer
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn a_library_record_shows_no_build_paths_and_fields_stay_apart() {
        let line = human_line(|| {
            tracing::error!(
                log.target = "rustls_platform_verifier::verification::others",
                log.module_path = "rustls_platform_verifier::verification::others",
                log.file = "/home/builder/.cargo/registry/src/others.rs",
                log.line = 42,
                "failed to verify TLS certificate"
            );
        });
        assert_eq!(
            line.trim_end(),
            "ERROR failed to verify TLS certificate \
             log.target=\"rustls_platform_verifier::verification::others\"",
            "{line:?}"
        );
        let line = human_line(|| tracing::warn!(source = "s", url = "http://a/", "cut"));
        assert_eq!(line.trim_end(), " WARN cut source=\"s\" url=\"http://a/\"");
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        let s =
            "</\x1b[31mRED\x1b]0;pwned\x07\x1b[2J>\r\nfake: line\u{9b}\u{202e}txt\u{2066}\x7f\t";
        let shown = printable(s);
        assert_eq!(
            shown,
            "</\\u{1b}[31mRED\\u{1b}]0;pwned\\u{7}\\u{1b}[2J>\\u{d}\\u{a}fake: line\\u{9b}\
             \\u{202e}txt\\u{2066}\\u{7f}\\u{9}"
        );
        assert!(!shown.contains(is_unprintable));
        assert!(matches!(printable("plain – text é"), Cow::Borrowed(_)));
        assert_eq!(
            Printable("failed http://user:pw@example.org/x (mail ana@example.org)").to_string(),
            "failed http://example.org/x (mail ana@example.org)"
        );
        assert_eq!(
            Printable(format_args!("{}: {}", "a\nb", 1)).to_string(),
            "a\\u{a}b: 1"
        );
    }

    /// What JSON leaves raw is escaped the JSON way, inside strings, and the line stays the
    /// same JSON; C0 (escaped by JSON) and the line's end are left alone.
    #[test]
    fn the_json_log_escapes_what_json_leaves_raw() {
        let text = "a\u{7f}b\u{9b}c\u{202e}d\u{2069}e\\\u{85}é\tf";
        let line = format!("{}\n", serde_json::json!({ "message": text }));
        let shown = json_escaped(&line);
        assert_eq!(
            shown,
            "{\"message\":\"a\\u007fb\\u009bc\\u202ed\\u2069e\\\\\\u0085é\\tf\"}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["message"], text);
        assert!(matches!(json_escaped("{\"a\":\"é\"}\n"), Cow::Borrowed(_)));
    }
}
