#!/usr/bin/env python3
"""Parse every atom.xml / rss.xml / feed.json below the given folders with feedparser.

Fails when a folder holds no feed, when feedparser flags a document (bozo), or when a document
has no entries."""
import json
import pathlib
import sys

import feedparser

checked = 0
for root in map(pathlib.Path, sys.argv[1:]):
    found = sorted(p for p in root.rglob("*") if p.name in ("atom.xml", "rss.xml"))
    if not found:
        sys.exit(f"no feeds found below {root}")
    for path in found:
        d = feedparser.parse(path.read_bytes())
        if d.bozo:
            sys.exit(f"{path}: feedparser bozo: {d.bozo_exception!r}")
        if not d.entries:
            sys.exit(f"{path}: no entries")
        for e in d.entries:
            for key in ("id", "title", "link"):
                if not e.get(key):
                    sys.exit(f"{path}: entry without {key}: {e.get('title')!r}")
        print(f"ok {path.name} ({d.version}, {len(d.entries)} entries)")
        checked += 1
    for path in sorted(root.rglob("feed.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["version"] == "https://jsonfeed.org/version/1.1", path
        assert doc["items"], path
        print(f"ok {path.name} (json feed, {len(doc['items'])} items)")
print(f"{checked} XML feeds parsed cleanly")
