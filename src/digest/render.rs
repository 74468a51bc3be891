//! Rendering an issue: the template context, the three templates, CSS inlining and the size cap.
//!
//! Owns: the context the templates see (documented in the README), loading the built-in
//! templates or their overrides from the user's `templates/` folder, the `dateformat` filter
//! ([`dateformat`]: a date in a template's own word order, with `[digest] locale`'s names), the
//! text part's line wrapping and bidi isolation ([`text`]), and the issue's two
//! versions: the web copy, which holds every post, and the mail, shrunk when its HTML part is
//! too large as sent (its "and N more" links the web copy). Must not: read the store, the clock or the
//! network; the caller passes the selected entries and every date.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::DigestError;
use super::mail::html_part_bytes;
use super::related::strip_tags;
use super::week::WeekRange;
use crate::model::{DateSource, Link};
use crate::store::StoredEntry;

mod text;

/// File name of the HTML template.
pub const HTML_TEMPLATE: &str = "digest.html";
/// File name of the plain-text template.
pub const TEXT_TEMPLATE: &str = "digest.txt";
/// File name of the subject template (one line; surrounding whitespace is trimmed and inner
/// line breaks become spaces).
pub const SUBJECT_TEMPLATE: &str = "digest_subject.txt";

/// The built-in templates, compiled in.
const BUILTIN: [(&str, &str); 3] = [
    (HTML_TEMPLATE, include_str!("templates/digest.html")),
    (TEXT_TEMPLATE, include_str!("templates/digest.txt")),
    (
        SUBJECT_TEMPLATE,
        include_str!("templates/digest_subject.txt"),
    ),
];

/// Largest HTML part, in bytes as sent (headers, quoted-printable encoding, CRLF line ends: see
/// [`html_part_bytes`]), before the issue is shrunk (Gmail clips messages past ~102 KB).
pub const MAX_HTML_BYTES: usize = 100 * 1024;

/// Excerpt lengths (characters) tried in turn while the HTML is too large.
const EXCERPT_STEPS: [usize; 4] = [300, 160, 80, 0];

/// Everything a template sees. Field names are the template variables.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IssueContext {
    /// The digest's title (`[digest] title`, else the feed's title).
    pub title: String,
    /// The rendered subject line (empty while the subject itself is rendered).
    pub subject: String,
    /// ISO week label, `2024-W46`.
    pub week: String,
    /// ISO week number, `46`.
    pub week_number: u32,
    /// ISO week-numbering year, `2024`.
    pub year: i32,
    /// The week's Monday, `2024-11-11`.
    pub start_date: String,
    /// The week's Sunday, `2024-11-17`.
    pub end_date: String,
    /// Human range, `11–17 November 2024`.
    pub date_range: String,
    /// Hidden preview text: the headlines, joined.
    pub preheader: String,
    /// The posts shown, newest first.
    pub entries: Vec<EntryContext>,
    /// Every post of the issue: those shown and those left out (`more_count`).
    pub post_count: usize,
    /// Posts of the issue left out of the mail to keep it small; the web copy (`web_url`)
    /// lists them all, so a template links it.
    pub more_count: usize,
    /// This issue as a web page (`<public_url><feed>/digest/<week>.html`).
    pub web_url: String,
    /// The list of all issues (`<public_url><feed>/digest/index.html`).
    pub archive_url: String,
    /// The Atom feed of issues (`<public_url><feed>/digest/atom.xml`).
    pub issues_feed_url: String,
    /// `[digest] unsubscribe_url`, else a `mailto:` to the sender asking to unsubscribe (none
    /// only in a sample issue).
    pub unsubscribe_url: Option<String>,
    /// The time zone and locale the `dateformat` filter writes dates in (no template variable).
    #[serde(skip)]
    pub date_style: DateStyle,
}

/// How the `dateformat` filter writes a date: in the digest's time zone, with the names of
/// `[digest] locale` (English without).
#[derive(Clone, Copy, PartialEq)]
pub struct DateStyle {
    pub tz: Tz,
    pub locale: Option<chrono::Locale>,
}

impl Default for DateStyle {
    fn default() -> Self {
        DateStyle {
            tz: chrono_tz::UTC,
            locale: None,
        }
    }
}

// chrono's `Locale` has no `Debug`.
impl std::fmt::Debug for DateStyle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DateStyle")
            .field("tz", &self.tz)
            .field("localized", &self.locale.is_some())
            .finish()
    }
}

