//! The digest's layout with awkward post text, through the real binary: long words and URLs
//! wrap instead of widening the HTML past a phone's screen (checked on the inlined markup, and
//! laid out by a real CSS engine, Python WeasyPrint: `tests/layout_width.py`), right-to-left
//! titles, names and excerpts are isolated from the text around them in both parts (the text
//! part's display order checked with the Unicode bidi algorithm), and the text part is wrapped
//! at 72 columns without breaking a word or a URL.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{dir_config, feedwright, write_config};
use scraper::{ElementRef, Html, Selector};
use unicode_bidi::{BidiInfo, Level};

/// A single 270-character word, as a post title.
fn long_word() -> String {
    "Negotiation".repeat(25)[..270].to_owned()
}

const FORM_URL: &str = "https://docs.google.com/forms/d/e/1FAIpQLSfD8x3kP9zQ2vR7mN4tY6uW1aB5cE0gH3jK8lM2nO9pQ4rS7t/viewform?usp=sf_link";
const RTL_TITLE: &str = "مفاوضات (2026)!";
const RTL_AUTHOR: &str = "فاطمة الزهراء";
const RTL_CATEGORY: &str = "الوساطة";
const RTL_RELATED: &str = "الوساطة في النزاعات الدولية (الجزء 2)";
const LONG_TITLE: &str =
    "What the chairs of two stalled trade rounds did to bring every delegation back";

fn form_excerpt() -> String {
    format!(
        "Register with the form at {FORM_URL} before Friday: places are limited and we expect \
         applicants from every region of the world this year."
    )
}

/// The posts of week 2026-W47 (and an older one linked as related), as Markdown files, newest
/// first in the issue: `trade`, `form`, `rtl`, `long-word`.
fn posts() -> Vec<(&'static str, String)> {
    let post = |url: &str, title: &str, date: &str, extra: &str, body: &str| {
        format!(
            "---\ntitle: {title:?}\ndate: {date}\nurl: https://example.org/{url}/\n{extra}---\n{body}\n"
        )
    };
    vec![
        (
            "long-word.md",
            post(
                "long-word",
                &long_word(),
                "2026-11-16T12:00:00Z",
                "authors: [Ana Ruiz]\ncategories: [Mediation]\n",
                "A normal body.",
            ),
        ),
        (
            "form.md",
            post(
                "form",
                "Register for the workshop",
                "2026-11-18T12:00:00Z",
                "authors: [Ben Okafor]\ncategories: [Events]\n\
                 related: [https://example.org/trade/]\n",
                &form_excerpt(),
            ),
        ),
        (
            "rtl.md",
            post(
                "rtl",
                RTL_TITLE,
                "2026-11-17T12:00:00Z",
                &format!(
                    "authors: [{RTL_AUTHOR}]\ncategories: [{RTL_CATEGORY}]\nrelated: [https://example.org/rtl-older/]\n"
                ),
                "نص قصير عن المفاوضات الدولية والوساطة بين الأطراف.",
            ),
        ),
        (
            "rtl-older.md",
            post(
                "rtl-older",
                RTL_RELATED,
                "2026-10-01T12:00:00Z",
                &format!("authors: [{RTL_AUTHOR}]\n"),
                "نص أقدم.",
            ),
        ),
        (
            "trade.md",
            post(
                "trade",
                LONG_TITLE,
                "2026-11-19T12:00:00Z",
                "authors: [Hiro Nakamura, Ana Ruiz]\ncategories: [Trade Policy]\n",
                &"When both sides' alternatives improve at once, the zone of possible agreement \
                  can vanish. "
                    .repeat(3),
            ),
        ),
    ]
}

/// A config folder with the posts of [`posts`], run once, and the dry-run issue of 2026-W47.
struct Issue {
    dir: tempfile::TempDir,
}

impl Issue {
    fn new() -> Issue {
        Issue::with_templates(&[])
    }

