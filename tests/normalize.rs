//! Normalization rules, through the public API.

use chrono::{DateTime, TimeZone, Utc};
use feedwright::model::{DateSource, Link, RawDate, RawPost};
use feedwright::normalize::{
    NormalizeError, clean_url, decode_text, normalize, parse_date, sanitize_html, twin_key,
    xml_safe,
};
use url::Url;

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL")
}

fn fetched() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 7, 1, 12, 0, 0).unwrap()
}

fn date(value: &str, source: DateSource) -> RawDate {
    RawDate {
        value: value.to_string(),
        source,
    }
}

fn post() -> RawPost {
    RawPost {
        title: Some("A post".to_string()),
        body_html: Some("<p>Body text.</p>".to_string()),
        published: vec![date("2024-06-25T10:00:00Z", DateSource::Jsonld)],
        ..RawPost::default()
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

// ---------- canonical URL, twins, ids ----------

#[test]
fn twins_share_a_dedup_key_across_scheme_and_www() {
    let variants = [
        "http://example.org/2024/01/01/post/",
        "https://example.org/2024/01/01/post/",
        "https://www.example.org/2024/01/01/post/",
        "http://WWW.Example.org/2024/01/01/post/#comments",
    ];
    let keys: Vec<String> = variants
        .iter()
        .map(|v| {
            normalize(&url(v), post(), "s", fetched())
                .unwrap()
                .0
                .dedup_key
        })
        .collect();
    assert!(
        keys.iter().all(|k| k == "example.org/2024/01/01/post/"),
        "{keys:?}"
    );
    assert_eq!(
        twin_key("https://www.example.org/a/?x=1#top"),
        "example.org/a/?x=1"
    );
    assert_ne!(
        twin_key("https://example.org/a/"),
        twin_key("https://example.org/b/")
    );
    assert_ne!(
        twin_key("https://example.org/a/"),
        twin_key("https://example.net/a/")
    );
}

#[test]
fn scheme_and_host_the_site_uses_are_kept() {
    let (entry, _) = normalize(&url("http://www.example.org/p/"), post(), "s", fetched()).unwrap();
    assert_eq!(entry.url, "http://www.example.org/p/");
    assert_eq!(entry.id.0, "http://www.example.org/p/");
}

#[test]
fn amp_tracking_parameters_and_fragment_are_removed() {
    let cases = [
        ("https://example.org/p/?amp", "https://example.org/p/"),
        ("https://example.org/p/?amp=1", "https://example.org/p/"),
        (
            "https://example.org/p/?utm_source=x&utm_medium=y&fbclid=1&gclid=2&mc_cid=3&mc_eid=4#frag",
            "https://example.org/p/",
        ),
        (
            "https://example.org/p/?page=2&utm_source=x&lang=en",
            "https://example.org/p/?page=2&lang=en",
        ),
        (
            "https://example.org/p/?b=2&a=1",
            "https://example.org/p/?b=2&a=1",
        ),
        // A source URL's credentials are never part of a post's public link.
        (
            "https://editor:s3cret@example.org/p/#top",
            "https://example.org/p/",
        ),
        ("https://editor@example.org/p/", "https://example.org/p/"),
    ];
    for (input, expected) in cases {
        assert_eq!(clean_url(&url(input)).as_str(), expected, "{input}");
        let (entry, _) = normalize(&url(input), post(), "s", fetched()).unwrap();
        assert_eq!(entry.url, expected, "{input}");
    }
}

#[test]
fn canonical_on_same_site_is_used_and_cleaned() {
    let raw = RawPost {
        canonical: Some(url("https://www.example.org/real/?utm_campaign=z#x")),
        ..post()
    };
    let (entry, warnings) =
        normalize(&url("https://example.org/real/?amp"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.url, "https://www.example.org/real/");
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn canonical_on_foreign_host_is_ignored_with_warning() {
    let raw = RawPost {
        canonical: Some(url("https://spam.example.com/other/")),
        ..post()
    };
    let (entry, warnings) =
        normalize(&url("https://example.org/mine/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.url, "https://example.org/mine/");
    assert!(
        warnings.iter().any(|w| w.contains("spam.example.com")),
        "{warnings:?}"
    );
}

#[test]
fn local_file_page_takes_canonical_of_any_host() {
    let raw = RawPost {
        canonical: Some(url("https://blog.example.net/2024/post/")),
        ..post()
    };
    let (entry, _) = normalize(&url("file:///srv/posts/post.html"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.url, "https://blog.example.net/2024/post/");
}

#[test]
fn no_http_url_is_an_error() {
    let err = normalize(&url("file:///srv/posts/post.html"), post(), "s", fetched()).unwrap_err();
    assert!(matches!(err, NormalizeError::BadUrl(_)));
    let raw = RawPost {
        canonical: Some(url("ftp://example.org/post/")),
        ..post()
    };
    let err = normalize(&url("file:///srv/posts/post.html"), raw, "s", fetched()).unwrap_err();
    assert!(matches!(err, NormalizeError::BadUrl(_)));
}

#[test]
fn wordpress_post_id_gives_shortlink_id_on_canonical_scheme_and_host() {
    let raw = RawPost {
        canonical: Some(url("http://www.example.org:8080/2024/01/01/post/")),
        wp_post_id: Some(4242),
        ..post()
    };
    let (entry, _) = normalize(
        &url("http://example.org:8080/2024/01/01/post/"),
        raw,
        "s",
        fetched(),
    )
    .unwrap();
    assert_eq!(entry.id.0, "http://www.example.org:8080/?p=4242");
    assert_eq!(entry.url, "http://www.example.org:8080/2024/01/01/post/");
    assert!(Url::parse(&entry.id.0).is_ok());
    // The id's twin key is what the store matches twins of ids with.
    assert_eq!(
        twin_key(&entry.id.0),
        twin_key("https://example.org:8080/?p=4242")
    );
}

// ---------- dates ----------

#[test]
fn parse_date_accepts_machine_and_human_forms() {
    let cases = [
        ("2019-04-28T06:01:07+00:00", utc(2019, 4, 28, 6, 1, 7)),
        ("2019-04-28T06:01:07.123456Z", utc(2019, 4, 28, 6, 1, 7)),
        ("2019-04-28T08:01:07+02:00", utc(2019, 4, 28, 6, 1, 7)),
        ("2019-04-28T01:01:07-0500", utc(2019, 4, 28, 6, 1, 7)),
        ("Sun, 28 Apr 2019 06:01:07 +0000", utc(2019, 4, 28, 6, 1, 7)),
        ("Sun, 28 Apr 2019 06:01:07 GMT", utc(2019, 4, 28, 6, 1, 7)),
        ("2019-04-28 06:01:07", utc(2019, 4, 28, 6, 1, 7)),
        ("2019-04-28T06:01:07", utc(2019, 4, 28, 6, 1, 7)),
        ("2024-06-25", utc(2024, 6, 25, 0, 0, 0)),
        ("April 28, 2019", utc(2019, 4, 28, 0, 0, 0)),
        ("28 April 2019", utc(2019, 4, 28, 0, 0, 0)),
        ("Apr 28, 2019", utc(2019, 4, 28, 0, 0, 0)),
        ("Sunday, April 28th, 2019", utc(2019, 4, 28, 0, 0, 0)),
        ("  April   28,  2019 ", utc(2019, 4, 28, 0, 0, 0)),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_date(input), Some(expected), "{input}");
    }
    for bad in [
        "",
        "yesterday",
        "2019-13-45",
        "not a date 2019",
        "By Jane on",
        // WordPress's zero date as PHP prints it, and other years no feed can write.
        "-0001-11-30T00:00:00+00:00",
        "-1-01-01",
        "0099-05-01",
        "+10000-01-01T00:00:00Z",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
}

#[test]
fn a_zero_date_falls_through_to_the_next_candidate() {
    let raw = RawPost {
        published: vec![
            date("-0001-11-30T00:00:00+00:00", DateSource::Meta),
            date("2024-06-01", DateSource::Markup),
        ],
        modified: vec![date("-0001-11-30T00:00:00+00:00", DateSource::Meta)],
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.published, utc(2024, 6, 1, 0, 0, 0));
    assert_eq!(entry.published_source, DateSource::Markup);
    assert_eq!(entry.updated, entry.published);
    assert!(
        warnings.iter().any(|w| w.contains("-0001-11-30")),
        "{warnings:?}"
    );
}

#[test]
fn first_parseable_date_wins_with_its_provenance() {
    let raw = RawPost {
        published: vec![
            date("garbage", DateSource::Jsonld),
            date("2024-06-20T09:30:15.987+00:00", DateSource::Meta),
            date("2024-06-01", DateSource::Markup),
        ],
        modified: vec![date("Sat, 22 Jun 2024 10:00:00 +0000", DateSource::Meta)],
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.published, utc(2024, 6, 20, 9, 30, 15));
    assert_eq!(entry.published_source, DateSource::Meta);
    assert_eq!(entry.updated, utc(2024, 6, 22, 10, 0, 0));
    assert_eq!(entry.updated_source, DateSource::Meta);
    assert!(
        warnings.iter().any(|w| w.contains("garbage")),
        "{warnings:?}"
    );
}

#[test]
fn no_date_means_first_seen_and_updated_follows_published() {
    let raw = RawPost {
        published: vec![],
        ..post()
    };
    let fetched_at = fetched() + chrono::Duration::milliseconds(750);
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched_at).unwrap();
    assert_eq!(entry.published, fetched());
    assert_eq!(entry.published_source, DateSource::FirstSeen);
    assert_eq!(entry.updated, fetched());
    assert_eq!(entry.updated_source, DateSource::FirstSeen);

    let (entry, _) = normalize(&url("https://example.org/p/"), post(), "s", fetched()).unwrap();
    assert_eq!(entry.updated, entry.published);
    assert_eq!(entry.updated_source, DateSource::Jsonld);
}

#[test]
fn future_date_is_clamped_with_a_warning() {
    let raw = RawPost {
        published: vec![date("2030-01-01T00:00:00Z", DateSource::Jsonld)],
        modified: vec![date("2031-01-01T00:00:00Z", DateSource::Jsonld)],
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.published, fetched());
    assert_eq!(entry.updated, fetched());
    // Dated when first seen, so the store keeps the first clamp on later runs.
    assert_eq!(entry.published_source, DateSource::FirstSeen);
    assert_eq!(entry.updated_source, DateSource::FirstSeen);
    assert!(
        warnings.iter().any(|w| w.contains("future")),
        "{warnings:?}"
    );
}

#[test]
fn updated_before_published_becomes_published() {
    let raw = RawPost {
        published: vec![date("2024-06-20T00:00:00Z", DateSource::Jsonld)],
        modified: vec![date("2024-06-10T00:00:00Z", DateSource::Jsonld)],
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.updated, utc(2024, 6, 20, 0, 0, 0));
    assert!(entry.updated >= entry.published);
    assert!(
        warnings.iter().any(|w| w.contains("before published")),
        "{warnings:?}"
    );

    // From a REST API or feed, it is how WordPress publishes a scheduled post: no warning.
    let raw = RawPost {
        published: vec![date("2024-06-20T00:00:00Z", DateSource::Feed)],
        modified: vec![date("2024-06-10T00:00:00Z", DateSource::Feed)],
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.updated, utc(2024, 6, 20, 0, 0, 0));
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// A page whose only date is its modification date (`<time class="updated">`) is dated by it,
/// not published as new when first seen.
#[test]
fn a_modified_date_alone_dates_the_post() {
    let raw = RawPost {
        published: vec![],
        modified: vec![date("2018-08-13T10:00:00Z", DateSource::Markup)],
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.published, utc(2018, 8, 13, 10, 0, 0));
    assert_eq!(entry.published_source, DateSource::Markup);
    assert_eq!(entry.updated, entry.published);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// ---------- titles, summary, names, related ----------

#[test]
fn long_title_is_cut_at_a_word_with_ellipsis_and_warning() {
    let words = "negotiation ".repeat(200); // 2,400 characters
    let raw = RawPost {
        title: Some(words[..2000].to_string()),
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert!(
        entry.title.chars().count() <= 1000,
        "{}",
        entry.title.chars().count()
    );
    assert!(entry.title.chars().count() > 950);
    assert!(
        entry.title.ends_with("negotiation…"),
        "{}",
        &entry.title[entry.title.len() - 20..]
    );
    assert!(warnings.iter().any(|w| w.contains("title")), "{warnings:?}");

    let exact = "é".repeat(1000);
    let raw = RawPost {
        title: Some(exact.clone()),
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.title, exact);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn title_is_trimmed_and_collapsed_verbatim() {
    let raw = RawPost {
        title: Some("  Deals &amp; <b>Tactics</b>\n\t in   2024 ".to_string()),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.title, "Deals &amp; <b>Tactics</b> in 2024");
}

#[test]
fn missing_title_is_derived_from_the_url_with_a_warning() {
    for title in [None, Some("   ".to_string())] {
        let raw = RawPost { title, ..post() };
        let (entry, warnings) = normalize(
            &url("https://example.org/2024/01/01/how-to-negotiate_well/"),
            raw,
            "s",
            fetched(),
        )
        .unwrap();
        assert_eq!(entry.title, "How To Negotiate Well");
        assert!(warnings.iter().any(|w| w.contains("title")), "{warnings:?}");
    }
    let raw = RawPost {
        title: None,
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/?p=12"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.title, "Untitled");
}

#[test]
fn summary_is_plain_text_cut_at_a_word() {
    let raw = RawPost {
        summary: Some(
            "<p>Fish &amp; chips&nbsp;<b>today</b></p><p>and\n\ntomorrow</p>".to_string(),
        ),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    // A no-break space is text (only ASCII white space collapses in HTML).
    assert_eq!(entry.summary, "Fish & chips\u{A0}today and tomorrow");

    let body = format!("<p>{}</p><script>alert(1)</script>", "word ".repeat(200));
    let raw = RawPost {
        summary: None,
        body_html: Some(body),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert!(entry.summary.chars().count() <= 300);
    assert!(entry.summary.ends_with("word…"), "{}", entry.summary);
    assert!(!entry.summary.contains('<') && !entry.summary.contains("alert"));
}

/// Regressions from sites not in English: a summary and a title of Chinese text were cut at
/// the first space (`第1章…`), a summary split a ZWJ emoji family, and French no-break spaces
/// (`Genève&nbsp;:`, `vue&#8239;!`) became plain spaces.
#[test]
fn summaries_and_titles_are_cut_near_the_limit_between_characters_keeping_no_break_spaces() {
    let chinese = "天下大势分久必合合久必分".repeat(60);
    let raw = RawPost {
        title: Some(format!("第1章 {}", &chinese)),
        summary: None,
        body_html: Some(format!("<p>第1章 {chinese}</p>")),
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.summary.chars().count(), 300, "{}", entry.summary);
    assert!(
        entry.summary.starts_with("第1章 天下大势"),
        "{}",
        entry.summary
    );
    assert_eq!(entry.title.chars().count(), 724, "{}", entry.title);
    let raw = RawPost {
        title: Some(format!("第1章 {}", chinese.repeat(2))),
        ..post()
    };
    let (entry, warnings_long) =
        normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.title.chars().count(), 1000, "{}", entry.title);
    assert!(entry.title.ends_with("合久必…"), "{}", entry.title);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(warnings_long, ["title of 1444 characters cut to 1000"]);

    let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
    for pad in 290..300 {
        let raw = RawPost {
            summary: Some(format!("<p>{}{}</p>", "x".repeat(pad), family.repeat(5))),
            ..post()
        };
        let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
        let kept = entry.summary.strip_suffix('…').expect("cut");
        assert!(kept.chars().count() < 300);
        assert!(!kept.ends_with('\u{200D}'), "{pad}: {kept:?}");
        assert!(
            kept.trim_start_matches('x').len() % family.len() == 0,
            "{pad}: {kept:?}"
        );
    }

    let raw = RawPost {
        title: Some("Genève\u{A0}: «\u{A0}accord\u{A0}»…\n vue\u{202F}!".into()),
        summary: Some(
            "<p>Genève&nbsp;: «&nbsp;accord&nbsp;»</p><p>&nbsp;</p><p>Fin&#8239;!</p>".into(),
        ),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(
        entry.summary,
        "Genève\u{A0}: «\u{A0}accord\u{A0}» Fin\u{202F}!"
    );
    assert_eq!(
        entry.title,
        "Genève\u{A0}: «\u{A0}accord\u{A0}»… vue\u{202F}!"
    );
}

#[test]
fn authors_and_categories_are_cleaned_and_deduplicated() {
    let raw = RawPost {
        authors: vec![
            " Jane  Doe ".into(),
            "".into(),
            "jane doe".into(),
            "Bob".into(),
        ],
        categories: vec![
            "Negotiation".into(),
            "  ".into(),
            "NEGOTIATION".into(),
            "Dispute\tResolution".into(),
        ],
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.authors, vec!["Jane Doe", "Bob"]);
    assert_eq!(entry.categories, vec!["Negotiation", "Dispute Resolution"]);
}

/// An author's email address never reaches a name: `Name <address>` (front matter, a page's
/// byline), RSS's `address (Name)` (which feed-rs hands over as `(Name)`) and the like keep the
/// name alone; an address with no name is no author.
#[test]
fn author_names_lose_their_email_addresses() {
    let raw = RawPost {
        authors: vec![
            "Jane Roe <jane@example.org>".into(),
            "(Jane Doe)".into(),
            "ann@example.org (Ann Ames)".into(),
            "\"Bob Brown\" <mailto:bob@example.org>".into(),
            "Cy Coe (cy@example.org)".into(),
            "Di Dee - di.dee+feeds@mail.example.co.uk".into(),
            "nobody@example.org".into(),
            "<eve@example.org>".into(),
            "jane roe".into(),
            "Ed (Edward) Elm".into(),
            "@handle".into(),
        ],
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(
        entry.authors,
        vec![
            "Jane Roe",
            "Jane Doe",
            "Ann Ames",
            "Bob Brown",
            "Cy Coe",
            "Di Dee",
            "Ed (Edward) Elm",
            "@handle"
        ]
    );
}

#[test]
fn related_links_are_absolute_cleaned_unique_and_not_self() {
    let link = |u: &str, t: &str| Link {
        url: u.to_string(),
        title: t.to_string(),
    };
    let raw = RawPost {
        related: vec![
            link(
                "https://example.org/other/?utm_source=rel#c",
                " Other\u{1}  post ",
            ),
            link("http://www.example.org/other/", "Twin of other"),
            link("https://example.org/p/", "Myself"),
            link("/relative/", "Relative"),
            link("javascript:alert(1)", "Evil"),
            link("https://example.org/third/", ""),
        ],
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/?amp"), raw, "s", fetched()).unwrap();
    assert_eq!(
        entry.related,
        vec![
            link("https://example.org/other/", "Other post"),
            link("https://example.org/third/", ""),
        ]
    );
}

#[test]
fn every_text_field_is_xml_safe() {
    let raw = RawPost {
        title: Some("Ti\u{0}tle\u{1b} ]]> \u{FFFE}x".into()),
        authors: vec!["A\u{7}nn".into()],
        categories: vec!["C\u{FFFF}at".into()],
        summary: Some("Sum\u{8}mary ]]>".into()),
        body_html: Some("<p>Bo\u{1}dy &#1; &#x1F; ]]></p>".into()),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s\u{2}rc", fetched()).unwrap();
    assert_eq!(entry.title, "Title ]]> x");
    assert_eq!(entry.authors, vec!["Ann"]);
    assert_eq!(entry.categories, vec!["Cat"]);
    assert_eq!(entry.summary, "Summary ]]>");
    assert_eq!(entry.source, "src");
    for field in [
        &entry.title,
        &entry.summary,
        &entry.content_html,
        &entry.source,
    ] {
        assert_eq!(&xml_safe(field), field);
    }
    assert!(
        entry.content_html.contains("Body"),
        "{}",
        entry.content_html
    );
    assert!(
        entry.content_html.contains("]]&gt;"),
        "{}",
        entry.content_html
    );
}

/// Text fields keep no terminal controls: DEL and the C1 range (U+009B is the 8-bit form of
/// ESC `[`) go, as C0 controls do; NEL, a line break, becomes a space.
#[test]
fn text_fields_lose_c1_controls_and_del() {
    let raw = RawPost {
        title: Some("Red\u{9b}31m \u{7f}alert\u{85}now".into()),
        authors: vec!["A\u{80}nn".into()],
        categories: vec!["C\u{9f}at".into()],
        summary: Some("Sum\u{9b}mary".into()),
        related: vec![Link {
            url: "https://example.org/other/".into(),
            title: "Oth\u{7f}er\u{9b}".into(),
        }],
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.title, "Red31m alert now");
    assert_eq!(entry.authors, vec!["Ann"]);
    assert_eq!(entry.categories, vec!["Cat"]);
    assert_eq!(entry.summary, "Summary");
    assert_eq!(entry.related[0].title, "Other");
}

/// An unclosed right-to-left override in a title or a name would reverse whatever a reader or
/// the digest shows after it: each field closes what it opens, and a closer with nothing to
/// close is dropped. Balanced use (an Arabic name isolated in an English title) is kept.
#[test]
fn bidi_controls_are_balanced_within_each_field() {
    const RLO: char = '\u{202E}';
    const PDF: char = '\u{202C}';
    const RLI: char = '\u{2067}';
    const PDI: char = '\u{2069}';
    let raw = RawPost {
        title: Some(format!("bidi {RLO}gnp.exe")),
        authors: vec![
            format!("Auth {RLO} unterminated"),
            format!("Stray{PDF}{PDI} closers"),
        ],
        categories: vec![format!("{RLI}{RLO}inner{PDI} after")],
        summary: Some(format!(
            "Talk with {RLI}\u{645}\u{62d}\u{645}\u{62f}{PDI} today"
        )),
        related: vec![Link {
            url: "https://example.org/other/".into(),
            title: format!("{RLO}x{PDF}{PDF}y"),
        }],
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.title, format!("bidi {RLO}gnp.exe{PDF}"));
    assert_eq!(
        entry.authors,
        vec![
            format!("Auth {RLO} unterminated{PDF}"),
            "Stray closers".to_string()
        ]
    );
    // The isolate's closer closes the override opened inside it.
    assert_eq!(
        entry.categories,
        vec![format!("{RLI}{RLO}inner{PDI} after")]
    );
    assert_eq!(
        entry.summary,
        format!("Talk with {RLI}\u{645}\u{62d}\u{645}\u{62f}{PDI} today")
    );
    assert_eq!(entry.related[0].title, format!("{RLO}x{PDF}y"));
}

/// Nesting past a depth no real text reaches is dropped, so closing what is open cannot push
/// a field far past its limit.
#[test]
fn deep_bidi_nesting_is_dropped_so_fields_keep_their_limits() {
    let raw = RawPost {
        title: Some("\u{202E}".repeat(2000)),
        authors: vec![format!("{}x", "\u{2067}".repeat(500))],
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert!(
        entry.title.chars().count() <= 1000 + 8,
        "{}",
        entry.title.chars().count()
    );
    assert!(
        entry.authors[0].chars().count() <= 200 + 8,
        "{}",
        entry.authors[0].chars().count()
    );
    // The closer of a dropped opener goes with it: it does not close an outer one.
    const RLE: char = '\u{202B}';
    const PDF: char = '\u{202C}';
    let deep = format!(
        "{}x{PDF}y{}",
        RLE.to_string().repeat(9),
        PDF.to_string().repeat(8)
    );
    let raw = RawPost {
        title: Some(deep),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    let kept = RLE.to_string().repeat(8);
    assert_eq!(
        entry.title,
        format!("{kept}xy{}", PDF.to_string().repeat(8)),
        "the ninth opener's closer closed the eighth"
    );
}

/// A title cut at its limit closes what the cut left open.
#[test]
fn a_cut_title_closes_its_bidi_controls() {
    let raw = RawPost {
        title: Some(format!("\u{202E}{}", "word ".repeat(400))),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert!(
        entry.title.ends_with("…\u{202C}"),
        "{:?}",
        &entry.title[entry.title.len() - 20..]
    );
}

/// Author and category names are bounded like titles: each cut at 200 characters at a word,
/// at most 50 authors and 100 categories (the first ones), with a warning saying so.
#[test]
fn long_and_numerous_names_are_cut_with_warnings() {
    let raw = RawPost {
        authors: std::iter::once("name ".repeat(1200))
            .chain((0..60).map(|i| format!("Author {i}")))
            .collect(),
        categories: (0..300).map(|i| format!("Category {i}")).collect(),
        ..post()
    };
    let (entry, warnings) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert_eq!(entry.authors.len(), 50);
    assert_eq!(
        entry.authors[0].chars().count(),
        200,
        "{}",
        entry.authors[0]
    );
    assert!(entry.authors[0].ends_with("name…"), "{}", entry.authors[0]);
    assert_eq!(entry.authors[49], "Author 48");
    assert_eq!(entry.categories.len(), 100);
    assert_eq!(entry.categories[99], "Category 99");
    for expected in [
        "author name of 5999 characters cut to 200",
        "61 authors: keeping the first 50",
        "300 categories: keeping the first 100",
    ] {
        assert!(
            warnings.iter().any(|w| w == expected),
            "{expected:?} not in {warnings:?}"
        );
    }
}

#[test]
fn xml_safe_removes_only_forbidden_characters() {
    assert_eq!(xml_safe("a\u{0}b\u{8}c\u{b}d\u{c}e\u{1f}f"), "abcdef");
    assert_eq!(xml_safe("x\u{FFFE}\u{FFFF}y"), "xy");
    let allowed = "tab\tlf\ncr\r é 中 😀 \u{7f} \u{85} \u{FFFD}";
    assert_eq!(xml_safe(allowed), allowed);
}

// ---------- HTML ----------

fn base() -> Url {
    url("https://example.org/2024/01/post/")
}

#[test]
fn sanitize_keeps_article_markup() {
    let html = "<h2>Head</h2><p><em>a</em> <strong>b</strong> <code>c</code></p>\
                <blockquote><p>q</p></blockquote><ul><li>1</li></ul>\
                <table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>\
                <figure><img src=\"https://example.org/i.png\" alt=\"Alt\" width=\"10\" height=\"20\" title=\"T\"><figcaption>cap</figcaption></figure>";
    let out = sanitize_html(html, &base());
    for kept in [
        "<h2>Head</h2>",
        "<em>a</em>",
        "<strong>b</strong>",
        "<code>c</code>",
        "<blockquote>",
        "<li>1</li>",
        "<th>h</th>",
        "<td>d</td>",
        "<figcaption>cap</figcaption>",
        "alt=\"Alt\"",
        "width=\"10\"",
        "height=\"20\"",
        "title=\"T\"",
        "src=\"https://example.org/i.png\"",
    ] {
        assert!(out.contains(kept), "{kept} missing in {out}");
    }
}

#[test]
fn sanitize_removes_scripts_handlers_styles_and_dangerous_urls() {
    let html = "<p class=\"x\" id=\"y\" style=\"color:red\" onclick=\"evil()\">Hi</p>\
                <script>alert('x')</script><style>p{}</style>\
                <img src=x onerror=alert(1)>\
                <a href=\"javascript:alert(1)\">js</a><a href=\"JaVaScRiPt:alert(1)\">js2</a>\
                <a href=\" java&#x09;script:alert(1)\">js3</a>\
                <a href=\"data:text/html,<script>alert(1)</script>\">data</a>\
                <iframe src=\"https://evil.example/\"></iframe><object data=\"x\"></object>\
                <embed src=\"x\"><form action=\"/x\"><input name=q></form>\
                <svg><script>alert(1)</script></svg><a href=\"mailto:me@example.org\">mail</a>";
    let out = sanitize_html(html, &base());
    let lower = out.to_ascii_lowercase();
    for banned in [
        "<script",
        "alert",
        "onclick",
        "onerror",
        "style=",
        "class=",
        "id=",
        "javascript:",
        "data:",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<input",
        "<svg",
    ] {
        assert!(!lower.contains(banned), "{banned} in {out}");
    }
    // The frame is gone; what it showed is a link away, like any other link.
    assert!(
        out.contains("<a href=\"https://evil.example/\" rel=\"noopener noreferrer\">"),
        "{out}"
    );
    assert!(out.contains("<p>Hi</p>"), "{out}");
    assert!(out.contains("href=\"mailto:me@example.org\""), "{out}");
    assert!(out.contains(">js</a>"), "link text kept: {out}");
}

#[test]
fn sanitize_makes_urls_absolute_and_links_noopener() {
    let html = "<a href=\"../other/\">o</a><a href=\"/root\">r</a><a href=\"//cdn.example.org/x\">c</a>\
                <img src=\"img.png\"><blockquote cite=\"/source\">q</blockquote>";
    let out = sanitize_html(html, &base());
    assert!(
        out.contains("href=\"https://example.org/2024/01/other/\""),
        "{out}"
    );
    assert!(out.contains("href=\"https://example.org/root\""), "{out}");
    assert!(out.contains("href=\"https://cdn.example.org/x\""), "{out}");
    assert!(
        out.contains("src=\"https://example.org/2024/01/post/img.png\""),
        "{out}"
    );
    assert!(out.contains("cite=\"https://example.org/source\""), "{out}");
    assert_eq!(
        out.matches("rel=\"noopener noreferrer\"").count(),
        3,
        "{out}"
    );
}

/// `href`/`src` values that parse on their own are written out resolved and serialized too:
/// `https:/path` and `https:path` are relative to an https page (as browsers read them), and
/// spaces, line breaks and capitals come out clean.
#[test]
fn sanitize_writes_every_url_out_absolute_and_clean() {
    let html = "<a href=\"https:/2024/05/older-post/\">a</a><a href=\"https:related/\">b</a>\
                <img src=\"https:/wp-content/uploads/chart.png\">\
                <img src=\" https://example.org/space.png \">\
                <a href=\"HTTPS://EXAMPLE.ORG/Caps\">c</a>\
                <a href=\"https://example.org/a\nb\">d</a>";
    let out = sanitize_html(html, &base());
    for wanted in [
        "href=\"https://example.org/2024/05/older-post/\"",
        "href=\"https://example.org/2024/01/post/related/\"",
        "src=\"https://example.org/wp-content/uploads/chart.png\"",
        "src=\"https://example.org/space.png\"",
        "href=\"https://example.org/Caps\"",
        "href=\"https://example.org/ab\"",
    ] {
        assert!(out.contains(wanted), "{wanted} missing in {out}");
    }
    assert!(
        !out.contains("https:/2") && !out.contains("https:r"),
        "{out}"
    );
}

/// DEL and the C1 controls never reach a body, raw or as character references (which HTML
/// maps through windows-1252, so `&#x9B;` is `›`), while the text around them stays.
#[test]
fn sanitize_drops_del_and_c1_controls() {
    let out = sanitize_html("<p>a\u{7f}b\u{85}c\u{9b}31md\u{a0}e &#x9B;</p>", &base());
    assert_eq!(out, "<p>abc31md&nbsp;e \u{203a}</p>");
}

#[test]
fn sanitize_keeps_the_scheme_of_the_base() {
    let out = sanitize_html("<a href=\"/x\">x</a>", &url("http://example.org/p/"));
    assert!(out.contains("href=\"http://example.org/x\""), "{out}");
}

#[test]
fn srcset_candidates_are_made_absolute_or_dropped() {
    let out = sanitize_html(
        "<img src=\"a.jpg\" srcset=\"a-300.jpg 300w, /img/a-600.jpg 600w,https://cdn.example.org/a.jpg 2x\">",
        &base(),
    );
    assert!(
        out.contains(
            "srcset=\"https://example.org/2024/01/post/a-300.jpg 300w, https://example.org/img/a-600.jpg 600w, https://cdn.example.org/a.jpg 2x\""
        ),
        "{out}"
    );
    for bad in [
        "javascript:alert(1) 1x",
        "a.jpg 1x, data:image/png;base64,AAAA 2x",
        "a.jpg 1x onerror",
    ] {
        let out = sanitize_html(&format!("<img src=\"a.jpg\" srcset=\"{bad}\">"), &base());
        assert!(!out.contains("srcset"), "{bad}: {out}");
        assert!(
            out.contains("src=\"https://example.org/2024/01/post/a.jpg\""),
            "{out}"
        );
    }
}

/// A post reached by a link with tracking parameters (a REST API `link`, a feed item's) keeps
/// them out of its body: a `#notes` link points at the clean page, a relative one is unchanged.
#[test]
fn in_page_links_do_not_carry_the_tracking_parameters_of_the_url_read() {
    let raw = RawPost {
        canonical: None,
        body_html: Some("<p><a href=\"#notes\">n</a> <a href=\"other/\">o</a></p>".into()),
        ..post()
    };
    let page = url("https://example.org/p/?utm_source=x&fbclid=abc&lang=en");
    let (entry, _) = normalize(&page, raw, "s", fetched()).unwrap();
    assert!(
        entry
            .content_html
            .contains("href=\"https://example.org/p/?lang=en#notes\""),
        "{}",
        entry.content_html
    );
    assert!(
        entry
            .content_html
            .contains("href=\"https://example.org/p/other/\""),
        "{}",
        entry.content_html
    );
}

#[test]
fn base_href_is_honoured_for_content() {
    let raw = RawPost {
        base_href: Some(url("https://static.example.org/assets/")),
        body_html: Some("<p><img src=\"pic.png\"><a href=\"page.html\">p</a></p>".into()),
        ..post()
    };
    let (entry, _) = normalize(&url("https://example.org/p/"), raw, "s", fetched()).unwrap();
    assert!(
        entry
            .content_html
            .contains("src=\"https://static.example.org/assets/pic.png\""),
        "{}",
        entry.content_html
    );
    assert!(
        entry
            .content_html
            .contains("href=\"https://static.example.org/assets/page.html\"")
    );

    let (entry, _) = normalize(
        &url("https://example.org/p/"),
        RawPost {
            body_html: Some("<img src=\"pic.png\">".into()),
            ..post()
        },
        "s",
        fetched(),
    )
    .unwrap();
    assert!(
        entry
            .content_html
            .contains("src=\"https://example.org/p/pic.png\""),
        "{}",
        entry.content_html
    );
}

#[test]
fn cdata_terminator_and_control_characters_in_content() {
    let out = sanitize_html(
        "<p>a ]]> b\u{1}\u{b}c &#0; &#11; <![CDATA[x]]></p>",
        &base(),
    );
    assert!(!out.contains("]]>"), "{out}");
    assert!(out.contains("]]&gt;"), "{out}");
    assert_eq!(xml_safe(&out), out);
    assert!(out.contains("bc"), "{out}");
}

// ---------- decoding ----------

#[test]
fn windows_1252_bytes_are_decoded() {
    let bytes = b"<p>\x93caf\xe9\x94 \x96 done</p>";
    let expected = "<p>\u{201C}café\u{201D} \u{2013} done</p>";
    assert_eq!(
        decode_text(bytes, Some("text/html; charset=windows-1252")),
        expected
    );
    assert_eq!(
        decode_text(bytes, Some("text/html; charset=\"ISO-8859-1\"")),
        expected
    );
    assert_eq!(
        decode_text(bytes, Some("text/html;charset=latin1")),
        expected
    );
    // Without any label, detection finds it.
    let long = b"<html><body><p>Le \x93caf\xe9\x94 de la rue, d\xe9j\xe0 tr\xe8s fr\xe9quent\xe9 \
                 par les \xe9tudiants et les cr\xe9ateurs du quartier.</p></body></html>";
    let decoded = decode_text(long, None);
    assert!(decoded.contains("\u{201C}café\u{201D}"), "{decoded}");
    assert!(decoded.contains("déjà très fréquenté"), "{decoded}");
}

#[test]
fn byte_order_mark_is_honoured_and_removed() {
    let utf8 = b"\xEF\xBB\xBF<p>caf\xC3\xA9</p>";
    assert_eq!(decode_text(utf8, None), "<p>café</p>");
    assert_eq!(decode_text(utf8, Some("text/html")), "<p>café</p>");
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("héllo".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(decode_text(&utf16le, None), "héllo");
}

#[test]
fn meta_charset_is_used_without_http_charset() {
    let with_meta = b"<html><head><meta charset=\"windows-1252\"><title>x</title></head><body>caf\xe9</body></html>";
    assert!(decode_text(with_meta, Some("text/html")).contains("café"));
    let http_equiv = b"<html><head><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\"></head><body>\x93x\x94</body></html>";
    assert!(decode_text(http_equiv, None).contains("\u{201C}x\u{201D}"));
    // The HTTP header wins over the meta.
    let utf8_meta_latin = "<meta charset=\"iso-8859-1\"><p>café</p>".as_bytes();
    assert!(decode_text(utf8_meta_latin, Some("text/html; charset=utf-8")).contains("café"));
    assert!(decode_text(utf8_meta_latin, None).contains("cafÃ©"));
}

#[test]
fn plain_utf8_is_default() {
    assert_eq!(decode_text("naïve — 中文".as_bytes(), None), "naïve — 中文");
    assert_eq!(decode_text(b"", None), "");
}

// ---------- regressions ----------

/// Lazy-loading themes put a `data:` placeholder in `src` and the real image in `data-src`
/// (with a `<noscript>` copy); the sanitizer once kept only `<img alt="Chart">`.
#[test]
fn regression_lazy_loaded_images_keep_their_real_url() {
    let html = "<p>Before</p><img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\" \
                data-src=\"https://cdn.example.org/chart.png\" class=\"lazyload\" alt=\"Chart\">\
                <noscript><img src=\"https://cdn.example.org/chart.png\" alt=\"Chart\"></noscript>\
                <img data-lazy-src=\"/img/map.png\" data-lazy-srcset=\"/img/map-600.png 600w, /img/map-1200.png 1200w\" alt=\"Map\">\
                <img src=\"\" data-original=\"photo.jpg\" alt=\"Photo\">\
                <img data-srcset=\"/img/only-srcset.png 1x\" alt=\"Srcset only\">\
                <picture><source data-srcset=\"/img/wide.webp 2x\" type=\"image/webp\"><img src=\"/img/wide.jpg\" alt=\"Wide\"></picture>";
    let out = sanitize_html(html, &base());
    let imgs: Vec<&str> = out.split("<img").skip(1).collect();
    assert_eq!(imgs.len(), 5, "{out}");
    for want in [
        "src=\"https://cdn.example.org/chart.png\"",
        "src=\"https://example.org/img/map.png\"",
        "srcset=\"https://example.org/img/map-600.png 600w, https://example.org/img/map-1200.png 1200w\"",
        "src=\"https://example.org/2024/01/post/photo.jpg\"",
        "src=\"https://example.org/img/only-srcset.png\"",
        "srcset=\"https://example.org/img/wide.webp 2x\"",
    ] {
        assert!(out.contains(want), "{want} missing in {out}");
    }
    assert_eq!(out.matches("chart.png").count(), 1, "{out}");
    assert!(!out.contains("data:") && !out.contains("data-"), "{out}");
}

#[test]
fn regression_images_without_a_usable_src_are_dropped() {
    let html = "<p>Text <img src=\"data:image/png;base64,AAAA\" alt=\"Placeholder\"> more</p>\
                <img alt=\"No source\"><img src=\"javascript:alert(1)\" alt=\"Bad\">\
                <img src=\"/ok.png\" alt=\"a &quot;>quoted<img\">";
    let out = sanitize_html(html, &base());
    assert_eq!(out.matches("<img").count(), 1, "{out}");
    assert!(out.contains("src=\"https://example.org/ok.png\""), "{out}");
    assert!(out.contains("<p>Text  more</p>"), "{out}");
}

#[test]
fn regression_lazy_loaded_image_survives_extract_and_normalize() {
    let body = "<html><body class=\"single\"><article class=\"post\"><h1 class=\"entry-title\">Charts</h1>\
                <div class=\"entry-content\"><p>See:</p><img src=\"data:image/svg+xml,%3Csvg%3E\" \
                data-src=\"https://blog.example.org/wp-content/uploads/chart.png\" class=\"lazyload\" alt=\"Chart\">\
                <noscript><img src=\"https://blog.example.org/wp-content/uploads/chart.png\" alt=\"Chart\"></noscript>\
                </div></article></body></html>";
    let page_url = url("https://blog.example.org/charts/");
    let page = feedwright::model::RawPage {
        requested_url: page_url.clone(),
        url: page_url.clone(),
        content_type: Some("text/html".into()),
        body: body.into(),
        fetched_at: fetched(),
    };
    let raw = feedwright::extract::extract_post(&page, &feedwright::config::Selectors::default())
        .expect("post");
    let (entry, _) = normalize(&page_url, raw, "blog", fetched()).expect("entry");
    assert_eq!(
        entry.content_html.matches("<img").count(),
        1,
        "{}",
        entry.content_html
    );
    assert!(
        entry
            .content_html
            .contains("src=\"https://blog.example.org/wp-content/uploads/chart.png\""),
        "{}",
        entry.content_html
    );
}

/// A theme declaring the home page canonical on every post once merged all posts into one.
#[test]
fn regression_same_host_canonical_to_the_site_root_is_ignored() {
    let mut keys = Vec::new();
    for path in ["/one/", "/two/"] {
        let raw = RawPost {
            canonical: Some(url("https://ex.org/")),
            ..post()
        };
        let page = url(&format!("https://ex.org{path}"));
        let (entry, warnings) = normalize(&page, raw, "s", fetched()).unwrap();
        assert_eq!(entry.url, page.as_str());
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("https://ex.org/") && w.contains("root")),
            "{warnings:?}"
        );
        keys.push(entry.dedup_key);
    }
    assert_ne!(keys[0], keys[1]);
    // The home page itself, a root canonical with tracking parameters only, and a post page
    // whose canonical is another page of the site (a twin) keep their canonical.
    for (page, canonical, want) in [
        ("https://www.ex.org/", "https://ex.org/", "https://ex.org/"),
        (
            "https://ex.org/?utm_source=x",
            "https://ex.org/",
            "https://ex.org/",
        ),
        (
            "https://ex.org/?p=12",
            "https://ex.org/?p=12",
            "https://ex.org/?p=12",
        ),
        (
            "http://ex.org/one/?amp",
            "https://ex.org/one/",
            "https://ex.org/one/",
        ),
    ] {
        let raw = RawPost {
            canonical: Some(url(canonical)),
            ..post()
        };
        let (entry, warnings) = normalize(&url(page), raw, "s", fetched()).unwrap();
        assert_eq!(entry.url, want, "{page}");
        assert!(warnings.is_empty(), "{page}: {warnings:?}");
    }
}

// ---------- audio, video and embedded media ----------

/// Audio and video with a download link as fallback once vanished with it, leaving "Listen to
/// the episode:" over nothing.
#[test]
fn regression_audio_and_video_leave_their_fallback_and_a_link() {
    let html = "<p>Listen to the episode:</p>\
                <audio controls><source src=\"/media/ep7.mp3\" type=\"audio/mpeg\">\
                Your browser cannot play it. <a href=\"/media/ep7.mp3\">Download the MP3</a></audio>\
                <p>Or watch:</p>\
                <video controls width=\"640\"><source src=\"/media/ep7.webm\" type=\"video/webm\">\
                <track kind=\"captions\" src=\"/media/ep7.vtt\"><p><a href=\"/media/ep7.webm\">Download the video</a></p></video>\
                <p>Also: <audio src=\"bonus%20track.ogg\"></audio> and more.</p>";
    let out = sanitize_html(html, &base());
    assert_eq!(
        out,
        "<p>Listen to the episode:</p>\
         Your browser cannot play it. <a href=\"https://example.org/media/ep7.mp3\" rel=\"noopener noreferrer\">Download the MP3</a>\
         <p>Or watch:</p>\
         <p><a href=\"https://example.org/media/ep7.webm\" rel=\"noopener noreferrer\">Download the video</a></p>\
         <p>Also: <a href=\"https://example.org/2024/01/post/bonus%20track.ogg\" rel=\"noopener noreferrer\">Audio: bonus track.ogg</a> and more.</p>"
    );
}

/// A media element without a fallback link gets one to its file, named by its title, else its
/// file name; its fallback text follows, and a video's poster shows in the link. WordPress's
/// audio and video shortcodes, linking their file without the `?_=1` of their `src`, get no
/// second link.
#[test]
fn media_without_a_fallback_link_get_one_to_their_file() {
    let out = sanitize_html(
        "<video src=\"/v/talk.mp4\" poster=\"/v/talk.jpg\">Your browser does not play video.</video>",
        &base(),
    );
    assert_eq!(
        out,
        "<a href=\"https://example.org/v/talk.mp4\" rel=\"noopener noreferrer\">\
         <img alt=\"\" src=\"https://example.org/v/talk.jpg\"><br>Video: talk.mp4</a>\
         <br>Your browser does not play video."
    );
    let out = sanitize_html(
        "<audio title=\"  Episode\n 3 \" controls><source src=\"data:audio/mp3;base64,AA\">\
         <source src=\"javascript:alert(1)\"><source data-src=\"https://cdn.example.org/e3.mp3\"></audio>",
        &base(),
    );
    assert_eq!(
        out,
        "<a href=\"https://cdn.example.org/e3.mp3\" rel=\"noopener noreferrer\">Episode 3</a>"
    );
    let wordpress = "<audio class=\"wp-audio-shortcode\" id=\"audio-1-1\" preload=\"none\" \
                     style=\"width: 100%;\" controls=\"controls\"><source type=\"audio/mpeg\" \
                     src=\"https://example.org/wp-content/uploads/ep.mp3?_=1\" />\
                     <a href=\"https://example.org/wp-content/uploads/ep.mp3\">https://example.org/wp-content/uploads/ep.mp3</a></audio>";
    assert_eq!(
        sanitize_html(wordpress, &base()),
        "<a href=\"https://example.org/wp-content/uploads/ep.mp3\" rel=\"noopener noreferrer\">\
         https://example.org/wp-content/uploads/ep.mp3</a>"
    );
    // No http(s) URL, no link: the fallback alone.
    assert_eq!(
        sanitize_html(
            "<video src=\"blob:https://example.org/x\" poster=\"javascript:alert(1)\">No video.</video>\
             <audio src=\"\"></audio><audio src=\"#t=10\">x</audio>",
            &base()
        ),
        "No video. x"
    );
}

/// WordPress's audio and embed blocks became a caption under nothing.
#[test]
fn regression_wordpress_media_blocks_keep_what_their_caption_names() {
    let html = "<figure class=\"wp-block-audio\"><audio controls src=\"https://example.org/wp-content/uploads/ep12.mp3\"></audio>\
                <figcaption class=\"wp-element-caption\">Episode 12 (MP3, 42 min)</figcaption></figure>\
                <figure class=\"wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube\">\
                <div class=\"wp-block-embed__wrapper\">\n<iframe loading=\"lazy\" title=\"The talk, in full\" width=\"500\" \
                height=\"281\" src=\"https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed&amp;start=95\" \
                frameborder=\"0\" allow=\"autoplay; encrypted-media\" allowfullscreen></iframe>\n</div>\
                <figcaption class=\"wp-element-caption\">Watch the talk</figcaption></figure>";
    let out = sanitize_html(html, &base());
    assert_eq!(
        out,
        "<figure><a href=\"https://example.org/wp-content/uploads/ep12.mp3\" rel=\"noopener noreferrer\">Audio: ep12.mp3</a>\
         <figcaption>Episode 12 (MP3, 42 min)</figcaption></figure>\
         <figure><div>\n<a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=95s\" rel=\"noopener noreferrer\">The talk, in full</a>\n</div>\
         <figcaption>Watch the talk</figcaption></figure>"
    );
}

/// Frames, embeds and objects with an http(s) URL become a link named by their title, else by
/// the player or the host; a YouTube or Vimeo player links to the video's page. Without a
/// usable URL, or hidden, they leave nothing, as before.
#[test]
fn embedded_content_becomes_a_link() {
    let cases = [
        (
            "<iframe src=\"https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0\"></iframe>",
            "<a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\" rel=\"noopener noreferrer\">YouTube video</a>",
        ),
        (
            "<iframe src=\"https://www.youtube.com/embed/videoseries?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG\"></iframe>",
            "<a href=\"https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG\" rel=\"noopener noreferrer\">YouTube playlist</a>",
        ),
        (
            "<iframe title=\"Rivers\" src=\"https://player.vimeo.com/video/76979871?h=8272103f6e&amp;badge=0\"></iframe>",
            "<a href=\"https://vimeo.com/76979871/8272103f6e\" rel=\"noopener noreferrer\">Rivers</a>",
        ),
        // Not a video id: the player URL itself.
        (
            "<iframe src=\"https://www.youtube.com/embed/dQw4w9WgX&quot;Q\"></iframe>",
            "<a href=\"https://www.youtube.com/embed/dQw4w9WgX%22Q\" rel=\"noopener noreferrer\">Embedded content (www.youtube.com)</a>",
        ),
        (
            "<iframe src=\"about:blank\" data-lazy-src=\"//maps.example.com/embed?pb=1\"></iframe>",
            "<a href=\"https://maps.example.com/embed?pb=1\" rel=\"noopener noreferrer\">Embedded content (maps.example.com)</a>",
        ),
        (
            "<embed type=\"application/pdf\" src=\"/files/report.pdf\">",
            "<a href=\"https://example.org/files/report.pdf\" rel=\"noopener noreferrer\">Embedded content (example.org)</a>",
        ),
        // The object and the embed inside it show the same video: one link.
        (
            "<object data=\"https://www.youtube.com/v/dQw4w9WgXcQ\"><param name=\"movie\" value=\"x\">\
             <embed src=\"https://www.youtube.com/v/dQw4w9WgXcQ\"></object>",
            "<a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\" rel=\"noopener noreferrer\">YouTube video</a>",
        ),
        (
            "<object data=\"chart.svg\" type=\"image/svg+xml\"><p>Sales chart: up 4%.</p></object>",
            "<a href=\"https://example.org/2024/01/post/chart.svg\" rel=\"noopener noreferrer\">Embedded content (example.org)</a>\
             <p>Sales chart: up 4%.</p>",
        ),
        (
            // Hidden: tracking and advertising frames, not content.
            "<iframe src=\"https://track.example/p\" width=\"0\" height=\"0\"></iframe>\
             <iframe src=\"https://track.example/p\" width=\"1px\" height=\"300\"></iframe>\
             <iframe src=\"https://track.example/p\" style=\"border: 0; DISPLAY : none\"></iframe>\
             <iframe src=\"https://track.example/p\" style=\"visibility:hidden\"></iframe>\
             <iframe src=\"https://track.example/p\" hidden></iframe>\
             <embed src=\"https://track.example/p\" aria-hidden=\"true\">",
            "",
        ),
        (
            "<iframe src=\"javascript:alert(1)\">x</iframe><iframe srcdoc=\"<script>alert(1)</script>\"></iframe>\
             <iframe src=\"data:text/html,hi\"></iframe><embed src=\"vbscript:x\"><object data=\"mailto:a@example.org\"></object>",
            "",
        ),
    ];
    for (html, want) in cases {
        assert_eq!(sanitize_html(html, &base()), want, "{html}");
    }
}

/// `embed/live_stream?channel=…` (11 characters, like a video id) once linked to
/// `watch?v=live_stream` as a "YouTube video", losing the channel; a playlist was a "video".
#[test]
fn regression_youtube_live_streams_and_playlists_are_not_videos() {
    let cases = [
        (
            "<iframe src=\"https://www.youtube.com/embed/live_stream?channel=UCabc\"></iframe>",
            "<a href=\"https://www.youtube.com/channel/UCabc/live\" rel=\"noopener noreferrer\">YouTube live stream</a>",
        ),
        (
            "<iframe title=\"Our channel, live\" src=\"https://www.youtube-nocookie.com/embed/live_stream?channel=UC4R8DWoMoI7CAwX8_LjQHig&amp;autoplay=1\"></iframe>",
            "<a href=\"https://www.youtube.com/channel/UC4R8DWoMoI7CAwX8_LjQHig/live\" rel=\"noopener noreferrer\">Our channel, live</a>",
        ),
        (
            "<iframe src=\"https://www.youtube.com/embed?listType=playlist&amp;list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG\"></iframe>",
            "<a href=\"https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG\" rel=\"noopener noreferrer\">YouTube playlist</a>",
        ),
        // Neither a video id nor a channel: the player URL itself, never `watch?v=`.
        (
            "<iframe src=\"https://www.youtube.com/embed/live_stream\"></iframe>",
            "<a href=\"https://www.youtube.com/embed/live_stream\" rel=\"noopener noreferrer\">Embedded content (www.youtube.com)</a>",
        ),
        (
            "<iframe src=\"https://www.youtube.com/embed/videoseries\"></iframe>",
            "<a href=\"https://www.youtube.com/embed/videoseries\" rel=\"noopener noreferrer\">Embedded content (www.youtube.com)</a>",
        ),
        (
            "<iframe src=\"https://www.youtube.com/embed/abcdefghijZ\"></iframe>",
            "<a href=\"https://www.youtube.com/embed/abcdefghijZ\" rel=\"noopener noreferrer\">Embedded content (www.youtube.com)</a>",
        ),
        (
            "<iframe src=\"https://www.youtube.com/embed/jNQXAC9IVRw?start=12\"></iframe>",
            "<a href=\"https://www.youtube.com/watch?v=jNQXAC9IVRw&amp;t=12s\" rel=\"noopener noreferrer\">YouTube video</a>",
        ),
    ];
    for (html, want) in cases {
        assert_eq!(sanitize_html(html, &base()), want, "{html}");
    }
}

/// A player sized or styled out of sight until a script shows it (`display: none`, a height of
/// 1px kept for an aspect ratio) was taken for a tracking frame and left nothing.
#[test]
fn regression_hidden_players_still_link_what_they_play() {
    let html = "<p>Intro</p><video src=\"https://cdn.example.org/real.mp4\" width=\"100%\" height=\"1px\" \
                style=\"aspect-ratio:16/9\"></video><audio src=\"https://cdn.example.org/pod.mp3\" \
                style=\"display: none\" controls></audio><audio hidden aria-hidden=\"true\">\
                <source src=\"/ep.ogg\"></audio>\
                <iframe src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\" style=\"display:none\"></iframe>\
                <p>Use the player above.</p>";
    assert_eq!(
        sanitize_html(html, &base()),
        "<p>Intro</p><a href=\"https://cdn.example.org/real.mp4\" rel=\"noopener noreferrer\">Video: real.mp4</a> \
         <a href=\"https://cdn.example.org/pod.mp3\" rel=\"noopener noreferrer\">Audio: pod.mp3</a> \
         <a href=\"https://example.org/ep.ogg\" rel=\"noopener noreferrer\">Audio: ep.ogg</a> \
         <a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\" rel=\"noopener noreferrer\">YouTube video</a>\
         <p>Use the player above.</p>"
    );
    // A frame out of sight that plays nothing is still a tracking one.
    assert_eq!(
        sanitize_html(
            "<iframe src=\"https://www.googletagmanager.com/ns.html?id=GTM-X\" height=\"0\" width=\"0\" \
             style=\"display:none;visibility:hidden\"></iframe><iframe src=\"https://ads.example/1\" \
             width=\"1\" height=\"1\"></iframe>",
            &base()
        ),
        ""
    );
}

/// The custom elements scripts turn into players (`<lite-youtube>`, AMP's `<amp-youtube>`,
/// `<amp-vimeo>`, `<amp-audio>`, `<amp-video>`, `<amp-iframe>`) once left nothing: they give
/// the link an `<iframe>`, `<audio>` or `<video>` would.
#[test]
fn regression_player_elements_leave_a_link() {
    let cases = [
        (
            "<lite-youtube videoid=\"dQw4w9WgXcQ\" playlabel=\"Play: Keynote\"></lite-youtube>",
            "<a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\" rel=\"noopener noreferrer\">Play: Keynote</a>",
        ),
        (
            "<lite-youtube videoid=\"jNQXAC9IVRw\" params=\"start=10&amp;modestbranding=2\"></lite-youtube>",
            "<a href=\"https://www.youtube.com/watch?v=jNQXAC9IVRw&amp;t=10s\" rel=\"noopener noreferrer\">YouTube video</a>",
        ),
        (
            "<lite-youtube playlistid=\"PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG\"></lite-youtube>",
            "<a href=\"https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG\" rel=\"noopener noreferrer\">YouTube playlist</a>",
        ),
        // The link to the video it holds for readers without scripts is its link.
        (
            "<lite-youtube videoid=\"ogfYd705cRs\" style=\"background-image: url('https://i.ytimg.com/vi/ogfYd705cRs/hqdefault.jpg');\">\
             <a href=\"https://youtube.com/watch?v=ogfYd705cRs\" class=\"lyt-playbtn\">\
             <span class=\"lyt-visually-hidden\">Play Video: Keynote</span></a></lite-youtube>",
            "<a href=\"https://youtube.com/watch?v=ogfYd705cRs\" rel=\"noopener noreferrer\"><span>Play Video: Keynote</span></a>",
        ),
        (
            "<amp-youtube data-videoid=\"dQw4w9WgXcQ\" layout=\"responsive\" width=\"480\" height=\"270\"></amp-youtube>",
            "<a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\" rel=\"noopener noreferrer\">YouTube video</a>",
        ),
        (
            "<amp-youtube data-live-channelid=\"UCabc\" title=\"Live now\"></amp-youtube>",
            "<a href=\"https://www.youtube.com/channel/UCabc/live\" rel=\"noopener noreferrer\">Live now</a>",
        ),
        (
            "<amp-vimeo data-videoid=\"76979871\" layout=\"responsive\"></amp-vimeo>",
            "<a href=\"https://vimeo.com/76979871\" rel=\"noopener noreferrer\">Vimeo video</a>",
        ),
        (
            "<amp-audio src=\"https://cdn.example.org/amp.mp3\"><div fallback>No HTML5 audio.</div></amp-audio>",
            "<a href=\"https://cdn.example.org/amp.mp3\" rel=\"noopener noreferrer\">Audio: amp.mp3</a><div>No HTML5 audio.</div>",
        ),
        (
            "<amp-video poster=\"/v/p.jpg\" width=\"640\" height=\"360\" layout=\"responsive\">\
             <source src=\"/v/clip.webm\" type=\"video/webm\"></amp-video>",
            "<a href=\"https://example.org/v/clip.webm\" rel=\"noopener noreferrer\">\
             <img alt=\"\" src=\"https://example.org/v/p.jpg\"><br>Video: clip.webm</a>",
        ),
        (
            "<amp-iframe src=\"https://maps.example.com/embed?pb=1\" sandbox=\"allow-scripts\">\
             <amp-img placeholder src=\"/map.png\"></amp-img><div overflow>Read more</div></amp-iframe>",
            "<a href=\"https://maps.example.com/embed?pb=1\" rel=\"noopener noreferrer\">Embedded content (maps.example.com)</a>",
        ),
        // No valid video id: no link, and nothing made up from it.
        (
            "<lite-youtube videoid=\"../../x\"></lite-youtube><amp-youtube data-videoid=\"live_stream\"></amp-youtube>\
             <amp-vimeo data-videoid=\"x\"></amp-vimeo>",
            "",
        ),
    ];
    for (html, want) in cases {
        assert_eq!(sanitize_html(html, &base()), want, "{html}");
    }
}

/// WP Rocket replaces a YouTube frame by an empty `<div class="rll-youtube-player">` its
/// script fills (with the frame in a `<noscript>` beside it): the body kept an empty `<div>`.
#[test]
fn regression_wp_rocket_youtube_placeholder_leaves_a_link() {
    let rocket = "<p>Watch:</p><div class=\"rll-youtube-player\" data-src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\" \
                  data-id=\"dQw4w9WgXcQ\" data-query=\"feature=oembed&amp;start=95\" data-alt=\"Rocket video\"></div>\
                  <noscript><iframe title=\"Rocket video\" src=\"https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed\"></iframe></noscript>\
                  <p>End.</p>";
    assert_eq!(
        sanitize_html(rocket, &base()),
        "<p>Watch:</p><a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=95s\" rel=\"noopener noreferrer\">Rocket video</a>\
         <p>End.</p>"
    );
    // The video id alone, and no title.
    assert_eq!(
        sanitize_html(
            "<div class=\"rll-youtube-player\" data-id=\"jNQXAC9IVRw\"></div>",
            &base()
        ),
        "<a href=\"https://www.youtube.com/watch?v=jNQXAC9IVRw\" rel=\"noopener noreferrer\">YouTube video</a>"
    );
    // Not a YouTube player: no link made up from it.
    assert_eq!(
        sanitize_html(
            "<div class=\"rll-youtube-player\" data-src=\"https://example.org/x\" data-id=\"x\">Text</div>",
            &base()
        ),
        "Text"
    );
}

/// A `<video>` or `<iframe>` in a `<noscript>` (a lazy-loading script's frame, or the only
/// copy of a video) left nothing; now it gives its link, unless a media element outside it
/// (the lazy-loading placeholder beside it) already links to the same video or file.
#[test]
fn regression_media_in_noscript_leave_their_link_once() {
    let html = "<p>Before.</p><noscript><video src=\"https://cdn.example.org/only-in-noscript.mp4\"></video>\
                <p>Enable JavaScript.</p><img src=\"https://track.example/p.gif\" width=\"1\" height=\"1\"></noscript>\
                <p>After.</p>\
                <iframe src=\"about:blank\" data-lazy-src=\"https://player.vimeo.com/video/76979871?autoplay=1\"></iframe>\
                <noscript><iframe src=\"https://player.vimeo.com/video/76979871\"></iframe></noscript>\
                <img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\" data-src=\"https://cdn.example.org/chart.png\" alt=\"Chart\">\
                <noscript><img src=\"https://cdn.example.org/chart.png\" alt=\"Chart\"></noscript>\
                <noscript><iframe src=\"https://www.googletagmanager.com/ns.html?id=GTM-X\" height=\"0\" width=\"0\" \
                style=\"display:none;visibility:hidden\"></iframe></noscript>\
                <noscript><audio src=\"/ep.mp3\">Get the MP3</audio></noscript>\
                <noscript><audio src=\"/ep.mp3?_=1\"></audio><iframe src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\"></iframe></noscript>";
    assert_eq!(
        sanitize_html(html, &base()),
        "<p>Before.</p><a href=\"https://cdn.example.org/only-in-noscript.mp4\" rel=\"noopener noreferrer\">Video: only-in-noscript.mp4</a>\
         <p>After.</p>\
         <a href=\"https://vimeo.com/76979871\" rel=\"noopener noreferrer\">Vimeo video</a> \
         <img alt=\"Chart\" src=\"https://cdn.example.org/chart.png\"> \
         <a href=\"https://example.org/ep.mp3\" rel=\"noopener noreferrer\">Audio: ep.mp3</a><br>Get the MP3 \
         <a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\" rel=\"noopener noreferrer\">YouTube video</a>"
    );
    // As extraction writes a `<noscript>` out: its markup escaped.
    assert_eq!(
        sanitize_html(
            "<noscript>&lt;video src=\"https://cdn.example.org/a.mp4?x=1&amp;amp;y=2\"&gt;&lt;/video&gt;</noscript>",
            &base()
        ),
        "<a href=\"https://cdn.example.org/a.mp4?x=1&amp;y=2\" rel=\"noopener noreferrer\">Video: a.mp4</a>"
    );
}

/// Through extraction too, which once left every `<noscript>` out of the body: a video only
/// there gives its link, WP Rocket's placeholder and the frame it keeps in a `<noscript>` one
/// link, a lazy-loaded image and its `<noscript>` copy one image.
#[test]
fn regression_media_in_noscript_survive_extract_and_normalize() {
    let body = "<html><body class=\"single\"><article class=\"post\"><h1 class=\"entry-title\">Media</h1>\
                <div class=\"entry-content\"><p>Case.</p>\
                <noscript><video src=\"https://cdn.example.org/only-in-noscript.mp4\"></video></noscript>\
                <div class=\"rll-youtube-player\" data-src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\" \
                data-id=\"dQw4w9WgXcQ\" data-query=\"feature=oembed\"></div><noscript><iframe title=\"Rocket video\" \
                src=\"https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed\"></iframe></noscript>\
                <img src=\"data:image/svg+xml,%3Csvg%3E\" data-src=\"https://blog.example.org/chart.png\" alt=\"Chart\">\
                <noscript><img src=\"https://blog.example.org/chart.png\" alt=\"Chart\"></noscript>\
                <p>End.</p></div></article></body></html>";
    let page_url = url("https://blog.example.org/media/");
    let page = feedwright::model::RawPage {
        requested_url: page_url.clone(),
        url: page_url.clone(),
        content_type: Some("text/html".into()),
        body: body.into(),
        fetched_at: fetched(),
    };
    let raw = feedwright::extract::extract_post(&page, &feedwright::config::Selectors::default())
        .expect("post");
    let (entry, _) = normalize(&page_url, raw, "blog", fetched()).expect("entry");
    let html = &entry.content_html;
    assert!(
        html.contains("<a href=\"https://cdn.example.org/only-in-noscript.mp4\" rel=\"noopener noreferrer\">Video: only-in-noscript.mp4</a>"),
        "{html}"
    );
    assert_eq!(html.matches("youtube.com").count(), 1, "{html}");
    assert!(html.contains("watch?v=dQw4w9WgXcQ"), "{html}");
    assert_eq!(html.matches("<img").count(), 1, "{html}");
    assert!(
        !html.contains("<noscript") && !html.contains("&lt;"),
        "{html}"
    );
}

/// The fallback content goes through the policy like the rest of the body: its scripts,
/// handlers, `javascript:` links and forms go, a frame inside it becomes a link, a link inside
/// an element the policy drops does not count as the media's link, and a media element inside
/// a link adds no link of its own.
#[test]
fn media_fallback_brings_back_nothing_the_policy_removes() {
    let html = "<video src=\"/v.mp4\"><script>alert(1)</script><p onclick=\"alert(2)\" style=\"x\">Text</p>\
                <a href=\"javascript:alert(3)\">js</a><iframe src=\"https://frame.example/\"><script>alert(4)</script></iframe>\
                <button><a href=\"/v.mp4\">hidden</a></button><svg><a href=\"/v.mp4\">svg</a></svg>\
                <form action=\"/x\"><input name=\"q\"></form><noscript><a href=\"/v.mp4\">n</a></noscript></video>\
                <a href=\"/page/\"><video src=\"/v2.mp4\" poster=\"/v2.jpg\"></video></a>";
    let out = sanitize_html(html, &base());
    let lower = out.to_ascii_lowercase();
    for banned in [
        "<script",
        "alert",
        "onclick",
        "style=",
        "javascript:",
        "<iframe",
        "<video",
        "<svg",
        "<form",
        "<input",
        "hidden",
        "<button",
        "<noscript",
    ] {
        assert!(!lower.contains(banned), "{banned} in {out}");
    }
    assert_eq!(
        out,
        "<a href=\"https://example.org/v.mp4\" rel=\"noopener noreferrer\">Video: v.mp4</a>\
         <p>Text</p><a rel=\"noopener noreferrer\">js</a> \
         <a href=\"https://frame.example/\" rel=\"noopener noreferrer\">Embedded content (frame.example)</a> \
         <a href=\"https://example.org/page/\" rel=\"noopener noreferrer\"><img alt=\"Video: v2.mp4\" src=\"https://example.org/v2.jpg\"></a>"
    );
}

/// The summary, read from the body, carries what the body now shows (the fallback text and
/// the links' names); read from the post's own summary HTML, the fallback text too, not the
/// frames' content.
#[test]
fn summaries_read_media_as_the_body_shows_them() {
    let raw = RawPost {
        body_html: Some(
            "<p>Listen to the episode:</p><audio src=\"/ep7.mp3\">Get <b>the</b> MP3</audio>\
             <p>Or watch:</p><iframe title=\"The talk\" src=\"https://example.org/embed/1\">inner</iframe>"
                .into(),
        ),
        ..post()
    };
    let (entry, _) = normalize(&base(), raw, "s", fetched()).unwrap();
    assert_eq!(
        entry.summary,
        "Listen to the episode: Audio: ep7.mp3 Get the MP3 Or watch: The talk"
    );
    let raw = RawPost {
        summary: Some(
            "<p>Listen:<audio src=\"/ep7.mp3\"><source src=\"/ep7.ogg\">Get the MP3</audio>then\
             <iframe src=\"/embed/1\">inner</iframe><object data=\"/o\"><param name=\"a\">fallback</object></p>"
                .into(),
        ),
        ..post()
    };
    let (entry, _) = normalize(&base(), raw, "s", fetched()).unwrap();
    assert_eq!(entry.summary, "Listen: Get the MP3 then fallback");
}
