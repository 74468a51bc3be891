//! Prometheus text exposition (format 0.0.4), written by hand.
//!
//! Owns: turning figures already read from the store into `# HELP` / `# TYPE` lines and samples,
//! with label and help escaping. Must not: read the store, the clock or the configuration.
//!
//! A hand-written formatter rather than `metrics-exporter-prometheus`: that crate records values
//! pushed by the process it runs in, while these figures are pulled from the store at every
//! scrape (so they are right whether the daemon or a cron `run` did the work).

use std::fmt::Write as _;

/// The kind of a metric family (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (names end in `_total`).
    Counter,
    /// Any value.
    Gauge,
    /// Cumulative buckets plus `_sum` and `_count`.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One sample line: `<family name><suffix>{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Appended to the family name: `""`, `"_bucket"`, `"_sum"`, `"_count"`.
    pub suffix: &'static str,
    /// Label pairs, in order.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

/// A metric family: its name, help text, kind and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    pub name: &'static str,
    /// One-line description.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// Its samples.
    pub samples: Vec<Sample>,
}

impl Family {
    /// An empty family.
    pub fn new(name: &'static str, help: &'static str, kind: Kind) -> Family {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    /// Add a plain sample.
    pub fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push(Sample {
            suffix: "",
            labels,
            value,
        });
    }

    /// Add one histogram: `buckets` are `(upper bound, cumulative count)` ascending; the `+Inf`
    /// bucket is `count`.
    pub fn push_histogram(
        &mut self,
        labels: Vec<(&'static str, String)>,
        buckets: &[(f64, u64)],
        sum: f64,
        count: u64,
    ) {
        for (le, n) in buckets {
            let mut l = labels.clone();
            l.push(("le", format_value(*le)));
            self.samples.push(Sample {
                suffix: "_bucket",
                labels: l,
                value: *n as f64,
            });
        }
        let mut l = labels.clone();
        l.push(("le", "+Inf".to_owned()));
        self.samples.push(Sample {
            suffix: "_bucket",
            labels: l,
            value: count as f64,
        });
        self.samples.push(Sample {
            suffix: "_sum",
            labels: labels.clone(),
            value: sum,
        });
        self.samples.push(Sample {
            suffix: "_count",
            labels,
            value: count as f64,
        });
    }
}

/// Render families in the text exposition format, each with its `# HELP` and `# TYPE` lines.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for s in &f.samples {
            out.push_str(f.name);
            out.push_str(s.suffix);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", escape_label(v));
                }
                out.push('}');
            }
            out.push(' ');
            out.push_str(&format_value(s.value));
            out.push('\n');
        }
    }
    out
}

/// A label value: backslash, double quote and line feed escaped.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text: backslash and line feed escaped.
pub fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        assert_eq!(escape_label("plain"), "plain");
    }

    #[test]
    fn help_escapes_backslash_and_newline_but_not_quotes() {
        assert_eq!(escape_help("a\\b\n\"c\""), "a\\\\b\\n\"c\"");
    }

    #[test]
    fn values_render_as_integers_floats_and_specials() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
    }

    #[test]
    fn family_renders_help_type_and_labelled_samples() {
        let mut f = Family::new("x_total", "Things.", Kind::Counter);
        f.push(vec![("source", "a\"b".into())], 2.0);
        f.push(vec![], 1.0);
        let text = render(&[f]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "# HELP x_total Things.",
                "# TYPE x_total counter",
                "x_total{source=\"a\\\"b\"} 2",
                "x_total 1",
            ]
        );
    }

    #[test]
    fn histogram_has_cumulative_buckets_inf_sum_and_count() {
        let mut f = Family::new("d_seconds", "Durations.", Kind::Histogram);
        f.push_histogram(vec![("source", "s".into())], &[(0.5, 1), (1.0, 2)], 1.7, 3);
        let text = render(&[f]);
        assert!(text.contains("d_seconds_bucket{source=\"s\",le=\"0.5\"} 1\n"));
        assert!(text.contains("d_seconds_bucket{source=\"s\",le=\"1\"} 2\n"));
        assert!(text.contains("d_seconds_bucket{source=\"s\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("d_seconds_sum{source=\"s\"} 1.7\n"));
        assert!(text.contains("d_seconds_count{source=\"s\"} 3\n"));
    }
}