    /// With these files in the `templates/` folder next to the config.
    fn with_templates(templates: &[(&str, &str)]) -> Issue {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("posts")).expect("mkdir");
        for (file, text) in posts() {
            std::fs::write(dir.path().join("posts").join(file), text).expect("write post");
        }
        if !templates.is_empty() {
            std::fs::create_dir(dir.path().join("templates")).expect("mkdir");
            for (file, text) in templates {
                std::fs::write(dir.path().join("templates").join(file), text).expect("write");
            }
        }
        let config = write_config(
            dir.path(),
            &format!(
                "{}[digest]\nfeed = \"events\"\ntimezone = \"UTC\"\n\
                 from = \"Digest <digest@example.org>\"\nto = [\"list@example.org\"]\n\
                 unsubscribe_url = \"https://example.org/unsubscribe\"\n\
                 related_limit = 1\n",
                dir_config("")
            ),
        );
        let (code, _, stderr) = feedwright(&config, &["run"]);
        assert_eq!(code, 0, "{stderr}");
        let (code, stdout, stderr) = feedwright(
            &config,
            &["digest", "--now", "2026-11-23T12:00:00Z", "--dry-run"],
        );
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(stdout.contains("dry run"), "{stdout}");
        Issue { dir }
    }

    fn file(&self, ext: &str) -> PathBuf {
        self.dir
            .path()
            .join("out/events/digest")
            .join(format!("2026-W47.{ext}"))
    }

    fn html(&self) -> String {
        std::fs::read_to_string(self.file("html")).expect("html")
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.file("txt")).expect("txt")
    }
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&Selector::parse(css).expect("selector"))
        .collect()
}

fn style(e: &ElementRef) -> String {
    e.value().attr("style").unwrap_or_default().to_owned()
}

/// Every element that holds a piece of post text carries, inlined, the style that lets a word
/// longer than the screen break; nothing outside Outlook's conditional comments has a width
/// wider than a phone that does not give way (a percentage, or `max-width`).
#[test]
fn long_words_and_urls_wrap_instead_of_widening_the_layout() {
    let issue = Issue::new();
    let html = issue.html();
    let doc = Html::parse_document(&html);

    let post_text = select(
        &doc,
        "td.card h2, ul.headlines li, p.meta, p.excerpt, ul.related li",
    );
    // Four posts: a headline, a title, a meta line, an excerpt, and their related posts.
    assert!(post_text.len() > 16, "{html}");
    assert_eq!(select(&doc, "ul.related li").len(), post_text.len() - 16);
    for e in &post_text {
        let s = style(e);
        assert!(
            s.contains("overflow-wrap: anywhere") && s.contains("word-break: break-word"),
            "<{}> holding {:?} does not wrap long words: style={s:?}",
            e.value().name(),
            e.text().collect::<String>()
        );
    }
    // The long word and the long URL are in elements among them.
    assert!(
        post_text
            .iter()
            .any(|e| e.text().collect::<String>().contains(&long_word()))
    );
    assert!(
        post_text
            .iter()
            .any(|e| e.text().collect::<String>().contains(FORM_URL))
    );

    // No fixed width wider than a phone (320 px) that does not give way.
    let phone = 320;
    for e in select(&doc, "[width], [style]") {
        if let Some(w) = e.value().attr("width") {
            let fixed = w.trim_end_matches("px").parse::<u32>().ok();
            assert!(
                fixed.is_none_or(|w| w <= phone),
                "<{} width={w:?}>: a fixed width",
                e.value().name()
            );
        }
        for decl in style(&e).split(';') {
            let Some((prop, value)) = decl.split_once(':') else {
                continue;
            };
            if prop.trim() == "width" {
                let fixed = value.trim().strip_suffix("px").map(|v| v.parse::<f64>());
                assert!(
                    !matches!(fixed, Some(Ok(w)) if w > f64::from(phone)),
                    "<{} style={:?}>: a fixed width",
                    e.value().name(),
                    style(&e)
                );
            }
        }
    }
    // The layout is 600 px at most…
    let main = select(&doc, "table.main");
    assert_eq!(main.len(), 1);
    assert_eq!(main[0].value().attr("width"), Some("100%"));
    let container = main[0]
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|e| style(e).contains("max-width: 600px"));
    assert!(container.is_some(), "nothing holds the layout to 600 px");
    // …and Outlook for Windows, which knows no max-width, gets a 600 px table of its own.
    assert!(
        html.contains(
            "<!--[if mso]><table role=\"presentation\" width=\"600\" align=\"center\" \
             cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td><![endif]-->"
        ) && html.contains("<!--[if mso]></td></tr></table><![endif]-->"),
        "the conditional table for Outlook did not survive CSS inlining"
    );
}

