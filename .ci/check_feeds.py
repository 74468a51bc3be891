#!/usr/bin/env python3
"""Check every feed below the given folders with independent tools.

- every atom.xml / rss.xml and every RFC 5005 archive document (archive/<n>.xml) parses with
  feedparser without a flag (bozo) and has entries with id, title and link;
- every feed.json is JSON Feed 1.1 with items;
- when a document names an xml-stylesheet that exists, lxml's XSLT processor applies it and
  the page shows the feed title and every entry title (what a browser would show), and has
  the feed's language, when it names one, as its lang.

Fails when a folder holds no feed."""
import json
import pathlib
import re
import sys

import feedparser
from lxml import etree

PI = re.compile(rb'<\?xml-stylesheet type="text/xsl" href="([^"]+)"\?>')


def check_stylesheet(path: pathlib.Path, raw: bytes, d) -> bool:
    m = PI.search(raw)
    if not m:
        return False
    xsl = (path.parent / m.group(1).decode()).resolve()
    if not xsl.exists():
        return False
    transform = etree.XSLT(etree.parse(str(xsl)))
    page = str(transform(etree.fromstring(raw)))
    if transform.error_log:
        sys.exit(f"{path}: XSLT errors: {transform.error_log}")
    html = etree.HTML(page)
    lang = d.feed.get("language")
    if lang and (html.get("lang") or "").lower() != lang.lower():
        sys.exit(f"{path}: the stylesheet's page has lang {html.get('lang')!r}, the feed {lang!r}")
    text = " ".join(html.itertext())
    for want in [d.feed.get("title", "")] + [e.get("title", "") for e in d.entries]:
        if want and want not in text:
            sys.exit(f"{path}: the stylesheet's page lacks {want!r}")
    return True


checked = styled = 0
for root in map(pathlib.Path, sys.argv[1:]):
    found = sorted(
        p
        for p in root.rglob("*.xml")
        if p.name in ("atom.xml", "rss.xml") or p.parent.name == "archive"
    )
    if not found:
        sys.exit(f"no feeds found below {root}")
    for path in found:
        raw = path.read_bytes()
        d = feedparser.parse(raw)
        if d.bozo:
            sys.exit(f"{path}: feedparser bozo: {d.bozo_exception!r}")
        if not d.entries:
            sys.exit(f"{path}: no entries")
        for e in d.entries:
            for key in ("id", "title", "link"):
                if not e.get(key):
                    sys.exit(f"{path}: entry without {key}: {e.get('title')!r}")
        if path.parent.name == "archive":
            rels = {l.get("rel") for l in d.feed.get("links", [])}
            if "current" not in rels or b"<fh:archive/>" not in raw:
                sys.exit(f"{path}: archive document without fh:archive or rel=current")
        styled += check_stylesheet(path, raw, d)
        print(f"ok {path.relative_to(root)} ({d.version}, {len(d.entries)} entries)")
        checked += 1
    for path in sorted(root.rglob("feed.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["version"] == "https://jsonfeed.org/version/1.1", path
        assert doc["items"], path
        print(f"ok {path.relative_to(root)} (json feed, {len(doc['items'])} items)")
if styled == 0:
    sys.exit("no document was checked through its stylesheet")
print(f"{checked} XML feeds parsed cleanly, {styled} rendered through their stylesheet")
