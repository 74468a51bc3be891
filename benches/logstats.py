#!/usr/bin/env python3
"""Summarise serve.py's JSONL request log.

  python3 logstats.py LOG                 # whole log
  python3 logstats.py LOG --since-line N  # only lines after the first N (a run's slice)
  python3 logstats.py LOG --count-lines   # print the current line count (take before a run)

Prints JSON: requests, body_bytes (also split by content type: html, json, xml, text, other —
from the "ct" field serve.py logs), header_bytes, status counts, conditional requests
(If-None-Match / If-Modified-Since sent), 304s, distinct paths, repeats, user agents,
and the span of the run (first..last request).
"""
import argparse
import collections
import json


def kind_of(ctype):
    ct = (ctype or "").lower()
    for key, kind in (("html", "html"), ("json", "json"), ("xml", "xml"), ("text/plain", "text")):
        if key in ct:
            return kind
    return "other"


def stats(path, since=0, until=None):
    recs = []
    with open(path) as f:
        for i, line in enumerate(f):
            if i < since:
                continue
            if until is not None and i >= until:
                break
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    st = collections.Counter(str(r["st"]) for r in recs)
    paths = collections.Counter(r["path"] for r in recs)
    by_type = collections.Counter()
    for r in recs:
        by_type[kind_of(r.get("ct"))] += r["bytes"]
    return {
        "requests": len(recs),
        "body_bytes": sum(r["bytes"] for r in recs),
        "body_bytes_by_type": dict(sorted(by_type.items())),
        "html_body_bytes": by_type.get("html", 0),
        "header_bytes": sum(r.get("hdr", 0) for r in recs),
        "status": dict(sorted(st.items())),
        "conditional": sum(1 for r in recs if r.get("inm") or r.get("ims")),
        "with_inm": sum(1 for r in recs if r.get("inm")),
        "with_ims": sum(1 for r in recs if r.get("ims")),
        "accept_gzip": sum(1 for r in recs if r.get("gz")),
        "not_modified": st.get("304", 0),
        "distinct_paths": len(paths),
        "repeated_paths": sum(c - 1 for c in paths.values() if c > 1),
        "user_agents": sorted({r.get("ua", "") for r in recs})[:5],
        "span_s": round(recs[-1]["t"] - recs[0]["t"], 3) if recs else 0.0,
    }


def count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--since-line", type=int, default=0)
    ap.add_argument("--until-line", type=int, default=None)
    ap.add_argument("--count-lines", action="store_true")
    a = ap.parse_args()
    if a.count_lines:
        print(count_lines(a.log))
    else:
        print(json.dumps(stats(a.log, a.since_line, a.until_line), indent=2))