/// The issue laid out by a real CSS engine: on a 375 px phone nothing reaches past the screen,
/// and on a desktop the layout is still 600 px wide.
#[test]
fn a_real_layout_fits_a_phone_and_keeps_600_px_on_a_desktop() {
    let issue = Issue::new();
    let widths = layout(&issue.file("html"), &[375, 800]);
    let phone = &widths["375"];
    assert!(
        phone["right"].as_f64().expect("right") <= 375.0 + 0.5,
        "on a 375 px screen {} reaches {} px",
        phone["furthest"],
        phone["right"]
    );
    assert!(phone["main"].as_f64().expect("main") <= 375.0, "{phone}");
    let desktop = &widths["800"];
    assert_eq!(desktop["main"].as_f64(), Some(600.0), "{desktop}");
    assert!(
        desktop["right"].as_f64().expect("right") <= 800.5,
        "{desktop}"
    );
}

/// `tests/layout_width.py`'s measures of the page at `path` in viewports of these widths.
fn layout(path: &Path, widths: &[u32]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layout_width.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(path)
        .args(widths.iter().map(|w| w.to_string()))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "tests/layout_width.py failed (pip install weasyprint): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// In the HTML each piece of post text sits in an element of its own direction (`dir="auto"`):
/// a right-to-left title, name, category, excerpt or related title neither reorders the text
/// around it nor is reordered by it.
#[test]
fn right_to_left_pieces_are_isolated_in_the_html() {
    let issue = Issue::new();
    let html = issue.html();
    let doc = Html::parse_document(&html);
    // The issue itself is left to right, even shown inside a right-to-left mail app.
    assert_eq!(
        select(&doc, "table.wrap")[0].value().attr("dir"),
        Some("ltr")
    );
    let auto = |css: &str| {
        let found = select(&doc, css);
        assert!(!found.is_empty(), "no {css}");
        for e in found {
            assert_eq!(e.value().attr("dir"), Some("auto"), "{css}: {}", e.html());
        }
    };
    auto("td.card h2 a");
    auto("ul.headlines li");
    auto("p.excerpt");
    auto("ul.related li");
    auto("p.meta span");
    // The audit's meta line: the date, the name and the category each isolated, in their order
    // (a date in a right-to-left locale's names is right-to-left text too).
    let meta = select(&doc, "#post-3 p.meta")[0].inner_html();
    assert_eq!(
        meta,
        format!(
            "<span dir=\"auto\">Tue 17 Nov 2026</span> · <span dir=\"auto\">{RTL_AUTHOR}</span> · \
             <span dir=\"auto\">{RTL_CATEGORY}</span>"
        )
    );
    // Several names: each on its own.
    let meta = select(&doc, "#post-1 p.meta")[0].inner_html();
    assert_eq!(
        meta,
        "<span dir=\"auto\">Thu 19 Nov 2026</span> · <span dir=\"auto\">Hiro Nakamura</span>, \
         <span dir=\"auto\">Ana Ruiz</span> · <span dir=\"auto\">Trade Policy</span>"
    );
    // The hidden preheader, which inbox previews show as plain text, isolates it like the text
    // part does.
    let preheader = select(&doc, "div.preheader")[0].text().collect::<String>();
    assert!(
        preheader.contains(&format!(" · \u{2068}{RTL_TITLE}\u{2069} ·")),
        "{preheader:?}"
    );
    let title = select(&doc, "#post-3 h2 a")[0];
    assert_eq!(title.text().collect::<String>(), RTL_TITLE);
    let related: Vec<String> = select(&doc, "#post-3 ul.related li")
        .iter()
        .map(|li| li.text().collect())
        .collect();
    assert_eq!(related, [RTL_RELATED]);
}

/// How a line of the text part shows in a left-to-right mail reader: the Unicode bidi
/// algorithm's visual order for a left-to-right paragraph, without the (invisible) controls.
fn display_ltr(line: &str) -> String {
    display(line, Level::ltr())
}

fn display(line: &str, level: Level) -> String {
    let info = BidiInfo::new(line, Some(level));
    let para = &info.paragraphs[0];
    info.reorder_line(para, para.range.clone())
        .chars()
        .filter(|c| !matches!(c, '\u{2066}'..='\u{2069}' | '\u{202A}'..='\u{202E}'))
        .collect()
}

fn strip_isolates(s: &str) -> String {
    s.replace(['\u{2068}', '\u{2069}'], "")
}

/// In the text part a piece of post text holding right-to-left characters is isolated (U+2068
/// … U+2069), so it shows in its own order and leaves the line's order alone; pieces without
/// any are left as they are.
#[test]
fn right_to_left_pieces_display_in_order_in_the_text_part() {
    let issue = Issue::new();
    let text = issue.text();
    let line = |start: &str| -> String {
        text.lines()
            .find(|l| strip_isolates(l).starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in\n{text}"))
            .to_owned()
    };
    let rtl_shown = |s: &str| display(s, Level::rtl());

    // The meta line: date, then the author, then the category, left to right.
    let meta = line("Tue 17 Nov 2026 · ");
    assert_eq!(
        display_ltr(&meta),
        format!(
            "Tue 17 Nov 2026 · {} · {}",
            rtl_shown(RTL_AUTHOR),
            rtl_shown(RTL_CATEGORY)
        ),
        "{meta:?}"
    );
    // Without the isolates the bidi algorithm swaps the author and the category.
    assert_ne!(display_ltr(&strip_isolates(&meta)), display_ltr(&meta));

    // The title, alone on its line and as a headline, shows as right-to-left text does.
    for (prefix, title) in [
        ("", line(RTL_TITLE)),
        ("* ", line(&format!("* {RTL_TITLE}"))),
    ] {
        assert_eq!(
            display_ltr(&title),
            format!("{prefix}{}", rtl_shown(RTL_TITLE)),
            "{title:?}"
        );
        assert_ne!(display_ltr(&strip_isolates(&title)), display_ltr(&title));
    }
    // The related title under its list marker.
    let related = line(&format!("  - {RTL_RELATED}"));
    assert_eq!(
        display_ltr(&related),
        format!("  - {}", rtl_shown(RTL_RELATED)),
        "{related:?}"
    );

    // Left-to-right pieces get no controls.
    assert!(
        text.contains("Thu 19 Nov 2026 · Hiro Nakamura, Ana Ruiz · Trade Policy\n"),
        "{text}"
    );
    let controls = text
        .lines()
        .filter(|l| l.contains(['\u{2068}', '\u{2069}']))
        .count();
    let rtl_lines = text
        .lines()
        .filter(|l| l.chars().any(|c| ('\u{0590}'..='\u{08FF}').contains(&c)))
        .count();
    assert_eq!(controls, rtl_lines, "{text}");
}

/// The columns a line takes, the bidi controls (zero width) left out.
fn columns(line: &str) -> usize {
    strip_isolates(line).chars().count()
}

/// A line that cannot be wrapped: one word (a URL, the long title) after any indentation and
/// list marker, or a label and its link.
fn unbreakable(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [_] => true,
        ["*" | "-", _] => true,
        [.., label, url] => label.ends_with(':') && url.starts_with("https://"),
        _ => false,
    }
}

/// The text part is wrapped at 72 columns (only lines over 78 are), at spaces only: a long URL
/// or word stays whole on a line of its own, and a list item's continuation lines keep its
/// indentation. So is the text part of the message as mailed.
#[test]
fn the_text_part_is_wrapped_at_72_columns_without_breaking_words_or_urls() {
    let issue = Issue::new();
    let text = issue.text();
    for l in text.lines() {
        assert!(
            columns(l) <= 78 || unbreakable(l),
            "a line of {} columns: {l:?}\n{text}",
            columns(l)
        );
    }
    // The URL and the long word whole, on lines of their own.
    assert!(text.lines().any(|l| l == FORM_URL), "{text}");
    assert!(text.lines().any(|l| l == long_word()), "{text}");
    assert!(
        text.lines().any(|l| l == format!("* {}", long_word())),
        "{text}"
    );
    // The excerpt: wrapped, none of its words broken or lost.
    let start = text.find("Register with the form").expect("excerpt");
    let paragraph = &text[start..text[start..].find("\n\n").expect("end") + start];
    assert!(paragraph.lines().count() > 2, "{paragraph}");
    assert!(
        paragraph.lines().all(|l| columns(l) <= 72 || l == FORM_URL),
        "{paragraph}"
    );
    assert_eq!(
        paragraph.split_whitespace().collect::<Vec<_>>(),
        form_excerpt().split_whitespace().collect::<Vec<_>>()
    );
    // A headline and a related title too long for a line: continued under their text.
    let headline = format!("* {LONG_TITLE}");
    let related = format!("  - {LONG_TITLE}");
    for (item, indent) in [(&headline, 2), (&related, 4)] {
        let wrapped = wrapped_item(&text, item);
        assert!(wrapped.len() > 1, "{item:?} is not wrapped:\n{text}");
        for (i, l) in wrapped.iter().enumerate() {
            assert!(columns(l) <= 72, "{l:?}");
            if i > 0 {
                let lead = l.len() - l.trim_start().len();
                assert_eq!(lead, indent, "continuation {l:?} of {item:?}");
            }
        }
    }
    // Lines up to 78 columns are left as the template wrote them.
    assert!(
        text.contains("\nView in a browser: http://feeds.test/events/digest/2026-W47.html\n"),
        "{text}"
    );

    // What is mailed is that text.
    let eml = issue.file("eml");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("parse")
        .arg(&eml)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mailed = m["parts"][0]["body"].as_str().expect("text part");
    assert_eq!(mailed.replace("\r\n", "\n"), text);
}

/// The lines `item` was wrapped into in `text`: from the line it starts on, as many as hold
/// its words.
fn wrapped_item(text: &str, item: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let head: String = item.chars().take(12).collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("{item:?} not found in\n{text}"));
    let mut out: Vec<String> = Vec::new();
    let mut joined = String::new();
    for l in &lines[start..] {
        out.push((*l).to_owned());
        joined = out.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        if joined.len() >= item.trim().len() {
            break;
        }
    }
    assert_eq!(joined, item.trim(), "{item:?} wrapped as {out:?}");
    out
}

