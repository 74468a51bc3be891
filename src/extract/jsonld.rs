//! JSON-LD (`<script type="application/ld+json">`): article nodes, their authors (with `@id`
//! references resolved against the graph) and the site's name.
//!
//! Accepts top-level objects, arrays, `@graph` containers and `@type` arrays; unparsable blocks
//! are skipped, never fatal.

use std::collections::{HashMap, HashSet};

use scraper::ElementRef;
use serde_json::Value;

use super::dom::clean_text;

/// Schema.org types read as "the post".
const ARTICLE_TYPES: [&str; 13] = [
    "Article",
    "BlogPosting",
    "NewsArticle",
    "TechArticle",
    "ScholarlyArticle",
    "Report",
    "ReportageNews",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "LiveBlogPosting",
    "SocialMediaPosting",
];

/// Schema.org types whose dates stand in for the post's when no article node exists.
const PAGE_TYPES: [&str; 3] = ["WebPage", "ItemPage", "AboutPage"];

/// What the page's JSON-LD says about the post.
#[derive(Debug, Default)]
pub(crate) struct JsonLd {
    /// Article-like nodes, in document order.
    articles: Vec<Value>,
    /// WebPage-like nodes, in document order.
    pages: Vec<Value>,
    /// Every node with an `@id`, for resolving references.
    by_id: HashMap<String, Value>,
    /// Names of `WebSite` / `Organization` nodes and article publishers.
    pub site_names: Vec<String>,
}

/// The last path segment of a type name (`schema:BlogPosting`, `https://schema.org/Article`).
fn short_type(t: &str) -> &str {
    t.rsplit(['/', ':', '#']).next().unwrap_or(t)
}

fn types(v: &Value) -> Vec<&str> {
    match v.get("@type") {
        Some(Value::String(s)) => vec![short_type(s)],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(short_type).collect(),
        _ => Vec::new(),
    }
}

fn has_type(v: &Value, set: &[&str]) -> bool {
    types(v).iter().any(|t| set.contains(t))
}

/// A string property (or the first string of an array, or an `@value` object).
fn str_prop<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    fn as_text(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("@value").and_then(Value::as_str),
            Value::Array(a) => a.iter().find_map(as_text),
            _ => None,
        }
    }
    v.get(key)
        .and_then(as_text)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Text of a `<script>` block, tolerant of HTML comment / CDATA wrappers and raw control
/// characters inside strings.
fn parse_block(text: &str) -> Option<Value> {
    let t = text.trim();
    let t = t.strip_prefix("<!--").unwrap_or(t);
    let t = t.strip_suffix("-->").unwrap_or(t).trim();
    let t = t.strip_prefix("//").unwrap_or(t).trim_start();
    let t = t.strip_prefix("<![CDATA[").unwrap_or(t);
    let t = t.strip_suffix("]]>").unwrap_or(t).trim_end();
    let t = t.strip_suffix("//").unwrap_or(t).trim();
    if let Ok(v) = serde_json::from_str(t) {
        return Some(v);
    }
    let cleaned: String = t
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    serde_json::from_str(cleaned.trim_end_matches(';')).ok()
}

/// Flatten arrays and `@graph` containers into a list of nodes; an article or page's
/// `mainEntity` object is a node too.
fn flatten(v: Value, out: &mut Vec<Value>, depth: usize) {
    if depth > 8 {
        return;
    }
    match v {
        Value::Array(items) => {
            for item in items {
                flatten(item, out, depth + 1);
            }
        }
        Value::Object(mut o) => {
            if let Some(graph) = o.remove("@graph") {
                flatten(graph, out, depth + 1);
            }
            for key in ["mainEntity", "mainEntityOfPage"] {
                if let Some(inner) = o.get(key)
                    && inner.is_object()
                    && inner.get("@type").is_some()
                {
                    flatten(inner.clone(), out, depth + 1);
                }
            }
            if o.contains_key("@type") || o.contains_key("@id") {
                out.push(Value::Object(o));
            }
        }
        _ => {}
    }
}