impl minijinja::value::Object for DateStyle {}

/// The render context's key for the [`DateStyle`]: a name no template can write.
const DATE_STYLE: &str = "date style (dateformat)";

/// The `dateformat` filter: `value`, a day (`YYYY-MM-DD`, as `e.date`, `start_date` and
/// `end_date` are; written as it is) or an instant (RFC 3339, as `e.date_iso`; seen in the
/// digest's time zone), written with `format` (chrono's strftime: `%A %-d %B %Y`) and the day
/// and month names of the locale. An invalid format, a value that is neither, or a format
/// asking a day for its time is an error.
pub fn dateformat(value: &str, format: &str, style: DateStyle) -> Result<String, String> {
    use chrono::format::{Item, StrftimeItems};
    use std::fmt::Write;
    let items = match style.locale {
        Some(locale) => StrftimeItems::new_with_locale(format, locale),
        None => StrftimeItems::new(format),
    };
    if items.into_iter().any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "dateformat: {format:?} is not a valid date format (chrono's strftime \
             specifiers: %A weekday, %-d day, %B month, %Y year, %% a percent sign)"
        ));
    }
    let value = value.trim();
    let mut out = String::new();
    let written = if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        match style.locale {
            Some(locale) => write!(out, "{}", day.format_localized(format, locale)),
            None => write!(out, "{}", day.format(format)),
        }
    } else if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        let local = instant.with_timezone(&style.tz);
        match style.locale {
            Some(locale) => write!(out, "{}", local.format_localized(format, locale)),
            None => write!(out, "{}", local.format(format)),
        }
    } else {
        return Err(format!(
            "dateformat: {value:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"
        ));
    };
    written.map_err(|_| {
        format!("dateformat: {format:?} asks {value:?} for what it does not have (a time of day?)")
    })?;
    Ok(out)
}

/// One post as the templates see it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntryContext {
    /// The post's title (plain text; the HTML template escapes it).
    pub title: String,
    /// Absolute URL of the post.
    pub url: String,
    /// A fragment id unique within the issue, `post-1`.
    pub anchor: String,
    /// Date in the digest's time zone, `2024-11-12`.
    pub date: String,
    /// Date for people, `Tue 12 Nov 2024`.
    pub date_human: String,
    /// RFC 3339 date (UTC).
    pub date_iso: String,
    /// `false` when the post carried no date and `date` is the day it was first seen.
    pub date_known: bool,
    /// Author names.
    pub authors: Vec<String>,
    /// Category names.
    pub categories: Vec<String>,
    /// A short plain-text excerpt (may be empty).
    pub excerpt: String,
    /// Related posts: `title` and `url` each, at most [`IssueMeta::related_limit`].
    pub related: Vec<Link>,
}

/// The three templates, built-in or overridden, ready to render.
pub struct Templates {
    env: Environment<'static>,
    /// Template name → what an error message calls it (the override's path, or
    /// `built-in digest.html`).
    shown: HashMap<&'static str, String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("shown", &self.shown)
            .finish()
    }
}

