#!/usr/bin/env python3
"""Generate a WordPress-like static fixture site for the feed-publisher benchmarks.

Layout written under OUT (all URLs absolute, rooted at --base-url, like WordPress):

  index.html                                   home page (latest 10 posts)
  YYYY/MM/DD/<slug>/index.html                 one page per post
  category/<cat>/index.html                    listing page 1 (10 posts per page)
  category/<cat>/page/<K>/index.html           listing pages 2..K (rel=prev/next)
  category/<cat>/feed/index.xml                WordPress RSS 2.0 feed, latest 10 items
                                               (served as application/rss+xml by serve.py)
  category/<cat>/feed/full/index.xml           bench-only helper: the same feed with ALL
                                               posts of the category (for feed-driven peers)
  author/<login>/index.html                    author pages (stub)
  feed/index.xml                               site-wide feed (latest 10)
  site-manifest.json                           what was generated (counts, bytes, URLs)

With --rest-api, also a static WordPress-like REST API (served by serve.py, which evaluates the
query string: categories, slug, include, page, per_page, orderby, order, modified_after, _embed):

  wp-json/index.json                           the API root (GET <base>/wp-json/)
  wp-json/wp/v2/posts/all.json                 every post in WordPress's JSON shape, _embedded
                                               author and wp:term included
  wp-json/wp/v2/categories/all.json            the categories (id, slug, name, count, ...)
  wp-json/wp/v2/tags/all.json                  the tags
  wp-json/wp/v2/users/all.json                 the authors

and every HTML page advertises it: <link rel="https://api.w.org/" href="<base>/wp-json/" />.

Deterministic for a given --seed.  Every post is in the target category
(--category, default international-negotiation) plus 0-2 secondary categories,
so the target listing holds exactly N posts in ceil(N/10) pages.

Usage:  python3 gen_site.py OUT [--posts 500] [--base-url http://127.0.0.1:8765]
        [--feed-items 10] [--feed-content summary|full] [--seed 42]
        [--touch-newest K]   # after generation: rewrite the K newest posts' pages
                             # (edit text, bump <time class=updated>) to simulate a change
        [--new-posts K [--now ISO]]  # publish K more posts, newer than all others (dated
                             # --now, default the current time, one hour apart); the N
                             # posts' own pages stay byte-identical to a run without it
        [--rest-api]         # also write the WordPress REST API described above
"""
import argparse
import datetime as dt
import hashlib
import html
import json
import math
import os
import random
import re
import shutil
import sys
from email.utils import format_datetime

SITE_NAME = "Negotiation Notebook"
SITE_DESC = "Essays on international negotiation, mediation and diplomacy"

CATEGORIES = {
    "international-negotiation": "International Negotiation",
    "mediation": "Mediation",
    "conflict-resolution": "Conflict Resolution",
    "trade-policy": "Trade Policy",
    "diplomacy": "Diplomacy",
    "case-studies": "Case Studies",
}
TAGS = ["batna", "zopa", "multilateral", "bilateral", "treaties", "culture",
        "power", "trust", "ceasefire", "climate", "wto", "un", "eu", "asean",
        "back-channel", "framing", "anchoring", "coalitions"]
AUTHORS = [
    ("mbrenner", "Miriam Brenner"), ("tokafor", "Tunde Okafor"),
    ("lgarcia", "Lucía García"), ("hnakamura", "Hiro Nakamura"),
    ("adubois", "Amélie Dubois"), ("jsmith", "Jonathan Smith"),
]

WORDS = ("negotiation negotiator delegation delegates treaty accord agreement parties "
         "mediator mediation interests positions leverage concession concessions "
         "deadline ceasefire tariff tariffs sanctions coalition coalitions framework "
         "ministers summit envoy bargaining reciprocity credibility commitment "
         "alternatives outcome outcomes process talks round rounds protocol annex "
         "ratification domestic constituency audience trust signal signals deadlock "
         "impasse package linkage issue issues agenda sequencing verification "
         "compliance enforcement incentive incentives cost costs benefit benefits "
         "stakeholder stakeholders culture cultural context history precedent "
         "legitimacy sovereignty border water energy climate security trade "
         "investment fisheries maritime nuclear arms control humanitarian access "
         "observers guarantees implementation timetable phase phases draft text "
         "bracketed language consensus objection veto unanimity majority bloc "
         "caucus plenary chair secretariat facilitator shuttle diplomacy").split()
OPENERS = ["In practice,", "Historically,", "At the table,", "For the mediator,",
           "By contrast,", "Crucially,", "In the 1990s,", "Today,", "Often,",
           "As one envoy put it,", "Paradoxically,", "Over time,"]
QUOTES = ["Nothing is agreed until everything is agreed.",
          "The best deal is the one both sides can sell at home.",
          "Never cut what you can untie.",
          "Let us never negotiate out of fear, but never fear to negotiate."]


