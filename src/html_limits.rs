//! A linear look at untrusted HTML before html5ever parses it.
//!
//! Owns: refusing markup that would make html5ever (through scraper, ammonia or dom_smoothie)
//! spend minutes on a page of a few hundred kilobytes: its tree builder scans the stack of open
//! elements for most tags, so nesting N elements deep costs N² steps; its tokenizer compares
//! every attribute of a tag with the ones before it; and long runs of character references are
//! quadratic too; and formatting elements a block closed are reopened at the next text, so a
//! short page can make millions of nodes. [`check`] counts them in one pass over the bytes,
//! with limits no real page comes near. Must not: parse into a tree, allocate per byte, or refuse a page for
//! anything else. Pure.
//!
//! The nesting it counts is an estimate that errs upwards: a small model of the tree builder's
//! stack of open elements (void elements, raw text such as `<script>` and comments, the end tags
//! a missing `</p>`, `</li>`, `</td>` … imply, misnested end tags that html5ever ignores,
//! formatting elements it reopens after a block closes, `<svg>`/`<math>` content), so that no
//! trick of the HTML parsing rules makes html5ever's stack deeper than the estimate by more
//! than a small factor, while a real page's estimate stays close to its real depth.

use std::collections::HashMap;

/// The deepest nesting accepted (elements open at once, estimated as above). Real pages,
/// WordPress themes and page builders included, stay under 100.
pub const MAX_DEPTH: usize = 512;
/// The most nesting work accepted: the number of open elements summed over every tag, which
/// is what html5ever's scans of its stack cost. Deep nesting is refused by [`MAX_DEPTH`]; this
/// refuses a large page that nests hundreds deep over and over. A real page of 10 MB, nested
/// 40 deep throughout, needs about 20 million.
pub const MAX_NESTING_WORK: usize = 100_000_000;
/// The most elements accepted, counting those html5ever opens again by itself: a formatting
/// element closed by a block's end is reopened at the next text, so a few hundred of them
/// before a run of `<p>x` make a 40 KB page a tree of millions of nodes. A real page of 10 MB
/// has about half a million.
pub const MAX_ELEMENTS: usize = 1_000_000;
/// The most attributes accepted on one tag. Real tags carry a handful, rarely 30.
pub const MAX_ATTRIBUTES: usize = 128;
/// The most character references (`&amp;`, `&#8217;` …) accepted in one page, in text and
/// attribute values. A long post has a few thousand.
pub const MAX_CHAR_REFS: usize = 200_000;

/// What a page exceeded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error("HTML nested more than {MAX_DEPTH} elements deep")]
    Depth,
    #[error(
        "HTML nested too deep for its size (open elements summed over its tags above \
         {MAX_NESTING_WORK})"
    )]
    NestingWork,
    #[error("more than {MAX_ELEMENTS} HTML elements (counting those the parser reopens)")]
    Elements,
    #[error("an HTML tag with more than {MAX_ATTRIBUTES} attributes")]
    Attributes,
    #[error("more than {MAX_CHAR_REFS} character references")]
    CharRefs,
}

/// Refuse `html` when html5ever would nest more than [`MAX_DEPTH`] elements (or do more than
/// [`MAX_NESTING_WORK`] of nesting in all), build more than [`MAX_ELEMENTS`], meet a tag with more than [`MAX_ATTRIBUTES`]
/// attributes, or more than [`MAX_CHAR_REFS`] character references. One pass over the bytes.
///
/// # Errors
///
/// The first limit exceeded.
pub fn check(html: &str) -> Result<(), Exceeded> {
    Scanner::default().run(html.as_bytes()).map(|_| ())
}

/// Properties of an element name that the model needs.
const SPECIAL: u16 = 1; // the parsing spec's "special" category
const SCOPE: u16 = 1 << 1; // bounds "has an element in scope"
const TABLE_SCOPE: u16 = 1 << 2; // bounds "in table scope"
const FORMATTING: u16 = 1 << 3;
const VOID: u16 = 1 << 4;
const RAW_TEXT: u16 = 1 << 5; // content is text up to the matching end tag
const CLOSES_P: u16 = 1 << 6; // a start tag that closes an open <p>
const BREAKOUT: u16 = 1 << 7; // a start tag that leaves svg/math content
const TABLE_PART: u16 = 1 << 8; // ignored outside a table
const HEADING: u16 = 1 << 9;
const INTEGRATION: u16 = 1 << 10; // svg/math element whose content is HTML again