/// A template the user overrides is wrapped the same way, and may isolate pieces with the
/// `isolate` filter; one that does not use it still renders.
#[test]
fn a_user_text_template_is_wrapped_too_and_may_isolate_pieces() {
    let template = "{{ title }}\n\
        {% for e in entries %}{{ e.title | isolate }} ({{ e.authors | map(\"isolate\") | join(\", \") }}): {{ e.excerpt }}\n\
        {% endfor %}Unsubscribe: {{ unsubscribe_url }}\n";
    let issue = Issue::with_templates(&[("digest.txt", template)]);
    let text = issue.text();
    for l in text.lines() {
        assert!(
            columns(l) <= 78 || unbreakable(l),
            "a line of {} columns: {l:?}\n{text}",
            columns(l)
        );
    }
    assert!(text.lines().any(|l| l == FORM_URL), "{text}");
    let rtl = text
        .lines()
        .find(|l| l.contains(RTL_AUTHOR))
        .expect("the RTL post");
    assert!(
        rtl.starts_with(&format!(
            "\u{2068}{RTL_TITLE}\u{2069} (\u{2068}{RTL_AUTHOR}\u{2069}): "
        )),
        "{rtl:?}"
    );
    // `check` accepts it.
    let (code, stdout, stderr) = feedwright(&issue.dir.path().join("config.toml"), &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