# Set by main(): the REST API root the HTML pages advertise (None: no API).
API_ROOT = None

CATEGORY_IDS = {c: k + 2 for k, c in enumerate(CATEGORIES)}  # 1 is WordPress's "Uncategorized"
TAG_IDS = {t: k + 20 for k, t in enumerate(TAGS)}
AUTHOR_IDS = {login: k + 1 for k, (login, _) in enumerate(AUTHORS)}


class Rng(random.Random):
    def sentence(self, lo=9, hi=22):
        n = self.randint(lo, hi)
        ws = [self.choice(WORDS) for _ in range(n)]
        s = " ".join(ws)
        if self.random() < 0.35:
            s = self.choice(OPENERS) + " " + s
        s = s[0].upper() + s[1:]
        if self.random() < 0.15:
            s += " — " + " ".join(self.choice(WORDS) for _ in range(self.randint(3, 6)))
        return s + self.choice([".", ".", ".", "?", ";"]).replace(";", ".")

    def para_text(self, target_chars):
        out = []
        while sum(len(x) + 1 for x in out) < target_chars:
            out.append(self.sentence())
        return " ".join(out)


def slugify(title):
    s = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return s[:70].rstrip("-")


def esc(s):
    return html.escape(s, quote=True)


def human_date(d):
    return d.strftime("%B ") + str(d.day) + d.strftime(", %Y")


def make_post(rng, i, pid, t, base, seen):
    """One post dated t (its fields drawn from rng in a fixed order)."""
    w = [rng.choice(WORDS) for _ in range(rng.randint(3, 7))]
    title = " ".join(w).capitalize()
    if rng.random() < 0.3:
        title += ": " + rng.choice(["lessons from", "a case study of", "notes on",
                                    "rethinking", "why we misread"]) + " " + rng.choice(WORDS)
    if rng.random() < 0.1:
        title = "“" + title + "” – revisited"
    slug = slugify(title) or f"post-{i}"
    if slug in seen:
        slug = f"{slug}-{i}"
    seen.add(slug)
    login, name = rng.choice(AUTHORS)
    cats = ["international-negotiation"] + rng.sample(
        [c for c in CATEGORIES if c != "international-negotiation"], rng.randint(0, 2))
    tags = rng.sample(TAGS, rng.randint(1, 4))
    modified = t + dt.timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 23)) if rng.random() < 0.2 else t
    url = f"{base}/{t:%Y/%m/%d}/{slug}/"
    return dict(idx=i, id=pid, title=title, slug=slug, date=t, modified=modified,
                author=(login, name), cats=cats, tags=tags, url=url,
                seed=rng.randint(0, 2**31))


def make_posts(n, seed, base):
    rng = Rng(seed)
    start = dt.datetime(2024, 6, 30, 9, 0, tzinfo=dt.timezone.utc)
    posts = []
    seen = set()
    t = start
    for i in range(n):
        # newest first: post 0 is the most recent
        posts.append(make_post(rng, i, 10000 + n - i, t, base, seen))
        t -= dt.timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 12), minutes=rng.randint(0, 59))
    return posts


def make_new_posts(k, n, seed, base, now, old):
    """K posts published after the N generated ones (newest first, dated now, now - 1 h, ...),
    drawn from their own random stream so that the N posts are unchanged. Ids continue the N
    posts' ids; the dates are never modified (modified == date, as for a fresh post)."""
    rng = Rng(seed * 7919 + 1)
    seen = {p["slug"] for p in old}
    posts = []
    for j in range(k):
        t = now - dt.timedelta(hours=j)
        p = make_post(rng, j, 10000 + n + k - j, t, base, seen)
        p["modified"] = t
        posts.append(p)
    return posts