impl Templates {
    /// Load the templates: `<config_dir>/templates/<name>` when that file exists, else the
    /// built-in one. Syntax errors are reported here, naming the file and line. Variables that do
    /// not exist are errors at render time (strict undefined), naming the file, the line and the
    /// expression (`` undefined value: `e.nosuch` is undefined ``).
    pub fn load(config_dir: &Path) -> Result<Templates, DigestError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Debug mode is what makes an error name the expression that was undefined
        // (`` `e.nosuch` is undefined ``); minijinja turns it on only in debug builds. It costs
        // nothing until a template fails.
        env.set_debug(true);
        // `{{ e.title | isolate }}`: right-to-left text kept from reordering its line in the
        // text part (see `text::isolate`).
        env.add_filter("isolate", |piece: String| text::isolate(&piece));
        // `{{ e.date | dateformat("%A %-d de %B de %Y") }}`: a date in the template's own word
        // order, with the names of `[digest] locale` (see [`dateformat`]).
        env.add_filter(
            "dateformat",
            |state: &minijinja::State, value: String, format: String| {
                let style = state
                    .lookup(DATE_STYLE)
                    .and_then(|v| v.downcast_object_ref::<DateStyle>().copied())
                    .unwrap_or_default();
                dateformat(&value, &format, style)
                    .map_err(|m| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, m))
            },
        );
        // `.html` templates are HTML-escaped by default; the others are not escaped.
        let mut shown = HashMap::new();
        for (name, builtin) in BUILTIN {
            let path: PathBuf = config_dir.join("templates").join(name);
            let (source, label) = if path.is_file() {
                let text = std::fs::read_to_string(&path).map_err(|e| DigestError::Template {
                    file: path.display().to_string(),
                    line: None,
                    message: format!("cannot read: {e}"),
                })?;
                (text, path.display().to_string())
            } else {
                (builtin.to_owned(), format!("built-in {name}"))
            };
            shown.insert(name, label);
            env.add_template_owned(name, source)
                .map_err(|e| template_error(&shown, name, &e))?;
        }
        Ok(Templates { env, shown })
    }

    /// A [`DigestError::Template`] about template `name`, naming its file.
    pub(crate) fn error(&self, name: &str, message: impl Into<String>) -> DigestError {
        DigestError::Template {
            file: self
                .shown
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_owned()),
            line: None,
            message: message.into(),
        }
    }

    /// Render template `name` with `ctx`.
    pub fn render(&self, name: &'static str, ctx: &IssueContext) -> Result<String, DigestError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| template_error(&self.shown, name, &e))?;
        let context = minijinja::value::merge_maps([
            // A map: `Value::from_iter` of pairs would make a list of pairs.
            minijinja::Value::from(std::collections::BTreeMap::from([(
                DATE_STYLE,
                minijinja::Value::from_object(ctx.date_style),
            )])),
            minijinja::Value::from(minijinja::value::Serde(ctx)),
        ]);
        tmpl.render(context)
            .map_err(|e| template_error(&self.shown, name, &e))
    }
}

fn template_error(
    shown: &HashMap<&'static str, String>,
    name: &str,
    e: &minijinja::Error,
) -> DigestError {
    let owner = e.name().unwrap_or(name);
    let file = shown
        .get(owner)
        .cloned()
        .unwrap_or_else(|| owner.to_string());
    let message = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    DigestError::Template {
        file,
        line: e.line(),
        message,
    }
}

/// The three parts of a rendered issue.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedIssue {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part, CSS inlined.
    pub html: String,
    /// The context it was rendered from (after any shrinking).
    pub context: IssueContext,
}

/// What [`render_issue`] needs besides the entries.
#[derive(Debug, Clone)]
pub struct IssueMeta {
    /// Digest title.
    pub title: String,
    /// The week.
    pub week: WeekRange,
    /// Time zone for dates.
    pub tz: Tz,
    /// Language of the dates' names (`[digest] locale`); `None`: English.
    pub locale: Option<chrono::Locale>,
    /// This issue's web page.
    pub web_url: String,
    /// The archive page.
    pub archive_url: String,
    /// The Atom feed of issues.
    pub issues_feed_url: String,
    /// Unsubscribe URL (see [`IssueMeta::unsubscribe_url`]).
    pub unsubscribe_url: Option<String>,
    /// At most this many related posts are listed under each entry (`[digest] related_limit`;
    /// an entry's stored links, fixed under an earlier limit, may be more).
    pub related_limit: usize,
}

/// An issue in its two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueVersions {
    /// The web copy (`<week>.html` and `.txt`, the "view in browser" page): every post, full
    /// excerpts. A web page is not bound by the mail's size cap.
    pub web: RenderedIssue,
    /// The message: the web copy itself when its HTML fits `max_html_bytes`, else shrunk by
    /// [`render_issue`] (its "and N more" links the web copy).
    pub mail: RenderedIssue,
}

/// Render the web copy and the mail of an issue (see [`IssueVersions`]). Both have the same
/// subject, which counts every post.
pub fn render_versions(
    templates: &Templates,
    meta: &IssueMeta,
    entries: &[StoredEntry],
    max_html_bytes: usize,
) -> Result<IssueVersions, DigestError> {
    let web = render_issue(templates, meta, entries, usize::MAX)?;
    let mail = if html_part_bytes(&web.html) <= max_html_bytes {
        web.clone()
    } else {
        render_issue(templates, meta, entries, max_html_bytes)?
    };
    Ok(IssueVersions { web, mail })
}

