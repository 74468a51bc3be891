//! Configuration validation through the public API: every message names the key and says what
//! is wrong in words.

use std::path::Path;

use feedwright::config::Config;

const BASE: &str = r#"[[source]]
name = "s"
url = "https://example.org/"
[[feed]]
name = "f"
sources = ["s"]
"#;

/// The error for `text`, as the user sees it.
fn error(text: &str) -> String {
    Config::parse(text, Path::new("config.toml"))
        .expect_err("invalid")
        .to_string()
}

#[test]
fn a_bad_css_selector_is_explained_in_words() {
    let cases = [
        ("h1[[[", "an attribute selector needs a name"),
        ("", "the selector is empty"),
        ("   ", "the selector is empty"),
        ("h1 >", "is not followed by a selector"),
        ("div.", "ends too early"),
        ("a:", "ends too early"),
        ("a:frobnicate", "unsupported pseudo-class"),
        ("a[href=", "ends too early"),
        ("a[href=x y]", "unexpected character"),
        ("a[href=1]", "a name or a quoted string"),
        ("h1 {", "is not followed by a selector"),
        ("@media x", "expected a selector"),
        ("((((", "expected a selector"),
        ("svg|a", "namespace"),
        ("a::", "ends too early"),
        ("a:hover(", "unsupported pseudo-class"),
        ("div.1", "unexpected character"),
        ("a:1", "needs a name after ':'"),
        ("a::1", "needs a name after ':' or '::'"),
    ];
    let mut wrong = Vec::new();
    for (css, words) in cases {
        let text = format!("{BASE}[source.selectors]\ntitle = {css:?}\n");
        let msg = error(&text);
        if !msg.contains(words) {
            wrong.push(msg.clone());
        }
        assert!(
            msg.starts_with(&format!(
                "config.toml: source[0].selectors.title: invalid CSS selector {css:?}: "
            )),
            "{css:?}: {msg}"
        );
        assert!(
            !msg.contains("developer") && !msg.contains('\n'),
            "{css:?}: {msg}"
        );
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_schedule_has_5_or_6_fields_and_no_year() {
    for ok in [
        "*/30 * * * *",
        "0 */30 * * * *",
        "0 8 * * MON",
        "@daily",
        "0 0 29 2 *",
    ] {
        let text = BASE.replace("[[feed]]", &format!("schedule = {ok:?}\n[[feed]]"));
        Config::parse(&text, Path::new("config.toml")).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
    for (bad, fields) in [
        ("0 0 0 1 1 * 2020", 7),
        ("0 0 0 1 1 * *", 7),
        ("0 0 * *", 4),
        ("@daily 2020", 2),
    ] {
        let text = BASE.replace("[[feed]]", &format!("schedule = {bad:?}\n[[feed]]"));
        let msg = error(&text);
        assert!(
            msg.starts_with(&format!(
                "config.toml: source[0].schedule: invalid cron expression {bad:?}: {fields} field(s); use 5"
            )),
            "{msg}"
        );
    }
}

#[test]
fn a_value_of_the_wrong_type_is_named_by_its_key_in_words() {
    for (text, says) in [
        (
            format!("store = \"x\"\n{BASE}"),
            "config.toml: store: TOML parse error at line 1",
        ),
        (
            format!("[http]\nmax_requests = \"lots\"\n{BASE}"),
            "config.toml: http.max_requests: TOML parse error at line 2",
        ),
        (
            BASE.replace("[[feed]]", "max_pages = -1\n[[feed]]"),
            "config.toml: source[0].max_pages: TOML parse error at line 4",
        ),
        (
            format!("{BASE}limit = 2.5\n"),
            "config.toml: feed[0].limit: TOML parse error at line 7",
        ),
    ] {
        let msg = error(&text);
        assert!(msg.starts_with(says), "{msg}");
        assert!(
            msg.contains("expected a table") || msg.contains("expected a whole number"),
            "{msg}"
        );
        assert!(!msg.contains("struct") && !msg.contains("u32"), "{msg}");
    }
    // A syntax error has no key to name.
    let msg = error(&format!("{BASE}name = \n"));
    assert!(
        msg.starts_with("config.toml: TOML parse error at line 7"),
        "{msg}"
    );
}

#[test]
fn a_cron_field_out_of_range_is_named_with_its_range() {
    for (bad, says) in [
        ("60 * * * *", r#"the minute field "60" (0-59)"#),
        ("0 24 * * *", r#"the hour field "24" (0-23)"#),
        ("0 8 32 * *", r#"the day-of-month field "32" (1-31)"#),
        ("0 8 * 13 *", r#"the month field "13" (1-12 or JAN-DEC)"#),
        (
            "0 8 * * FUNDAY",
            r#"the day-of-week field "FUNDAY" (0-7 or SUN-SAT)"#,
        ),
        ("61 0 8 * * *", r#"the seconds field "61" (0-59)"#),
        (
            "0 0 1 1 * 2030",
            r#"the day-of-week field "2030" (0-7 or SUN-SAT; six fields mean seconds first, and there is no year field)"#,
        ),
    ] {
        let text = BASE.replace("[[feed]]", &format!("schedule = {bad:?}\n[[feed]]"));
        let msg = error(&text);
        assert!(
            msg.starts_with(&format!(
                "config.toml: source[0].schedule: invalid cron expression {bad:?}: {says}: "
            )),
            "{msg}"
        );
    }
}

#[test]
fn server_limits_are_checked_and_default_to_256_connections_and_30_s() {
    let cfg = Config::parse(
        &format!("{BASE}[server]\nlisten = \"127.0.0.1:0\"\n"),
        Path::new("config.toml"),
    )
    .expect("valid");
    let server = cfg.server.expect("server");
    assert_eq!((server.max_connections, server.timeout_secs), (256, 30));
    for (keys, key) in [
        ("max_connections = 0", "server.max_connections"),
        ("max_connections = 10001", "server.max_connections"),
        ("timeout_secs = 0", "server.timeout_secs"),
        ("timeout_secs = 301", "server.timeout_secs"),
    ] {
        let msg = error(&format!("{BASE}[server]\n{keys}\n"));
        assert!(
            msg.contains(key) && msg.contains("must be between"),
            "{keys}: {msg}"
        );
    }
    let msg = error(&format!("{BASE}[server]\nmax_connection = 5\n"));
    assert!(msg.contains("max_connection"), "{msg}");
}

/// `[server] proxies` takes addresses and networks, read as networks; anything else is an
/// error naming the key and the value.
#[test]
fn server_proxies_are_addresses_or_networks() {
    let cfg = Config::parse(
        &format!(
            "{BASE}[server]\nproxies = [\"192.0.2.7\", \"10.1.2.3/16\", \"2001:db8::/48\", \"::ffff:192.0.2.9\"]\n"
        ),
        Path::new("config.toml"),
    )
    .expect("valid");
    let networks: Vec<String> = cfg
        .server
        .expect("server")
        .proxy_networks()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        networks,
        [
            "192.0.2.7/32",
            "10.1.0.0/16",
            "2001:db8::/48",
            "192.0.2.9/32"
        ]
    );
    for bad in ["proxy.example.org", "10.0.0.0/33", "10.0.0.5:8080", ""] {
        let msg = error(&format!("{BASE}[server]\nproxies = [{bad:?}]\n"));
        assert!(
            msg.contains("server.proxies")
                && msg.contains(&format!("{bad:?} is not an IP address")),
            "{bad}: {msg}"
        );
    }
}

/// A source URL's credentials never reach an error message: an invalid URL is quoted without
/// them, and so is the line a TOML syntax error shows.
#[test]
fn config_errors_quote_urls_without_their_credentials() {
    let bad_port = BASE.replace(
        "https://example.org/",
        "http://alice:Sup3rSecret@127.0.0.1:99999/cat/",
    );
    let message = error(&bad_port);
    assert!(message.contains("source[0].url"), "{message}");
    assert!(message.contains("http://127.0.0.1:99999/cat/"), "{message}");
    assert!(
        !message.contains("Sup3rSecret") && !message.contains("alice"),
        "{message}"
    );

    let syntax = BASE.replace(
        "url = \"https://example.org/\"",
        "url = \"https://alice:Sup3rSecret@example.org/\" oops",
    );
    let message = error(&syntax);
    assert!(message.contains("https://example.org/"), "{message}");
    assert!(!message.contains("Sup3rSecret"), "{message}");
}

/// `[[feed]] language` is a BCP 47 tag: accepted in any case and written in its canonical one,
/// refused (naming the key) when it is not a tag; a POSIX name gets the hyphenated spelling.
#[test]
fn a_feed_language_is_a_bcp47_tag() {
    let with = |lang: &str| format!("{BASE}language = \"{lang}\"\n");
    for (given, written) in [
        ("fr", "fr"),
        ("FR-ca", "fr-CA"),
        ("zh-hant-tw", "zh-Hant-TW"),
    ] {
        let cfg = Config::parse(&with(given), Path::new("config.toml")).expect(given);
        assert_eq!(cfg.feeds[0].language().as_deref(), Some(written), "{given}");
    }
    let cfg = Config::parse(BASE, Path::new("config.toml")).expect("base");
    assert_eq!(cfg.feeds[0].language(), None, "no language by default");
    let err = error(&with("pt_BR"));
    assert!(
        err.contains("feed[0].language") && err.contains("\"pt-BR\""),
        "{err}"
    );
    for bad in ["", "french language", "en-", "x"] {
        let err = error(&with(bad));
        assert!(err.contains("feed[0].language"), "{bad:?}: {err}");
        assert!(err.contains("BCP 47"), "{bad:?}: {err}");
    }
}

/// `[digest] locale` as `$LANG` writes it (`fr_FR.UTF-8`), in any case, or as a bare language:
/// `<language>_<LANGUAGE>` when chrono has it, else the language's only locale; a language of
/// several locales is an error listing them.
#[test]
fn a_digest_locale_may_carry_a_codeset_or_be_a_bare_language() {
    use chrono::Locale;
    use feedwright::config::date_locale;
    for (given, locale) in [
        ("fr_FR.UTF-8", Locale::fr_FR),
        ("de_DE.utf8", Locale::de_DE),
        ("sr_RS.UTF-8@latin", Locale::sr_RS_latin),
        ("FR_fr", Locale::fr_FR),
        ("pt-br", Locale::pt_BR),
        ("fr", Locale::fr_FR),
        ("de", Locale::de_DE),
        ("es", Locale::es_ES),
        ("ja", Locale::ja_JP),
        ("he", Locale::he_IL),
        ("fa", Locale::fa_IR),
        ("ja.UTF-8", Locale::ja_JP),
    ] {
        // chrono's `Locale` has no `Debug`.
        assert!(date_locale(given) == Ok(locale), "{given}");
    }
    let Err(err) = date_locale("ar") else {
        panic!("several Arabic locales")
    };
    assert!(err.contains("ar_EG") && err.contains("ar_SY"), "{err}");
    let Err(err) = date_locale("en") else {
        panic!("several English locales")
    };
    assert!(err.contains("en_GB") && err.contains("en_US"), "{err}");
    assert!(date_locale("xx").is_err());
    assert!(date_locale("xx_YY.UTF-8").is_err());
    assert!(date_locale("français").is_err());
    let digest =
        format!("{BASE}[digest]\nfeed = \"f\"\nfrom = \"a@example.org\"\nlocale = \"en\"\n");
    let err = error(&digest);
    assert!(
        err.contains("digest.locale") && err.contains("en_US"),
        "{err}"
    );
}