const ELEMENTS: &[(&str, u16)] = &[
    ("a", FORMATTING),
    ("address", SPECIAL | CLOSES_P),
    ("annotation-xml", SPECIAL | SCOPE | INTEGRATION),
    ("applet", SPECIAL | SCOPE),
    ("area", SPECIAL | VOID),
    ("article", SPECIAL | CLOSES_P),
    ("aside", SPECIAL | CLOSES_P),
    ("b", FORMATTING | BREAKOUT),
    ("base", SPECIAL | VOID),
    ("basefont", SPECIAL | VOID),
    ("bgsound", SPECIAL | VOID),
    ("big", FORMATTING | BREAKOUT),
    ("blockquote", SPECIAL | CLOSES_P | BREAKOUT),
    ("body", SPECIAL | BREAKOUT),
    ("br", SPECIAL | VOID | BREAKOUT),
    ("button", SPECIAL),
    ("caption", SPECIAL | SCOPE | TABLE_PART),
    ("center", SPECIAL | CLOSES_P | BREAKOUT),
    ("code", FORMATTING | BREAKOUT),
    ("col", SPECIAL | VOID | TABLE_PART),
    ("colgroup", SPECIAL | TABLE_PART),
    ("dd", SPECIAL | CLOSES_P | BREAKOUT),
    ("desc", SPECIAL | SCOPE | INTEGRATION),
    ("details", SPECIAL | CLOSES_P),
    ("dialog", CLOSES_P),
    ("dir", SPECIAL | CLOSES_P),
    ("div", SPECIAL | CLOSES_P | BREAKOUT),
    ("dl", SPECIAL | CLOSES_P | BREAKOUT),
    ("dt", SPECIAL | CLOSES_P | BREAKOUT),
    ("em", FORMATTING | BREAKOUT),
    ("embed", SPECIAL | VOID | BREAKOUT),
    ("fieldset", SPECIAL | CLOSES_P),
    ("figcaption", SPECIAL | CLOSES_P),
    ("figure", SPECIAL | CLOSES_P),
    ("font", FORMATTING),
    ("footer", SPECIAL | CLOSES_P),
    ("foreignobject", SPECIAL | SCOPE | INTEGRATION),
    ("form", SPECIAL | CLOSES_P),
    ("frame", SPECIAL | VOID),
    ("frameset", SPECIAL),
    ("h1", SPECIAL | CLOSES_P | BREAKOUT | HEADING),
    ("h2", SPECIAL | CLOSES_P | BREAKOUT | HEADING),
    ("h3", SPECIAL | CLOSES_P | BREAKOUT | HEADING),
    ("h4", SPECIAL | CLOSES_P | BREAKOUT | HEADING),
    ("h5", SPECIAL | CLOSES_P | BREAKOUT | HEADING),
    ("h6", SPECIAL | CLOSES_P | BREAKOUT | HEADING),
    ("head", SPECIAL | BREAKOUT),
    ("header", SPECIAL | CLOSES_P),
    ("hgroup", SPECIAL | CLOSES_P),
    ("hr", SPECIAL | VOID | CLOSES_P | BREAKOUT),
    ("html", SPECIAL | SCOPE | TABLE_SCOPE),
    ("i", FORMATTING | BREAKOUT),
    ("iframe", SPECIAL | RAW_TEXT),
    ("image", VOID),
    ("img", SPECIAL | VOID | BREAKOUT),
    ("input", SPECIAL | VOID),
    ("keygen", SPECIAL | VOID),
    ("li", SPECIAL | CLOSES_P | BREAKOUT),
    ("link", SPECIAL | VOID),
    ("listing", SPECIAL | CLOSES_P | BREAKOUT),
    ("main", SPECIAL | CLOSES_P),
    ("marquee", SPECIAL | SCOPE),
    ("menu", SPECIAL | CLOSES_P | BREAKOUT),
    ("meta", SPECIAL | VOID | BREAKOUT),
    ("mi", SPECIAL | SCOPE | INTEGRATION),
    ("mn", SPECIAL | SCOPE | INTEGRATION),
    ("mo", SPECIAL | SCOPE | INTEGRATION),
    ("ms", SPECIAL | SCOPE | INTEGRATION),
    ("mtext", SPECIAL | SCOPE | INTEGRATION),
    ("nav", SPECIAL | CLOSES_P),
    ("nobr", FORMATTING | BREAKOUT),
    ("noembed", SPECIAL | RAW_TEXT),
    ("noframes", SPECIAL | RAW_TEXT),
    // Raw text only when scripting is on; parsed as markup here, which can only count more.
    ("noscript", SPECIAL),
    ("object", SPECIAL | SCOPE),
    ("ol", SPECIAL | CLOSES_P | BREAKOUT),
    ("p", SPECIAL | CLOSES_P | BREAKOUT),
    ("param", SPECIAL | VOID),
    ("plaintext", SPECIAL | CLOSES_P),
    ("pre", SPECIAL | CLOSES_P | BREAKOUT),
    ("ruby", BREAKOUT),
    ("s", FORMATTING | BREAKOUT),
    ("script", SPECIAL | RAW_TEXT),
    ("search", SPECIAL | CLOSES_P),
    ("section", SPECIAL | CLOSES_P),
    ("select", SPECIAL),
    ("small", FORMATTING | BREAKOUT),
    ("source", SPECIAL | VOID),
    ("span", BREAKOUT),
    ("strike", FORMATTING | BREAKOUT),
    ("strong", FORMATTING | BREAKOUT),
    ("style", SPECIAL | RAW_TEXT),
    ("sub", BREAKOUT),
    ("summary", SPECIAL | CLOSES_P),
    ("sup", BREAKOUT),
    ("table", SPECIAL | SCOPE | TABLE_SCOPE | BREAKOUT),
    ("tbody", SPECIAL | TABLE_PART),
    ("td", SPECIAL | SCOPE | TABLE_PART),
    ("template", SPECIAL | SCOPE | TABLE_SCOPE),
    ("textarea", SPECIAL | RAW_TEXT),
    ("tfoot", SPECIAL | TABLE_PART),
    ("th", SPECIAL | SCOPE | TABLE_PART),
    ("thead", SPECIAL | TABLE_PART),
    ("title", SPECIAL | RAW_TEXT | INTEGRATION),
    ("tr", SPECIAL | TABLE_PART),
    ("track", SPECIAL | VOID),
    ("tt", FORMATTING | BREAKOUT),
    ("u", FORMATTING | BREAKOUT),
    ("ul", SPECIAL | CLOSES_P | BREAKOUT),
    ("var", BREAKOUT),
    ("wbr", SPECIAL | VOID),
    ("xmp", SPECIAL | CLOSES_P | RAW_TEXT),
];