/// Render subject, text and HTML for `entries`. When the inlined HTML's part of the message
/// exceeds `max_html_bytes` as sent ([`html_part_bytes`]; `usize::MAX`: no limit) the excerpts
/// are shortened, then posts are dropped from the end (`more_count` says how many,
/// `post_count` still counts them, and the templates link the web copy), and a warning is
/// logged.
pub fn render_issue(
    templates: &Templates,
    meta: &IssueMeta,
    entries: &[StoredEntry],
    max_html_bytes: usize,
) -> Result<RenderedIssue, DigestError> {
    let mut shown = entries.len();
    let mut step = 0;
    loop {
        let excerpt_len = EXCERPT_STEPS[step];
        let ctx = context(meta, &entries[..shown], entries.len() - shown, excerpt_len);
        let rendered = render_context(templates, ctx)?;
        if max_html_bytes == usize::MAX {
            return Ok(rendered);
        }
        let size = html_part_bytes(&rendered.html);
        if size <= max_html_bytes {
            if step > 0 || shown < entries.len() {
                tracing::warn!(
                    week = %meta.week.week,
                    html_bytes_sent = size,
                    shown,
                    left_out = entries.len() - shown,
                    excerpt_chars = excerpt_len,
                    "the digest's HTML with every post in full would be over {max_html_bytes} \
                     bytes: the mail has {} (the web copy has them all)",
                    if shown < entries.len() {
                        format!(
                            "excerpts of {excerpt_len} characters and leaves {} post(s) out",
                            entries.len() - shown
                        )
                    } else {
                        format!("excerpts of {excerpt_len} characters")
                    }
                );
            }
            return Ok(rendered);
        }
        if step + 1 < EXCERPT_STEPS.len() {
            step += 1;
        } else if shown > 0 {
            // Drop posts proportionally to the overshoot, at least one.
            let ratio = max_html_bytes as f64 / size as f64;
            let target = ((shown as f64) * ratio).floor() as usize;
            shown = target.min(shown - 1);
        } else {
            return Ok(rendered);
        }
    }
}

/// Render the three templates for one context.
pub fn render_context(
    templates: &Templates,
    mut ctx: IssueContext,
) -> Result<RenderedIssue, DigestError> {
    let subject = templates.render(SUBJECT_TEMPLATE, &ctx)?;
    ctx.subject = crate::normalize::collapse_whitespace(&subject);
    refuse_empty(templates, SUBJECT_TEMPLATE, &ctx.subject, "the subject")?;
    let text = text::wrap_lines(&normalize_text(&templates.render(TEXT_TEMPLATE, &ctx)?));
    refuse_empty(templates, TEXT_TEMPLATE, &text, "the text part")?;
    let raw_html = templates.render(HTML_TEMPLATE, &ctx)?;
    refuse_empty(templates, HTML_TEMPLATE, &raw_html, "the HTML part")?;
    let html = inline_css(&raw_html)?;
    Ok(RenderedIssue {
        subject: ctx.subject.clone(),
        text,
        html,
        context: ctx,
    })
}

/// A template that renders nothing but whitespace (an emptied override) would send a message
/// with a blank subject or an empty part, without the unsubscribe link: refused, naming the
/// file.
fn refuse_empty(
    templates: &Templates,
    name: &'static str,
    rendered: &str,
    what: &str,
) -> Result<(), DigestError> {
    if rendered.trim().is_empty() {
        return Err(templates.error(
            name,
            format!("renders to nothing (only whitespace): {what} of an issue cannot be empty"),
        ));
    }
    Ok(())
}

/// Inline the `<style>` rules into `style` attributes; `@media` rules (dark mode) stay in a
/// `<style>` block.
fn inline_css(html: &str) -> Result<String, DigestError> {
    let inliner = css_inline::CSSInliner::options()
        .keep_at_rules(true)
        .load_remote_stylesheets(false)
        .build();
    inliner.inline(html).map_err(|e| DigestError::Template {
        file: HTML_TEMPLATE.to_string(),
        line: None,
        message: format!("cannot inline CSS: {e}"),
    })
}