def post_body(p, base, posts_by_idx, edit_marker=""):
    """entry-content HTML (~5 KB of text) + the first paragraph as excerpt."""
    rng = Rng(p["seed"])
    parts = []
    n_par = rng.randint(6, 9)
    per = 4400 // n_par
    excerpt = None
    for k in range(n_par):
        txt = rng.para_text(per)
        if excerpt is None:
            excerpt = txt
        words = txt.split(" ")
        # sprinkle inline markup
        if len(words) > 12:
            j = rng.randint(2, len(words) - 4)
            words[j] = f"<strong>{esc(words[j])}</strong>"
            j2 = rng.randint(2, len(words) - 4)
            if j2 != j:
                words[j2] = f"<em>{esc(words[j2])}</em>"
            if rng.random() < 0.5:
                other = posts_by_idx[rng.randrange(len(posts_by_idx))]
                j3 = rng.randint(1, len(words) - 3)
                if j3 not in (j, j2):
                    words[j3] = f'<a href="{other["url"]}">{esc(words[j3])}</a>'
        body = " ".join(w if w.startswith("<") else esc(w) for w in words)
        parts.append(f"<p>{body}</p>")
        if k == 1:
            parts.append(f'<h2 id="h-{k}">{esc(rng.sentence(3, 6).rstrip(".?"))}</h2>')
        if k == 2 and rng.random() < 0.5:
            parts.append(f"<blockquote class=\"wp-block-quote\"><p>{esc(rng.choice(QUOTES))}</p>"
                         f"<cite>{esc(rng.choice(AUTHORS)[1])}</cite></blockquote>")
        if k == 3 and rng.random() < 0.5:
            items = "".join(f"<li>{esc(rng.sentence(4, 9))}</li>" for _ in range(rng.randint(3, 5)))
            parts.append(f"<ul>{items}</ul>")
        if k == 4 and rng.random() < 0.4:
            parts.append(
                f'<figure class="wp-block-image size-large"><img decoding="async" loading="lazy" '
                f'width="1024" height="576" src="{base}/wp-content/uploads/{p["date"]:%Y/%m}/{p["slug"][:20]}-1024x576.jpg" '
                f'alt="{esc(p["title"])}" class="wp-image-{p["id"] + 7}"/>'
                f'<figcaption class="wp-element-caption">{esc(rng.sentence(5, 9))}</figcaption></figure>')
    if edit_marker:
        parts.append(f"<p><em>Update: {esc(edit_marker)}</em></p>")
    return "\n".join(parts), excerpt