/// A tag name as a number: up to 8 bytes packed (lower-cased), longer names hashed with the
/// top bit set.
fn key(name: &[u8]) -> u64 {
    if name.len() <= 8 {
        let mut k = 0u64;
        for &b in name {
            k = (k << 8) | u64::from(b.to_ascii_lowercase());
        }
        k
    } else {
        hash(name.iter().map(u8::to_ascii_lowercase)) | (1 << 63)
    }
}

fn hash(bytes: impl Iterator<Item = u8>) -> u64 {
    // FNV-1a: enough to tell names and attribute lists apart.
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn props(k: u64) -> u16 {
    // Sorted by key once; a binary search per tag is cheaper than hashing the key.
    static TABLE: std::sync::LazyLock<Vec<(u64, u16)>> = std::sync::LazyLock::new(|| {
        let mut t: Vec<(u64, u16)> = ELEMENTS
            .iter()
            .map(|(n, p)| (key(n.as_bytes()), *p))
            .collect();
        t.sort_unstable();
        t
    });
    TABLE
        .binary_search_by_key(&k, |e| e.0)
        .map_or(0, |at| TABLE[at].1)
}

const fn k(name: &str) -> u64 {
    let b = name.as_bytes();
    let mut k = 0u64;
    let mut i = 0;
    while i < b.len() {
        k = (k << 8) | b[i] as u64;
        i += 1;
    }
    k
}

const P: u64 = k("p");
const LI: u64 = k("li");
const DD: u64 = k("dd");
const DT: u64 = k("dt");
const OL: u64 = k("ol");
const UL: u64 = k("ul");
const TD: u64 = k("td");
const TH: u64 = k("th");
const TR: u64 = k("tr");
const TBODY: u64 = k("tbody");
const THEAD: u64 = k("thead");
const TFOOT: u64 = k("tfoot");
const TABLE: u64 = k("table");
const BUTTON: u64 = k("button");
const FORM: u64 = k("form");
const A: u64 = k("a");
const FONT: u64 = k("font");
const SVG: u64 = k("svg");
const MATH: u64 = k("math");
const OPTION: u64 = k("option");
const ADDRESS: u64 = k("address");
const DIV: u64 = k("div");
const HTML: u64 = k("html");
const HEAD: u64 = k("head");
const BODY: u64 = k("body");
const BR: u64 = k("br");
const PLAINTEXT: u64 = k("plaintext");
const SELECT: u64 = k("select");

/// One entry of the modelled stack of open elements.
#[derive(Clone, Copy)]
struct Open {
    name: u64,
    props: u16,
    /// An svg/math element (other than an integration point's HTML content).
    foreign: bool,
    /// For formatting elements: the attributes, as html5ever compares them when it caps how many
    /// identical ones it reopens (roughly: the same text counts as the same).
    attrs: u64,
}

/// How far a search down the stack goes: the nearest entry that is the target (`Some`), or
/// none before a boundary.
#[derive(Clone, Copy)]
enum Scope {
    /// Boundaries: `SCOPE` elements (plus the extra names).
    Default(u64, u64),
    /// Boundaries: `TABLE_SCOPE` elements.
    Table,
}

#[derive(Default)]
struct Scanner {
    stack: Vec<Open>,
    /// Formatting elements closed by something other than their own end tag, which html5ever
    /// reopens at the next text or inline start tag.
    reopen: Vec<Open>,
    /// How many of each (name, attributes) wait in `reopen` (html5ever keeps at most three).
    reopen_count: HashMap<(u64, u64), u8>,
    /// Character references so far.
    refs: usize,
    /// Open elements summed over the tags so far.
    work: usize,
    /// Open `<p>` elements, so that most block start tags need not look for one.
    open_p: usize,
    /// Elements opened so far.
    elements: usize,
    deepest: usize,
}

impl Scanner {
    /// Scan `s`; the deepest nesting met.
    fn run(mut self, s: &[u8]) -> Result<usize, Exceeded> {
        let mut i = 0;
        let mut text = false;
        while i < s.len() {
            let Some(at) = s[i..]
                .iter()
                .position(|&b| b == b'<' || b == b'&')
                .map(|p| p + i)
            else {
                break;
            };
            text |= at > i;
            i = at;
            if s[i] == b'&' {
                self.char_ref(s, i)?;
                text = true;
                i += 1;
                continue;
            }
            // `<`
            let next = s.get(i + 1).copied();
            match next {
                Some(b'!') => {
                    i = skip_markup_declaration(s, i);
                }
                Some(b'?') => {
                    i = find(s, i + 2, b'>').map_or(s.len(), |e| e + 1);
                }
                Some(b'/') => match s.get(i + 2) {
                    Some(c) if c.is_ascii_alphabetic() => {
                        if text {
                            self.text()?;
                            text = false;
                        }
                        let (name, end, _) = self.tag(s, i + 2)?;
                        self.count_work()?;
                        self.end_tag(key(name));
                        i = end;
                    }
                    Some(b'>') => i += 3,
                    Some(_) => i = find(s, i + 2, b'>').map_or(s.len(), |e| e + 1),
                    None => i = s.len(),
                },
                Some(c) if c.is_ascii_alphabetic() => {
                    if text {
                        self.text()?;
                        text = false;
                    }
                    let (name, end, tag) = self.tag(s, i + 1)?;
                    let name_key = key(name);
                    self.count_work()?;
                    i = end;
                    if let Some(raw) = self.start_tag(name_key, tag)? {
                        if raw == PLAINTEXT {
                            return Ok(self.deepest);
                        }
                        i = skip_raw_text(s, i, name).unwrap_or(s.len());
                        // Only a textarea's or a title's text holds character references.
                        if raw == k("textarea") || raw == k("title") {
                            self.refs += s[end..i].iter().filter(|&&b| b == b'&').count();
                            if self.refs > MAX_CHAR_REFS {
                                return Err(Exceeded::CharRefs);
                            }
                        }
                    }
                }
                _ => {
                    text = true;
                    i += 1;
                }
            }
        }
        Ok(self.deepest)
    }

    /// A `&` at `at`: counted when it can start a character reference.
    fn char_ref(&mut self, s: &[u8], at: usize) -> Result<(), Exceeded> {
        if s.get(at + 1)
            .is_some_and(|c| *c == b'#' || c.is_ascii_alphanumeric())
        {
            self.refs += 1;
            if self.refs > MAX_CHAR_REFS {
                return Err(Exceeded::CharRefs);
            }
        }
        Ok(())
    }

    /// Text before a tag: html5ever reopens the formatting elements a block closed.
    fn text(&mut self) -> Result<(), Exceeded> {
        self.reconstruct()
    }

    /// Read a tag from its name at `at` to its `>`: the name, the index after the tag, and what
    /// the start-tag rules need (attribute hash, self-closing, a `font` leaving svg).
    fn tag<'s>(&mut self, s: &'s [u8], at: usize) -> Result<(&'s [u8], usize, Tag), Exceeded> {
        let mut i = at;
        while i < s.len() && !matches!(s[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>') {
            i += 1;
        }
        let name = &s[at..i];
        let attrs_start = i;
        let mut tag = Tag::default();
        let mut attributes = 0usize;
        loop {
            // Between attributes.
            while i < s.len() && matches!(s[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/') {
                if s[i] == b'/' && s.get(i + 1) == Some(&b'>') {
                    tag.self_closing = true;
                }
                i += 1;
            }
            if i >= s.len() {
                break;
            }
            if s[i] == b'>' {
                i += 1;
                break;
            }
            // A name: its first character may be anything but the above.
            let n0 = i;
            i += 1;
            while i < s.len()
                && !matches!(
                    s[i],
                    b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>' | b'='
                )
            {
                i += 1;
            }
            attributes += 1;
            if attributes > MAX_ATTRIBUTES {
                return Err(Exceeded::Attributes);
            }
            let attr = &s[n0..i];
            if ["color", "face", "size"]
                .iter()
                .any(|a| attr.eq_ignore_ascii_case(a.as_bytes()))
            {
                tag.font_breakout = true;
            }
            while i < s.len() && matches!(s[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ') {
                i += 1;
            }
            if s.get(i) != Some(&b'=') {
                continue;
            }
            i += 1;
            while i < s.len() && matches!(s[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ') {
                i += 1;
            }
            match s.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = find(s, i + 1, q).unwrap_or(s.len());
                    for j in i + 1..end {
                        if s[j] == b'&' {
                            self.char_ref(s, j)?;
                        }
                    }
                    i = (end + 1).min(s.len());
                }
                _ => {
                    while i < s.len()
                        && !matches!(s[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'>')
                    {
                        if s[i] == b'&' {
                            self.char_ref(s, i)?;
                        }
                        i += 1;
                    }
                }
            }
        }
        // Only formatting elements need their attributes compared.
        if props(key(name)) & FORMATTING != 0 {
            tag.attrs = hash(s[attrs_start..i.min(s.len())].iter().copied());
        }
        Ok((name, i, tag))
    }

    /// Apply a start tag; `Some(name)` when its content is raw text (or `plaintext`).
    fn start_tag(&mut self, name: u64, tag: Tag) -> Result<Option<u64>, Exceeded> {
        if matches!(name, HTML | HEAD | BODY) {
            return Ok(None);
        }
        let props = props(name);
        let mut foreign_parent = self
            .stack
            .last()
            .is_some_and(|o| o.foreign && o.props & INTEGRATION == 0);
        if foreign_parent && (props & BREAKOUT != 0 || (name == FONT && tag.font_breakout)) {
            while self
                .stack
                .last()
                .is_some_and(|o| o.foreign && o.props & INTEGRATION == 0)
            {
                self.pop();
            }
            foreign_parent = false;
        }
        if foreign_parent || name == SVG || name == MATH {
            if !tag.self_closing {
                self.push(Open {
                    name,
                    props: if foreign_parent {
                        props & INTEGRATION
                    } else {
                        0
                    },
                    foreign: true,
                    attrs: 0,
                })?;
            }
            return Ok(None);
        }
        // html5ever reopens formatting elements before inline content, not before a block
        // (so that a paragraph's end closes them again).
        if props & SPECIAL == 0
            || props & (VOID | SCOPE | RAW_TEXT) != 0 && props & TABLE_PART == 0
            || matches!(name, BUTTON | SELECT)
        {
            self.reconstruct()?;
        }
        if props & TABLE_PART != 0 && !self.stack.iter().rev().any(|o| o.name == TABLE) {
            // html5ever drops table parts outside a table.
            return Ok(None);
        }
        if props & CLOSES_P != 0 && self.open_p > 0 {
            self.close_in_scope(P, Scope::Default(BUTTON, BUTTON));
        }
        if props & HEADING != 0 && self.stack.last().is_some_and(|o| o.props & HEADING != 0) {
            self.pop();
        }
        match name {
            LI => self.close_list_item(|n| n == LI),
            DD | DT => self.close_list_item(|n| n == DD || n == DT),
            TD | TH => {
                self.close_in_scope_any(|n| n == TD || n == TH);
                self.implied_row()?;
            }
            TR => {
                self.close_in_scope_any(|n| n == TR);
                self.implied_body()?;
            }
            TBODY | THEAD | TFOOT => {
                self.close_in_scope_any(|n| matches!(n, TBODY | THEAD | TFOOT))
            }
            BUTTON => self.close_in_scope(BUTTON, Scope::Default(0, 0)),
            OPTION if self.stack.last().is_some_and(|o| o.name == OPTION) => self.pop(),
            A => self.end_tag(A),
            _ => {}
        }
        if props & RAW_TEXT != 0 || name == PLAINTEXT {
            return Ok(Some(name));
        }
        if props & VOID == 0 {
            self.push(Open {
                name,
                props,
                foreign: false,
                attrs: tag.attrs,
            })?;
        }
        Ok(None)
    }

    /// `<td>` straight in a table or a table body: html5ever opens the missing parents.
    fn implied_row(&mut self) -> Result<(), Exceeded> {
        self.implied_body()?;
        if self
            .stack
            .last()
            .is_some_and(|o| matches!(o.name, TBODY | THEAD | TFOOT))
        {
            self.push_plain(TR)?;
        }
        Ok(())
    }

    fn implied_body(&mut self) -> Result<(), Exceeded> {
        if self.stack.last().is_some_and(|o| o.name == TABLE) {
            self.push_plain(TBODY)?;
        }
        Ok(())
    }

    fn push_plain(&mut self, name: u64) -> Result<(), Exceeded> {
        self.push(Open {
            name,
            props: props(name),
            foreign: false,
            attrs: 0,
        })
    }

    /// Apply an end tag.
    fn end_tag(&mut self, name: u64) {
        if matches!(name, HTML | HEAD | BODY | BR) {
            return;
        }
        if self.stack.last().is_some_and(|o| o.foreign) {
            // Foreign content: the nearest element of that name, unless HTML comes first.
            for at in (0..self.stack.len()).rev() {
                let o = self.stack[at];
                if !o.foreign {
                    break;
                }
                if o.name == name {
                    self.pop_to(at);
                    return;
                }
            }
        }
        let props = props(name);
        match name {
            P if self.open_p > 0 => self.close_in_scope(P, Scope::Default(BUTTON, BUTTON)),
            P => {}
            LI => self.close_in_scope(LI, Scope::Default(OL, UL)),
            FORM => {
                // html5ever takes only the form itself off its stack, but what follows still
                // goes into the form: it stays open here unless it is the current element.
                if self.stack.last().is_some_and(|o| o.name == FORM) {
                    self.take();
                }
            }
            TR | TBODY | THEAD | TFOOT | TABLE | TD | TH => {
                if let Some(at) = self.find(|n| n == name, Scope::Table) {
                    self.pop_to(at);
                }
            }
            _ if props & HEADING != 0 => {
                if let Some(at) = self.find(|n| props_of(n) & HEADING != 0, Scope::Default(0, 0)) {
                    self.pop_to(at);
                }
            }
            _ if props & FORMATTING != 0 => self.end_formatting(name),
            _ if props & SPECIAL != 0 => self.close_in_scope(name, Scope::Default(0, 0)),
            _ => {
                // Any other end tag: the nearest element of that name, unless a special element
                // comes first.
                for at in (0..self.stack.len()).rev() {
                    let o = self.stack[at];
                    if o.name == name {
                        self.pop_to(at);
                        return;
                    }
                    if o.props & SPECIAL != 0 {
                        return;
                    }
                }
            }
        }
    }

    /// `</b>` and the like (the adoption agency): closed with what is inside it when only
    /// phrasing content is; left open (html5ever moves it, the depth stays) when a block is.
    fn end_formatting(&mut self, name: u64) {
        let mut block_above = false;
        for at in (0..self.stack.len()).rev() {
            let o = self.stack[at];
            if o.name == name {
                if !block_above {
                    self.pop_to(at);
                }
                return;
            }
            if o.props & SCOPE != 0 {
                return;
            }
            block_above |= o.props & SPECIAL != 0;
        }
        // Not open: html5ever forgets it instead of reopening it (the nearest few are looked at).
        if let Some(pos) = self
            .reopen
            .iter()
            .rev()
            .take(64)
            .position(|o| o.name == name)
        {
            let o = self.reopen.remove(self.reopen.len() - 1 - pos);
            self.forget(&o);
        }
    }

    /// Pop to the nearest `target` within `scope`, if there is one.
    fn close_in_scope(&mut self, target: u64, scope: Scope) {
        if let Some(at) = self.find(|n| n == target, scope) {
            self.pop_to(at);
        }
    }

    fn close_in_scope_any(&mut self, target: impl Fn(u64) -> bool) {
        if let Some(at) = self.find(target, Scope::Table) {
            self.pop_to(at);
        }
    }

    /// `<li>` (or `<dd>`/`<dt>`) closes the open one unless a special element other than
    /// `address`, `div` or `p` comes first.
    fn close_list_item(&mut self, item: impl Fn(u64) -> bool) {
        for at in (0..self.stack.len()).rev() {
            let o = self.stack[at];
            if item(o.name) {
                self.pop_to(at);
                return;
            }
            if o.props & SPECIAL != 0 && !matches!(o.name, ADDRESS | DIV | P) {
                return;
            }
        }
    }

    fn find(&self, target: impl Fn(u64) -> bool, scope: Scope) -> Option<usize> {
        for at in (0..self.stack.len()).rev() {
            let o = self.stack[at];
            if target(o.name) {
                return Some(at);
            }
            let boundary = match scope {
                Scope::Default(x, y) => o.props & SCOPE != 0 || o.name == x || o.name == y,
                Scope::Table => o.props & TABLE_SCOPE != 0,
            };
            if boundary {
                return None;
            }
        }
        None
    }

    fn push(&mut self, o: Open) -> Result<(), Exceeded> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Exceeded::Depth);
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(Exceeded::Elements);
        }
        self.open_p += usize::from(o.name == P && !o.foreign);
        self.stack.push(o);
        self.deepest = self.deepest.max(self.stack.len());
        Ok(())
    }

    /// Remove the top entry.
    fn take(&mut self) -> Option<Open> {
        let o = self.stack.pop()?;
        self.open_p -= usize::from(o.name == P && !o.foreign);
        Some(o)
    }

    fn pop(&mut self) {
        if let Some(o) = self.take() {
            self.closed_by_another(o);
        }
    }

    /// Pop every entry from `at` up; the entry at `at` is the one its end tag closes.
    fn pop_to(&mut self, at: usize) {
        while self.stack.len() > at + 1 {
            self.pop();
        }
        self.take();
    }

    /// Every tag costs html5ever a look down its stack.
    fn count_work(&mut self) -> Result<(), Exceeded> {
        self.work += self.stack.len();
        if self.work > MAX_NESTING_WORK {
            return Err(Exceeded::NestingWork);
        }
        Ok(())
    }

    /// A formatting element closed by another element's end: html5ever reopens it later (at most
    /// three with the same attributes).
    fn closed_by_another(&mut self, o: Open) {
        if o.props & FORMATTING == 0 || o.foreign {
            return;
        }
        let n = self.reopen_count.entry((o.name, o.attrs)).or_insert(0);
        if *n < 3 {
            *n += 1;
            self.reopen.push(o);
        }
    }

    fn forget(&mut self, o: &Open) {
        if let Some(n) = self.reopen_count.get_mut(&(o.name, o.attrs)) {
            *n -= 1;
            if *n == 0 {
                self.reopen_count.remove(&(o.name, o.attrs));
            }
        }
    }

    /// Reopen the formatting elements waiting to be.
    fn reconstruct(&mut self) -> Result<(), Exceeded> {
        if self.reopen.is_empty() || self.stack.last().is_some_and(|o| o.foreign) {
            return Ok(());
        }
        let reopen = std::mem::take(&mut self.reopen);
        self.reopen_count.clear();
        for o in reopen {
            self.push(o)?;
        }
        Ok(())
    }
}