/// Trailing spaces off every line, at most one blank line in a row, one final newline.
fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Build the context for `entries` (already selected and ordered).
pub fn context(
    meta: &IssueMeta,
    entries: &[StoredEntry],
    more_count: usize,
    excerpt_len: usize,
) -> IssueContext {
    let week = &meta.week;
    let entries: Vec<EntryContext> = entries
        .iter()
        .enumerate()
        .map(|(i, s)| entry_context(s, i, meta, excerpt_len))
        .collect();
    // Inbox previews show it as plain text: a right-to-left title is isolated from the others.
    let preheader = entries
        .iter()
        .map(|e| text::isolate(&e.title))
        .collect::<Vec<_>>()
        .join(" · ");
    IssueContext {
        title: meta.title.clone(),
        subject: String::new(),
        week: week.week.label(),
        week_number: week.week.week,
        year: week.week.year,
        start_date: week.first_day.format("%Y-%m-%d").to_string(),
        end_date: week.last_day.format("%Y-%m-%d").to_string(),
        date_range: date_range(week, meta.locale),
        preheader: text::close_isolates(&truncate(&preheader, 140)),
        post_count: entries.len() + more_count,
        entries,
        more_count,
        web_url: meta.web_url.clone(),
        archive_url: meta.archive_url.clone(),
        issues_feed_url: meta.issues_feed_url.clone(),
        unsubscribe_url: meta.unsubscribe_url.clone(),
        date_style: DateStyle {
            tz: meta.tz,
            locale: meta.locale,
        },
    }
}

fn entry_context(
    s: &StoredEntry,
    index: usize,
    meta: &IssueMeta,
    excerpt_len: usize,
) -> EntryContext {
    let e = &s.entry;
    let tz = meta.tz;
    let date_known = e.published_source != DateSource::FirstSeen;
    let when: DateTime<Utc> = if date_known {
        e.published
    } else {
        s.first_seen
    };
    let local = when.with_timezone(&tz);
    let source_text = if e.summary.trim().is_empty() {
        strip_tags(&e.content_html)
    } else {
        e.summary.clone()
    };
    let flat = crate::normalize::collapse_whitespace(&source_text);
    EntryContext {
        title: e.title.clone(),
        url: e.url.clone(),
        anchor: format!("post-{}", index + 1),
        date: local.format("%Y-%m-%d").to_string(),
        date_human: in_words(&local.date_naive(), "%a %-d %b %Y", meta.locale),
        date_iso: when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        date_known,
        authors: e.authors.clone(),
        categories: e.categories.clone(),
        excerpt: truncate(&flat, excerpt_len),
        related: e.related.iter().take(meta.related_limit).cloned().collect(),
    }
}

/// `11–17 November 2024`, `28 October – 3 November 2024`, `30 December 2024 – 5 January 2025`;
/// with a locale, its names (`11–17 novembre 2024`).
fn date_range(w: &WeekRange, locale: Option<chrono::Locale>) -> String {
    use chrono::Datelike;
    let (a, b) = (w.first_day, w.last_day);
    let day = |d: &NaiveDate, fmt: &str| in_words(d, fmt, locale);
    if a.year() != b.year() {
        format!("{} – {}", day(&a, "%-d %B %Y"), day(&b, "%-d %B %Y"))
    } else if a.month() != b.month() {
        format!("{} – {}", day(&a, "%-d %B"), day(&b, "%-d %B %Y"))
    } else {
        format!("{}–{}", day(&a, "%-d"), day(&b, "%-d %B %Y"))
    }
}

/// `day` written with `fmt`, its day and month names in `locale`'s language (English without).
fn in_words(day: &NaiveDate, fmt: &str, locale: Option<chrono::Locale>) -> String {
    match locale {
        Some(locale) => day.format_localized(fmt, locale).to_string(),
        None => day.format(fmt).to_string(),
    }
}

/// At most `max` characters and a `…` when shortened, cut as summaries are (between graphemes,
/// at a space when that keeps more than half).
pub fn truncate(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    crate::normalize::cut_at_word(s, max + 1).unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::truncate;

    /// Text without spaces (Chinese) is cut near the limit, not at its only space; an emoji
    /// sequence is never split; a no-break space stays.
    #[test]
    fn excerpts_are_cut_near_the_limit_between_graphemes() {
        let cjk = format!("第1章 {}", "谈判".repeat(300));
        let cut = truncate(&cjk, 100);
        assert!(
            cut.chars().count() > 90 && cut.chars().count() <= 101,
            "{cut}"
        );
        assert!(cut.ends_with('…'), "{cut}");

        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        let text = format!("{}{family}{family}", "a".repeat(8));
        let cut = truncate(&text, 10);
        assert!(!cut.contains('\u{200D}') || cut.contains(family), "{cut:?}");

        assert_eq!(
            truncate("Genève\u{A0}: accord", 100),
            "Genève\u{A0}: accord"
        );
        assert_eq!(truncate("one two three four", 9), "one two…");
        assert_eq!(truncate("anything", 0), "");
    }
}