def head(title, canonical, base, extra=""):
    api_link = f'<link rel="https://api.w.org/" href="{API_ROOT}" />\n' if API_ROOT else ""
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<meta name='robots' content='index, follow, max-image-preview:large' />
<link rel="canonical" href="{canonical}" />
{extra}<link rel="alternate" type="application/rss+xml" title="{esc(SITE_NAME)} &raquo; Feed" href="{base}/feed/" />
{api_link}<link rel='stylesheet' id='wp-block-library-css' href='{base}/wp-includes/css/dist/block-library/style.min.css?ver=6.4.2' media='all' />
<link rel='stylesheet' id='twentysixteen-style-css' href='{base}/wp-content/themes/twentysixteen/style.css?ver=20231107' media='all' />
<script src="{base}/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
<style id='global-styles-inline-css'>
body{{--wp--preset--color--black: #000000;--wp--preset--color--white: #ffffff;--wp--preset--font-size--small: 13px;--wp--preset--font-size--large: 36px;}}
.has-black-color{{color: var(--wp--preset--color--black) !important;}}.has-white-color{{color: var(--wp--preset--color--white) !important;}}
</style>
<meta name="generator" content="WordPress 6.4.2" />
</head>
"""


def masthead(base):
    menu = "".join(f'<li class="menu-item menu-item-type-taxonomy menu-item-object-category"><a href="{base}/category/{c}/">{esc(n)}</a></li>'
                   for c, n in CATEGORIES.items())
    return f"""<div id="page" class="site">
<div class="site-inner">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header id="masthead" class="site-header">
<div class="site-header-main">
<div class="site-branding">
<p class="site-title"><a href="{base}/" rel="home">{esc(SITE_NAME)}</a></p>
<p class="site-description">{esc(SITE_DESC)}</p>
</div>
<div id="site-header-menu" class="site-header-menu">
<nav id="site-navigation" class="main-navigation" aria-label="Primary Menu">
<div class="menu-main-container"><ul id="menu-main" class="primary-menu">{menu}</ul></div>
</nav>
</div>
</div>
</header>
<div id="content" class="site-content">
"""


def sidebar(base, posts):
    recent = "".join(f'<li><a href="{p["url"]}">{esc(p["title"])}</a></li>' for p in posts[:5])
    cats = "".join(f'<li class="cat-item"><a href="{base}/category/{c}/">{esc(n)}</a></li>' for c, n in CATEGORIES.items())
    return f"""<aside id="secondary" class="sidebar widget-area">
<section id="search-2" class="widget widget_search"><form role="search" method="get" class="search-form" action="{base}/"><label><span class="screen-reader-text">Search for:</span><input type="search" class="search-field" placeholder="Search &hellip;" value="" name="s" /></label><button type="submit" class="search-submit"><span class="screen-reader-text">Search</span></button></form></section>
<section id="recent-posts-2" class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2><nav aria-label="Recent Posts"><ul>{recent}</ul></nav></section>
<section id="categories-2" class="widget widget_categories"><h2 class="widget-title">Categories</h2><nav aria-label="Categories"><ul>{cats}</ul></nav></section>
</aside>
"""


def footer(base):
    return f"""</div><!-- .site-content -->
<footer id="colophon" class="site-footer">
<div class="site-info"><span class="site-title"><a href="{base}/" rel="home">{esc(SITE_NAME)}</a></span>
<a href="https://wordpress.org/" class="imprint">Proudly powered by WordPress</a></div>
</footer>
</div></div>
<script src="{base}/wp-content/themes/twentysixteen/js/functions.js?ver=20230629" id="twentysixteen-script-js"></script>
<script id="wp-emoji-settings" type="application/json">{{"baseUrl":"https://s.w.org/images/core/emoji/14.0.0/72x72/","ext":".png"}}</script>
</body>
</html>
"""


def entry_meta(p, base, single):
    login, name = p["author"]
    cat_links = ", ".join(f'<a href="{base}/category/{c}/" rel="category tag">{esc(CATEGORIES[c])}</a>' for c in p["cats"])
    upd = ""
    cls = "entry-date published"
    if p["modified"] != p["date"]:
        upd = f'<time class="updated" datetime="{p["modified"].isoformat()}">{human_date(p["modified"])}</time>'
    else:
        cls = "entry-date published updated"
    tag_links = ""
    if single:
        tag_links = ('<span class="tags-links"><span class="screen-reader-text">Tags </span>'
                     + ", ".join(f'<a href="{base}/tag/{t}/" rel="tag">{t}</a>' for t in p["tags"]) + "</span>")
    return f"""<span class="byline"><span class="author vcard"><img alt='' src='{base}/avatar/{login}.png' class='avatar avatar-49 photo' height='49' width='49' loading='lazy' decoding='async'/><span class="screen-reader-text">Author </span> <a class="url fn n" href="{base}/author/{login}/">{esc(name)}</a></span></span><span class="posted-on"><span class="screen-reader-text">Posted on </span><a href="{p["url"]}" rel="bookmark"><time class="{cls}" datetime="{p["date"].isoformat()}">{human_date(p["date"])}</time>{upd}</a></span><span class="cat-links"><span class="screen-reader-text">Categories </span>{cat_links}</span>{tag_links}<span class="comments-link"><a href="{p["url"]}#respond">Leave a comment<span class="screen-reader-text"> on {esc(p["title"])}</span></a></span>"""


def post_classes(p):
    return (f'post-{p["id"]} post type-post status-publish format-standard hentry '
            + " ".join(f"category-{c}" for c in p["cats"]) + " " + " ".join(f"tag-{t}" for t in p["tags"]))


def render_post(p, posts, base, body, idx):
    """The post's page; posts is the list it sits in (newest first) and idx its index there
    (they set the sidebar, the related posts and the previous/next links)."""
    rng = Rng(p["seed"] ^ 0x5A5A)
    related = rng.sample([q for q in posts if q["id"] != p["id"]], 3)
    rel_html = "".join(
        f'<div class="jp-relatedposts-post jp-relatedposts-post{k}" data-post-id="{q["id"]}" data-post-format="false">'
        f'<h4 class="jp-relatedposts-post-title"><a class="jp-relatedposts-post-a" href="{q["url"]}" title="{esc(q["title"])}" rel="nofollow" data-origin="{p["id"]}" data-position="{k}">{esc(q["title"])}</a></h4>'
        f'<p class="jp-relatedposts-post-date">{human_date(q["date"])}</p>'
        f'<p class="jp-relatedposts-post-context">In &quot;{esc(CATEGORIES[q["cats"][-1]])}&quot;</p></div>'
        for k, q in enumerate(related))
    nav = '<nav class="navigation post-navigation" aria-label="Posts"><h2 class="screen-reader-text">Post navigation</h2><div class="nav-links">'
    if idx + 1 < len(posts):
        q = posts[idx + 1]
        nav += f'<div class="nav-previous"><a href="{q["url"]}" rel="prev"><span class="meta-nav" aria-hidden="true">Previous</span> <span class="post-title">{esc(q["title"])}</span></a></div>'
    if idx > 0:
        q = posts[idx - 1]
        nav += f'<div class="nav-next"><a href="{q["url"]}" rel="next"><span class="meta-nav" aria-hidden="true">Next</span> <span class="post-title">{esc(q["title"])}</span></a></div>'
    nav += "</div></nav>"
    og = (f'<meta property="og:type" content="article" />\n<meta property="og:title" content="{esc(p["title"])}" />\n'
          f'<meta property="og:url" content="{p["url"]}" />\n'
          f'<meta property="article:published_time" content="{p["date"].isoformat()}" />\n'
          f'<meta property="article:modified_time" content="{p["modified"].isoformat()}" />\n'
          f'<link rel="shortlink" href="{base}/?p={p["id"]}" />\n')
    return (head(f'{p["title"]} – {SITE_NAME}', p["url"], base, og)
            + f'<body class="post-template-default single single-post postid-{p["id"]} single-format-standard wp-embed-responsive">\n'
            + masthead(base)
            + f"""<div id="primary" class="content-area">
<main id="main" class="site-main">
<article id="post-{p["id"]}" class="{post_classes(p)}">
<header class="entry-header">
<h1 class="entry-title">{esc(p["title"])}</h1>
</header><!-- .entry-header -->
<div class="entry-content">
{body}
<div id='jp-relatedposts' class='jp-relatedposts'><h3 class="jp-relatedposts-headline"><em>Related Posts</em></h3><div class="jp-relatedposts-items jp-relatedposts-items-visual">{rel_html}</div></div>
</div><!-- .entry-content -->
<footer class="entry-footer">{entry_meta(p, base, True)}</footer><!-- .entry-footer -->
</article><!-- #post-{p["id"]} -->
<div id="comments" class="comments-area">
<div id="respond" class="comment-respond">
<h2 id="reply-title" class="comment-reply-title">Leave a Reply <small><a rel="nofollow" id="cancel-comment-reply-link" href="{p["url"]}#respond" style="display:none;">Cancel reply</a></small></h2>
<form action="{base}/wp-comments-post.php" method="post" id="commentform" class="comment-form" novalidate>
<p class="comment-notes"><span id="email-notes">Your email address will not be published.</span> <span class="required-field-message">Required fields are marked <span class="required">*</span></span></p>
<p class="comment-form-comment"><label for="comment">Comment <span class="required">*</span></label> <textarea id="comment" name="comment" cols="45" rows="8" maxlength="65525" required></textarea></p>
<p class="comment-form-author"><label for="author">Name <span class="required">*</span></label> <input id="author" name="author" type="text" value="" size="30" maxlength="245" autocomplete="name" required /></p>
<p class="comment-form-email"><label for="email">Email <span class="required">*</span></label> <input id="email" name="email" type="email" value="" size="30" maxlength="100" autocomplete="email" required /></p>
<p class="comment-form-url"><label for="url">Website</label> <input id="url" name="url" type="url" value="" size="30" maxlength="200" autocomplete="url" /></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment" /> <input type='hidden' name='comment_post_ID' value='{p["id"]}' id='comment_post_ID' />
<input type='hidden' name='comment_parent' id='comment_parent' value='0' /></p>
</form>
</div><!-- #respond -->
</div><!-- .comments-area -->
{nav}
</main>
</div>
""" + sidebar(base, posts) + footer(base))


def listing_article(p, base, excerpt):
    ex = excerpt[:280].rsplit(" ", 1)[0]
    return f"""<article id="post-{p["id"]}" class="{post_classes(p)}">
<header class="entry-header"><h2 class="entry-title"><a href="{p["url"]}" rel="bookmark">{esc(p["title"])}</a></h2></header>
<div class="entry-summary"><p>{esc(ex)} &hellip; <a href="{p["url"]}" class="more-link">Continue reading<span class="screen-reader-text"> &#8220;{esc(p["title"])}&#8221;</span></a></p></div>
<footer class="entry-footer">{entry_meta(p, base, False)}</footer>
</article>
"""


def render_listing(cat, cat_posts, page, pages, base, excerpts, all_posts, per_page):
    cat_url = f"{base}/category/{cat}/"
    url = cat_url if page == 1 else f"{cat_url}page/{page}/"
    def purl(k):
        return cat_url if k == 1 else f"{cat_url}page/{k}/"
    extra = ""
    if page > 1:
        extra += f'<link rel="prev" href="{purl(page - 1)}" />\n'
    if page < pages:
        extra += f'<link rel="next" href="{purl(page + 1)}" />\n'
    extra += f'<link rel="alternate" type="application/rss+xml" title="{esc(SITE_NAME)} &raquo; {esc(CATEGORIES[cat])} Category Feed" href="{cat_url}feed/" />\n'
    chunk = cat_posts[(page - 1) * per_page: page * per_page]
    arts = "".join(listing_article(p, base, excerpts[p["id"]]) for p in chunk)
    nums = []
    for k in sorted({1, 2, page - 1, page, page + 1, pages - 1, pages}):
        if 1 <= k <= pages:
            if nums and k - nums[-1][0] > 1:
                nums.append((None, '<span class="page-numbers dots">&hellip;</span>'))
            if k == page:
                nums.append((k, f'<span aria-current="page" class="page-numbers current"><span class="meta-nav screen-reader-text">Page </span>{k}</span>'))
            else:
                nums.append((k, f'<a class="page-numbers" href="{purl(k)}"><span class="meta-nav screen-reader-text">Page </span>{k}</a>'))
    nums = [n for n in nums]
    pag = "".join(h for _, h in nums)
    if page > 1:
        pag = f'<a class="prev page-numbers" href="{purl(page - 1)}" rel="prev">Previous page</a>' + pag
    if page < pages:
        pag += f'<a class="next page-numbers" href="{purl(page + 1)}" rel="next">Next page</a>'
    title = f'{CATEGORIES[cat]} – {SITE_NAME}' if page == 1 else f'{CATEGORIES[cat]} – Page {page} – {SITE_NAME}'
    return (head(title, url, base, extra)
            + f'<body class="archive paged category category-{cat} paged-{page} category-paged-{page} wp-embed-responsive hfeed">\n'
            + masthead(base)
            + f"""<div id="primary" class="content-area">
<main id="main" class="site-main">
<header class="page-header">
<h1 class="page-title">Category: <span>{esc(CATEGORIES[cat])}</span></h1>
<div class="taxonomy-description"><p>Posts about {esc(CATEGORIES[cat].lower())}.</p></div>
</header>
{arts}
<nav class="navigation pagination" aria-label="Posts"><h2 class="screen-reader-text">Posts navigation</h2><div class="nav-links">{pag}</div></nav>
</main>
</div>
""" + sidebar(base, all_posts) + footer(base))


def wp_time(d):
    """WordPress's `date_gmt` / `modified_gmt` format: ISO 8601 without an offset."""
    return d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def rest_term(base, kind, slug, name, tid):
    taxonomy = "category" if kind == "category" else "post_tag"
    return {"id": tid, "link": f"{base}/{kind}/{slug}/", "name": name, "slug": slug,
            "taxonomy": taxonomy,
            "_links": {"self": [{"href": f"{base}/wp-json/wp/v2/{'categories' if kind == 'category' else 'tags'}/{tid}"}]}}


def rest_post(p, base, body, excerpt):
    """One post as `GET /wp-json/wp/v2/posts?_embed=1` returns it (the fields feeds read)."""
    login, name = p["author"]
    aid = AUTHOR_IDS[login]
    words = excerpt.split()
    ex = esc(" ".join(words[:55])) + (" [&hellip;]" if len(words) > 55 else "")
    return {
        "id": p["id"],
        "date": wp_time(p["date"]), "date_gmt": wp_time(p["date"]),
        "guid": {"rendered": f"{base}/?p={p['id']}"},
        "modified": wp_time(p["modified"]), "modified_gmt": wp_time(p["modified"]),
        "slug": p["slug"], "status": "publish", "type": "post", "link": p["url"],
        "title": {"rendered": esc(p["title"])},
        "content": {"rendered": body + "\n", "protected": False},
        "excerpt": {"rendered": f"<p>{ex}</p>\n", "protected": False},
        "author": aid, "featured_media": 0, "comment_status": "open", "ping_status": "open",
        "sticky": False, "template": "", "format": "standard", "meta": [],
        "categories": [CATEGORY_IDS[c] for c in p["cats"]],
        "tags": [TAG_IDS[t] for t in p["tags"]],
        "_links": {"self": [{"href": f"{base}/wp-json/wp/v2/posts/{p['id']}"}],
                   "author": [{"embeddable": True, "href": f"{base}/wp-json/wp/v2/users/{aid}"}]},
        "_embedded": {
            "author": [{"id": aid, "name": name, "url": "", "description": "",
                        "link": f"{base}/author/{login}/", "slug": login, "avatar_urls": {}}],
            "wp:term": [
                [rest_term(base, "category", c, CATEGORIES[c], CATEGORY_IDS[c]) for c in p["cats"]],
                [rest_term(base, "tag", t, t, TAG_IDS[t]) for t in p["tags"]],
            ],
        },
    }


def write_rest_api(out, base, posts, bodies, excerpts, counters):
    """The data serve.py answers /wp-json/ requests from (see the module doc)."""
    root = os.path.join(out, "wp-json")
    index = {"name": SITE_NAME, "description": SITE_DESC, "url": base, "home": base,
             "gmt_offset": 0, "timezone_string": "UTC", "namespaces": ["oembed/1.0", "wp/v2"],
             "authentication": [], "routes": {}}
    write(os.path.join(root, "index.json"), json.dumps(index, ensure_ascii=False), counters)
    # newest modification first, as `orderby=modified&order=desc` asks (serve.py re-sorts on demand)
    ordered = sorted(posts, key=lambda p: (p["modified"], p["id"]), reverse=True)
    write(os.path.join(root, "wp/v2/posts/all.json"),
          json.dumps([rest_post(p, base, bodies[p["id"]], excerpts[p["id"]]) for p in ordered],
                     ensure_ascii=False), counters)
    cats = [{"id": CATEGORY_IDS[c], "count": sum(1 for p in posts if c in p["cats"]),
             "description": f"Posts about {n.lower()}.", "link": f"{base}/category/{c}/", "name": n,
             "slug": c, "taxonomy": "category", "parent": 0, "meta": []}
            for c, n in CATEGORIES.items()]
    write(os.path.join(root, "wp/v2/categories/all.json"), json.dumps(cats, ensure_ascii=False), counters)
    tags = [{"id": TAG_IDS[t], "count": sum(1 for p in posts if t in p["tags"]), "description": "",
             "link": f"{base}/tag/{t}/", "name": t, "slug": t, "taxonomy": "post_tag", "meta": []}
            for t in TAGS]
    write(os.path.join(root, "wp/v2/tags/all.json"), json.dumps(tags, ensure_ascii=False), counters)
    users = [{"id": AUTHOR_IDS[login], "name": name, "url": "", "description": "",
              "link": f"{base}/author/{login}/", "slug": login, "avatar_urls": {}}
             for login, name in AUTHORS]
    write(os.path.join(root, "wp/v2/users/all.json"), json.dumps(users, ensure_ascii=False), counters)


def rfc822(d):
    return format_datetime(d.astimezone(dt.timezone.utc), usegmt=True)


def render_feed(title, link, self_url, posts, base, excerpts, bodies, full_content):
    items = []
    for p in posts:
        login, name = p["author"]
        cats = "".join(f"\t\t<category><![CDATA[{CATEGORIES[c]}]]></category>\n" for c in p["cats"])
        cats += "".join(f"\t\t<category><![CDATA[{t}]]></category>\n" for t in p["tags"])
        ex = excerpts[p["id"]][:300].rsplit(" ", 1)[0]
        content = ""
        if full_content:
            content = f"\t\t<content:encoded><![CDATA[{bodies[p['id']]}]]></content:encoded>\n"
        items.append(f"""	<item>
		<title>{esc(p["title"])}</title>
		<link>{p["url"]}</link>
		<comments>{p["url"]}#respond</comments>
		<dc:creator><![CDATA[{name}]]></dc:creator>
		<pubDate>{rfc822(p["date"])}</pubDate>
{cats}		<guid isPermaLink="false">{base}/?p={p["id"]}</guid>
		<description><![CDATA[{esc(ex)} [&#8230;]]]></description>
{content}		<wfw:commentRss>{p["url"]}feed/</wfw:commentRss>
		<slash:comments>0</slash:comments>
	</item>
""")
    last = max((p["modified"] for p in posts), default=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>{esc(title)}</title>
	<atom:link href="{self_url}" rel="self" type="application/rss+xml" />
	<link>{link}</link>
	<description>{esc(SITE_DESC)}</description>
	<lastBuildDate>{rfc822(last)}</lastBuildDate>
	<language>en-US</language>
	<sy:updatePeriod>
	hourly	</sy:updatePeriod>
	<sy:updateFrequency>
	1	</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.4.2</generator>
{"".join(items)}</channel>
</rss>
"""


def write(path, text, counters):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = text.encode("utf-8")
    counters["files"] += 1
    counters["bytes"] += len(data)
    # keep unchanged files untouched so their mtime (Last-Modified) and ETag stay stable
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    with open(path, "wb") as f:
        f.write(data)
    counters["written"] += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--posts", type=int, default=500)
    ap.add_argument("--base-url", default="http://127.0.0.1:8765")
    ap.add_argument("--category", default="international-negotiation")
    ap.add_argument("--per-page", type=int, default=10)
    ap.add_argument("--feed-items", type=int, default=10, help="items in the WordPress feeds (WP default 10)")
    ap.add_argument("--feed-content", choices=["summary", "full"], default="summary",
                    help="WP 'For each post in a feed, include': summary (default) or full text (content:encoded)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--touch-newest", type=int, default=0,
                    help="regenerate with the K newest posts edited (new text, bumped updated time)")
    ap.add_argument("--new-posts", type=int, default=0,
                    help="publish K more posts, newer than the N others (the N posts' pages stay byte-identical)")
    ap.add_argument("--now", default=None,
                    help="ISO 8601 date of the newest --new-posts post (default: the current time, UTC)")
    ap.add_argument("--rest-api", action="store_true",
                    help="also write a WordPress-like REST API under wp-json/ (answered by serve.py)")
    ap.add_argument("--clean", action="store_true", help="remove OUT first")
    a = ap.parse_args()
    base = a.base_url.rstrip("/")
    if a.category not in CATEGORIES:
        sys.exit(f"unknown category {a.category}; known: {', '.join(CATEGORIES)}")
    if a.clean and os.path.isdir(a.out):
        shutil.rmtree(a.out)
    if a.rest_api:
        global API_ROOT
        API_ROOT = f"{base}/wp-json/"
    old = make_posts(a.posts, a.seed, base)
    for p in old:
        if p["idx"] < a.touch_newest:
            p["modified"] = max(p["modified"], p["date"]) + dt.timedelta(days=400)
    now = dt.datetime.fromisoformat(a.now) if a.now else dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    new = make_new_posts(a.new_posts, a.posts, a.seed, base, now.replace(microsecond=0), old)
    # Every index (listings, feeds, home, API) holds all posts; the N generated posts' own pages
    # are rendered against the N posts only, so publishing new posts leaves them byte-identical.
    posts = new + old
    counters = {"files": 0, "bytes": 0, "written": 0}
    bodies, excerpts = {}, {}
    text_bytes = []
    for group in (old, new):
        for p in group:
            marker = ""
            if group is old and p["idx"] < a.touch_newest:
                marker = f"edited revision of post {p['id']}"
            body, ex = post_body(p, base, old if group is old else posts, marker)
            bodies[p["id"]] = body
            excerpts[p["id"]] = ex
            text_bytes.append(len(re.sub(r"<[^>]+>", "", body).encode()))
    post_page_bytes = []
    for group in (old, new):
        for k, p in enumerate(group):
            page = (render_post(p, old, base, bodies[p["id"]], k) if group is old
                    else render_post(p, posts, base, bodies[p["id"]], k))
            path = os.path.join(a.out, p["date"].strftime("%Y/%m/%d"), p["slug"], "index.html")
            write(path, page, counters)
            post_page_bytes.append(len(page.encode()))
    listing_urls = {}
    for cat in CATEGORIES:
        cps = [p for p in posts if cat in p["cats"]]
        pages = max(1, math.ceil(len(cps) / a.per_page))
        listing_urls[cat] = pages
        for k in range(1, pages + 1):
            rel = f"category/{cat}/index.html" if k == 1 else f"category/{cat}/page/{k}/index.html"
            write(os.path.join(a.out, rel), render_listing(cat, cps, k, pages, base, excerpts, posts, a.per_page), counters)
        full = a.feed_content == "full"
        write(os.path.join(a.out, f"category/{cat}/feed/index.xml"),
              render_feed(f"{CATEGORIES[cat]} – {SITE_NAME}", f"{base}/category/{cat}/",
                          f"{base}/category/{cat}/feed/", cps[:a.feed_items], base, excerpts, bodies, full), counters)
        if cat == a.category:
            write(os.path.join(a.out, f"category/{cat}/feed/full/index.xml"),
                  render_feed(f"{CATEGORIES[cat]} – {SITE_NAME}", f"{base}/category/{cat}/",
                              f"{base}/category/{cat}/feed/full/", cps, base, excerpts, bodies, full), counters)
    write(os.path.join(a.out, "feed/index.xml"),
          render_feed(SITE_NAME, f"{base}/", f"{base}/feed/", posts[:a.feed_items], base, excerpts, bodies,
                      a.feed_content == "full"), counters)
    home = render_listing(a.category, posts, 1, max(1, math.ceil(len(posts) / a.per_page)), base, excerpts, posts, a.per_page)
    write(os.path.join(a.out, "index.html"), home, counters)
    for login, name in AUTHORS:
        write(os.path.join(a.out, f"author/{login}/index.html"),
              head(f"{name} – {SITE_NAME}", f"{base}/author/{login}/", base) + "<body class=\"archive author\">"
              + masthead(base) + f'<main id="main"><h1 class="page-title">Author: <span class="vcard">{esc(name)}</span></h1></main>'
              + footer(base), counters)
    if a.rest_api:
        write_rest_api(a.out, base, posts, bodies, excerpts, counters)
    write(os.path.join(a.out, "robots.txt"),
          f"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\nSitemap: {base}/wp-sitemap.xml\n", counters)
    manifest = {
        "posts": a.posts, "seed": a.seed, "base_url": base, "category": a.category,
        "category_url": f"{base}/category/{a.category}/",
        "category_pages": listing_urls[a.category],
        "category_feed": f"{base}/category/{a.category}/feed/",
        "category_feed_full": f"{base}/category/{a.category}/feed/full/",
        "feed_items": a.feed_items, "feed_content": a.feed_content,
        "touched_newest": a.touch_newest, "new_posts": a.new_posts, "total_posts": len(posts),
        "rest_api": f"{base}/wp-json/" if a.rest_api else None,
        "files": counters["files"], "bytes": counters["bytes"], "files_written": counters["written"],
        "post_page_bytes_avg": round(sum(post_page_bytes) / max(1, len(post_page_bytes))),
        "post_text_bytes_avg": round(sum(text_bytes) / max(1, len(text_bytes))),
        "newest_post_url": posts[0]["url"] if posts else None,
        "post_urls_sha1": hashlib.sha1("\n".join(p["url"] for p in posts).encode()).hexdigest(),
    }
    with open(os.path.join(a.out, "site-manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