fn props_of(name: u64) -> u16 {
    props(name)
}

/// What a start tag carries besides its name.
#[derive(Default, Clone, Copy)]
struct Tag {
    attrs: u64,
    self_closing: bool,
    /// A `color`, `face` or `size` attribute: a `<font>` with one leaves svg/math content.
    font_breakout: bool,
}

fn find(s: &[u8], from: usize, b: u8) -> Option<usize> {
    s.get(from..)?
        .iter()
        .position(|&c| c == b)
        .map(|p| p + from)
}

/// `<!` at `at`: a comment (ended by `-->` or `--!>`, or at once by `<!-->` / `<!--->`), or
/// anything else up to `>` (a doctype, CDATA outside svg/math, a bogus comment). The index after.
fn skip_markup_declaration(s: &[u8], at: usize) -> usize {
    if s[at..].starts_with(b"<!--") {
        let body = at + 4;
        if s[body..].starts_with(b">") {
            return body + 1;
        }
        if s[body..].starts_with(b"->") {
            return body + 2;
        }
        let mut i = body;
        while let Some(d) = find(s, i, b'-') {
            if s.get(d + 1) == Some(&b'-') {
                match s.get(d + 2) {
                    Some(b'>') => return d + 3,
                    Some(b'!') if s.get(d + 3) == Some(&b'>') => return d + 4,
                    _ => {}
                }
            }
            i = d + 1;
        }
        return s.len();
    }
    find(s, at + 2, b'>').map_or(s.len(), |e| e + 1)
}