impl JsonLd {
    /// Read every JSON-LD block among `scripts` (a document's `script[type]` elements).
    pub(crate) fn from_scripts<'a>(scripts: impl Iterator<Item = ElementRef<'a>>) -> JsonLd {
        let mut nodes = Vec::new();
        for script in scripts {
            let ty = script.value().attr("type").unwrap_or("");
            let essence = ty.split(';').next().unwrap_or("").trim();
            if !essence.eq_ignore_ascii_case("application/ld+json") {
                continue;
            }
            let text: String = script.text().collect();
            if let Some(v) = parse_block(&text) {
                flatten(v, &mut nodes, 0);
            }
        }
        let mut ld = JsonLd::default();
        // The site names already listed, so that a page with thousands of them stays linear.
        let mut seen_sites = HashSet::new();
        for node in nodes {
            if let Some(id) = node.get("@id").and_then(Value::as_str) {
                // The first full definition of an id wins; bare references do not replace it.
                let is_ref_only = node.as_object().is_some_and(|o| o.len() == 1);
                if !is_ref_only {
                    ld.by_id
                        .entry(id.to_string())
                        .or_insert_with(|| node.clone());
                }
            }
            if has_type(&node, &["WebSite", "Organization", "NewsMediaOrganization"])
                && let Some(name) = str_prop(&node, "name")
            {
                push_unique(&mut ld.site_names, &mut seen_sites, clean_text(name));
            }
            if has_type(&node, &ARTICLE_TYPES) {
                if let Some(name) = node.get("publisher").and_then(|p| str_prop(p, "name")) {
                    push_unique(&mut ld.site_names, &mut seen_sites, clean_text(name));
                }
                ld.articles.push(node);
            } else if has_type(&node, &PAGE_TYPES) {
                ld.pages.push(node);
            }
        }
        ld
    }

    /// Is there at least one article-like node?
    pub(crate) fn has_article(&self) -> bool {
        !self.articles.is_empty()
    }

    /// Headline (or name) of the first article node that has one.
    pub(crate) fn headline(&self) -> Option<String> {
        self.articles
            .iter()
            .find_map(|a| str_prop(a, "headline").or_else(|| str_prop(a, "name")))
            .map(clean_text)
            .filter(|s| !s.is_empty())
    }

    /// Values of a date property: article nodes first, then WebPage nodes when no article
    /// node exists.
    pub(crate) fn dates(&self, key: &str) -> Vec<String> {
        let nodes = if self.articles.is_empty() {
            &self.pages
        } else {
            &self.articles
        };
        nodes
            .iter()
            .filter_map(|n| str_prop(n, key))
            .map(str::to_string)
            .collect()
    }

    /// Description of the first article (or page) node that has one.
    pub(crate) fn description(&self) -> Option<String> {
        self.articles
            .iter()
            .chain(self.pages.iter())
            .find_map(|a| str_prop(a, "description"))
            .map(str::to_string)
    }

    /// Author names of the article nodes, `@id` references resolved.
    pub(crate) fn authors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for a in &self.articles {
            if let Some(author) = a.get("author") {
                self.author_names(author, &mut out, 0);
            }
        }
        out
    }

    fn author_names(&self, v: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 4 {
            return;
        }
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => {
                for item in items {
                    self.author_names(item, out, depth + 1);
                }
            }
            Value::Object(_) => {
                if let Some(name) = str_prop(v, "name") {
                    out.push(name.to_string());
                } else if let Some(target) = v
                    .get("@id")
                    .and_then(Value::as_str)
                    .and_then(|id| self.by_id.get(id))
                    && target != v
                {
                    self.author_names(target, out, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// Append `s` unless it is empty or already listed (`seen` holds what `list` holds); keeps the
/// first occurrence's order.
fn push_unique(list: &mut Vec<String>, seen: &mut HashSet<String>, s: String) {
    if !s.is_empty() && !seen.contains(&s) {
        seen.insert(s.clone());
        list.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thousands of site nodes (a hostile page's) are read in linear time: each name once, in
    /// the order of its first node.
    #[test]
    fn many_site_names_are_listed_once_in_order() {
        let n = 50_000;
        let graph: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"@type": "WebSite", "name": format!("s{}", i % (n / 2))}))
            .chain([serde_json::json!({"@type": "BlogPosting", "headline": "H",
                "publisher": {"name": "s1"}})])
            .collect();
        let block = serde_json::json!({"@graph": graph}).to_string();
        let html = format!(
            "<html><head><script type=\"application/ld+json\">{block}</script></head></html>"
        );
        let doc = scraper::Html::parse_document(&html);
        let sel = scraper::Selector::parse("script[type]").unwrap();
        let ld = JsonLd::from_scripts(doc.select(&sel));
        assert_eq!(ld.site_names.len(), n / 2);
        assert_eq!(ld.site_names[..3], ["s0", "s1", "s2"]);
        assert_eq!(ld.site_names.last().map(String::as_str), Some("s24999"));
        assert_eq!(ld.headline().as_deref(), Some("H"));
    }
}