/// Skip a raw text element's content from `at` to its end tag (`</name` followed by a space,
/// `/` or `>`, any case): the index of that end tag's `<`, which is then read as an end tag.
fn skip_raw_text(s: &[u8], at: usize, name: &[u8]) -> Option<usize> {
    let mut i = at;
    loop {
        let lt = find(s, i, b'<')?;
        if s.get(lt + 1) == Some(&b'/')
            && s.len() >= lt + 2 + name.len()
            && s[lt + 2..lt + 2 + name.len()].eq_ignore_ascii_case(name)
            && s.get(lt + 2 + name.len())
                .is_none_or(|c| matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>'))
        {
            return Some(lt);
        }
        i = lt + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> String {
        format!("<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>")
    }

    fn depth_refused(body: &str) -> bool {
        check(&page(body)) == Err(Exceeded::Depth)
    }

    #[test]
    fn every_saved_real_page_passes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut seen = 0;
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|x| x == "html") {
                    let bytes = std::fs::read(&path).unwrap();
                    let html = String::from_utf8_lossy(&bytes);
                    assert_eq!(check(&html), Ok(()), "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen > 10, "fixture pages found: {seen}");
    }

    #[test]
    fn sloppy_but_real_markup_passes() {
        let n = 20_000;
        for body in [
            "<p>para".repeat(n),
            format!("<ul>{}</ul>", "<li>item".repeat(n)),
            format!("<dl>{}</dl>", "<dt>t<dd>d".repeat(n)),
            format!("<table>{}</table>", "<tr><td>a<td>b".repeat(n)),
            "<br><img src=x><hr><input><br/>".repeat(n),
            "<script>if (a<b) { x = '<div><div>'; }</script>".repeat(n),
            "<style>p > a { color: red }</style><!-- <div><div> --><!----><!--->".repeat(n),
            format!(
                "<svg>{}</svg>",
                "<path d=\"M0 0\"/><circle r=\"1\"/>".repeat(n)
            ),
            format!("<select>{}</select>", "<option>o".repeat(n)),
            "<p><strong>Q:</p><p>answer</p>".repeat(n),
            "<p><a href=\"/x\">link<p>next".repeat(n),
            "<h2>a<h3>b</h3>".repeat(n),
            "<em><strong>misnested</em></strong>".repeat(n),
            "&amp;&#8217;&nbsp;<b>x</b>".repeat(n),
            format!(
                "<a {}>x</a>",
                (0..100)
                    .map(|i| format!("data-a{i}=\"&amp;\""))
                    .collect::<String>()
            ),
        ] {
            assert_eq!(
                check(&page(&body)),
                Ok(()),
                "{}",
                &body[..80.min(body.len())]
            );
        }
    }

    /// Markup that nests `n` deep (or more) in html5ever's tree, written every way the scanner
    /// has to follow: both the depth limit and the estimate are tested against each.
    fn nesting_tricks(n: usize) -> Vec<String> {
        vec![
            "<div>".repeat(n),
            "<span><b><i>".repeat(n),
            "<div/>".repeat(n),
            // Foreign content: `/>` closes an svg element, but not an HTML one after a breakout.
            format!("<svg>{}", "<div/>".repeat(n)),
            format!("<svg>{}", "<g>".repeat(n)),
            format!("<math>{}", "<mi><svg><g>".repeat(n)),
            // End tags html5ever ignores.
            "<p><object></p>".repeat(n),
            "<span><div></span>".repeat(n),
            "<form><div></form>".repeat(n),
            "<div><td><div><td>".repeat(n),
            "<li><div><ul><li>".repeat(n),
            "<b><div></b>".repeat(n),
            "<a><div></a>".repeat(n),
            // Table parts html5ever adds.
            "<table><td>".repeat(n),
            "<table><tr><td><div></td>".repeat(n),
            "<select><option><div>".repeat(n),
            // Formatting elements html5ever reopens after a block closes them.
            (0..n)
                .map(|r| format!("<p><b c{r}=1><b c{r}=2></p>x"))
                .collect(),
            (0..n)
                .map(|r| format!("<div><i c{r}=1></div><span>"))
                .collect(),
            // A comment html5ever ends with `--!>`, or a raw text element ended in capitals.
            format!("<!-- --!>{}-->", "<div>".repeat(n)),
            format!("<script></SCRIPT>{}", "<div>".repeat(n)),
            // `noscript` is read as markup.
            format!("<noscript>{}", "<div>".repeat(n)),
            format!("<table>{}", "<caption><div>".repeat(n)),
            format!("<template>{}", "<td><div>".repeat(n)),
        ]
    }

    #[test]
    fn deep_nesting_is_refused_however_it_is_written() {
        for body in nesting_tricks(MAX_DEPTH + 10) {
            assert!(depth_refused(&body), "{}", &body[..80.min(body.len())]);
        }
    }

    #[test]
    fn nesting_hundreds_deep_over_and_over_is_refused() {
        let cycle = format!("{}x{}", "<div>".repeat(400), "</div>".repeat(400));
        // Each cycle costs about 400 × 400 steps of html5ever's stack scans.
        let fits = MAX_NESTING_WORK / (400 * 400) / 2;
        assert_eq!(check(&page(&cycle.repeat(fits))), Ok(()));
        assert_eq!(
            check(&page(&cycle.repeat(fits * 4))),
            Err(Exceeded::NestingWork)
        );
    }

    /// The deepest element of the tree html5ever builds (through scraper).
    fn parsed_depth(html: &str) -> usize {
        let doc = scraper::Html::parse_document(html);
        doc.tree
            .nodes()
            .map(|n| n.ancestors().count())
            .max()
            .unwrap_or(0)
    }

    /// The estimate is never below the nesting html5ever builds (the `<html>` and `<body>` it
    /// adds and the document node aside), and close to it for sloppy real markup.
    #[test]
    fn the_estimate_errs_upwards_and_stays_close_on_real_markup() {
        let n = 200;
        let tricks = nesting_tricks(n);
        for body in &tricks {
            let html = page(body);
            let real = parsed_depth(&html);
            let estimate = Scanner::default()
                .run(html.as_bytes())
                .unwrap_or(usize::MAX);
            assert!(
                estimate.saturating_add(3) >= real,
                "{real} > {estimate}: {}",
                &body[..60]
            );
        }
        let sloppy = [
            "<p>para".repeat(n),
            "<p><strong>Q:</p><p>answer</p>".repeat(n),
            "<p><a href=\"/x\">link<p>next".repeat(n),
            (0..n)
                .map(|i| format!("<p><a href=\"/x{i}\">link<p>next"))
                .collect(),
            "<em><strong>misnested</em></strong>".repeat(n),
            "<p><font color=red>x</p><p>y</p>".repeat(n),
            format!("<ul>{}</ul>", "<li><p>item<li>".repeat(n)),
            format!("<table>{}</table>", "<tr><td>a<td>b".repeat(n)),
            format!("<svg>{}</svg>", "<path d=\"M0 0\"/>".repeat(n)),
            "<div><form><p>x</div></form>".repeat(n),
        ];
        for body in &sloppy {
            let html = page(body);
            let real = parsed_depth(&html);
            let estimate = Scanner::default()
                .run(html.as_bytes())
                .unwrap_or(usize::MAX);
            assert!(
                estimate <= real + 10,
                "{estimate} ≫ {real}: {}",
                &body[..60]
            );
        }
    }

    #[test]
    fn formatting_elements_reopened_over_and_over_are_counted() {
        let open: String = (0..400).map(|i| format!("<b c{i}>")).collect();
        let reopen = |n: usize| page(&format!("<p>{open}{}", "<p>x".repeat(n)));
        assert_eq!(check(&reopen(100)), Ok(()));
        assert_eq!(check(&reopen(10_000)), Err(Exceeded::Elements));
    }

    #[test]
    fn raw_text_and_comments_are_not_counted() {
        let n = MAX_DEPTH * 4;
        for body in [
            format!("<script>{}</script>", "<div>".repeat(n)),
            format!("<style>{}</style>", "<div>".repeat(n)),
            format!("<textarea>{}</textarea>", "<div>".repeat(n)),
            format!("<!--{}-->", "<div>".repeat(n)),
            format!("<title>{}</title>", "<div>".repeat(n)),
        ] {
            assert_eq!(check(&page(&body)), Ok(()), "{}", &body[..40]);
        }
    }

    #[test]
    fn attributes_and_character_references_are_limited() {
        let attrs = |n: usize| (0..n).map(|i| format!(" a{i}=x")).collect::<String>();
        assert_eq!(
            check(&page(&format!("<p{}>x</p>", attrs(MAX_ATTRIBUTES)))),
            Ok(())
        );
        assert_eq!(
            check(&page(&format!("<p{}>x</p>", attrs(MAX_ATTRIBUTES + 1)))),
            Err(Exceeded::Attributes)
        );
        // Quoted values hold spaces and `>` without starting attributes.
        let quoted = format!("<p title=\"{}\">x</p>", "a b > c ".repeat(1000));
        assert_eq!(check(&page(&quoted)), Ok(()));
        let refs = |n: usize| format!("<p>{}</p>", "&amp;".repeat(n));
        assert_eq!(check(&page(&refs(MAX_CHAR_REFS))), Ok(()));
        assert_eq!(
            check(&page(&refs(MAX_CHAR_REFS + 1))),
            Err(Exceeded::CharRefs)
        );
        // In attribute values too; a `&` that starts none is not one.
        let attr_refs = format!("<a href=\"{}\">x</a>", "&amp;".repeat(MAX_CHAR_REFS + 1));
        assert_eq!(check(&page(&attr_refs)), Err(Exceeded::CharRefs));
        assert_eq!(check(&page(&"a & b ".repeat(MAX_CHAR_REFS + 1))), Ok(()));
    }

    #[test]
    fn the_error_says_what_was_exceeded() {
        let e = check(&page(&"<div>".repeat(MAX_DEPTH + 1))).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("HTML nested more than {MAX_DEPTH} elements deep")
        );
    }
}
