#!/usr/bin/env python3
"""Loopback-only static server for the fixture site, with validators and a request log.

  python3 serve.py SITE_DIR [--port 8765] [--log /tmp/peers-access.jsonl]
                   [--latency-ms 0] [--gzip] [--no-validators]

* binds 127.0.0.1 only (refuses any other address);
* a directory URL serves its index.html, or index.xml (as application/rss+xml) for feeds;
  a directory URL without the trailing slash gets a 301, like WordPress;
* sends ETag (sha1 of the body) and Last-Modified (file mtime) and answers
  If-None-Match / If-Modified-Since with 304 (If-None-Match wins, per RFC 9110);
  --no-validators turns both off (a site that sends neither);
* --gzip: Content-Encoding: gzip when the client sends Accept-Encoding: gzip;
* --latency-ms: sleep before each response (simulate a remote site);
* a site generated with `gen_site.py --rest-api` (it has SITE_DIR/wp-json/) also gets a
  WordPress-like REST API under /wp-json/, answered from the generated JSON data with the query
  string evaluated like WordPress does (see Api below): posts (categories, include, page,
  per_page, orderby, order, modified_after, after, _embed; X-WP-Total / X-WP-TotalPages headers;
  400 rest_post_invalid_page_number past the last page), categories and tags (slug, include,
  page, per_page), users/<id>; anything else under /wp-json/ is a 404 rest_no_route. Unknown
  parameters are ignored, as WordPress does. API answers carry no validators (WordPress sends
  none), so they are always 200;
* appends one JSON line per request to --log:
  {"t":..., "m":"GET", "path":..., "st":200, "bytes":<body bytes sent>, "hdr":<header bytes>,
   "ct":<content type sent, "" for none>, "inm":bool, "ims":bool, "ua":..., "ms":...}
  count a run's traffic with `python3 logstats.py LOG --since-line N`.
"""
import argparse
import datetime as dt
import email.utils
import gzip
import hashlib
import json
import os
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TYPES = {".html": "text/html; charset=UTF-8", ".xml": "application/rss+xml; charset=UTF-8",
         ".txt": "text/plain; charset=UTF-8", ".json": "application/json"}


def wp_error(status, code, message):
    return status, {"code": code, "message": message, "data": {"status": status}}, []


def parse_when(value):
    """An ISO 8601 date as WordPress accepts it for `after` / `modified_after` (UTC if no offset)."""
    d = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    return d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)


def gmt(value):
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)


class Api:
    """The REST API of a site written by `gen_site.py --rest-api`: answers /wp-json/ requests
    from SITE/wp-json/**/all.json, reloading a file when its mtime changes (so a regenerated
    site is served at once)."""

    def __init__(self, root):
        self.root = os.path.join(root, "wp-json")
        self.cache = {}
        self.lock = threading.Lock()

    def load(self, name):
        path = os.path.join(self.root, name)
        mtime = os.stat(path).st_mtime_ns
        with self.lock:
            hit = self.cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        with self.lock:
            self.cache[path] = (mtime, data)
        return data

    @staticmethod
    def page_of(items, q, default_per_page=10):
        """WordPress paging: (status, body, headers)."""
        try:
            per_page = int(q.get("per_page", default_per_page))
            page = int(q.get("page", 1))
        except ValueError:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page")
        if not 1 <= per_page <= 100:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        if page < 1:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): page")
        total = len(items)
        pages = (total + per_page - 1) // per_page
        if page > max(1, pages):
            return wp_error(400, "rest_post_invalid_page_number",
                            "The page number requested is larger than the number of pages available.")
        chunk = items[(page - 1) * per_page: page * per_page]
        return 200, chunk, [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]

    def answer(self, path, query):
        """(status, JSON value, extra headers) for GET /wp-json/<route>?<query>."""
        q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        route = path[len("/wp-json"):].strip("/")
        ids = lambda key: [int(x) for x in q[key].split(",") if x.strip()] if q.get(key) else None
        try:
            if route == "":
                return 200, self.load("index.json"), []
            if route == "wp/v2/posts":
                return self.posts(q, ids)
            if route.startswith("wp/v2/posts/"):
                pid = int(route.rsplit("/", 1)[1])
                found = [p for p in self.load("wp/v2/posts/all.json") if p["id"] == pid]
                if not found:
                    return wp_error(404, "rest_post_invalid_id", "Invalid post ID.")
                return 200, self.embed(found[0], q), []
            if route in ("wp/v2/categories", "wp/v2/tags"):
                terms = self.load(route + "/all.json")
                if q.get("slug"):
                    slugs = set(q["slug"].split(","))
                    terms = [t for t in terms if t["slug"] in slugs]
                if ids("include"):
                    keep = set(ids("include"))
                    terms = [t for t in terms if t["id"] in keep]
                return self.page_of(terms, q)
            if route.startswith("wp/v2/users/"):
                uid = int(route.rsplit("/", 1)[1])
                found = [u for u in self.load("wp/v2/users/all.json") if u["id"] == uid]
                if not found:
                    return wp_error(404, "rest_user_invalid_id", "Invalid user ID.")
                return 200, found[0], []
        except ValueError as e:
            return wp_error(400, "rest_invalid_param", f"Invalid parameter(s): {e}")
        return wp_error(404, "rest_no_route", "No route was found matching the URL and request method.")

    @staticmethod
    def embed(post, q):
        if "_embed" in q:
            return post
        return {k: v for k, v in post.items() if k != "_embedded"}

    def posts(self, q, ids):
        posts = self.load("wp/v2/posts/all.json")
        if ids("categories"):
            want = set(ids("categories"))
            posts = [p for p in posts if want & set(p["categories"])]
        if ids("include"):
            keep = set(ids("include"))
            posts = [p for p in posts if p["id"] in keep]
        if q.get("modified_after"):
            since = parse_when(q["modified_after"])
            posts = [p for p in posts if gmt(p["modified_gmt"]) > since]
        if q.get("after"):
            since = parse_when(q["after"])
            posts = [p for p in posts if gmt(p["date_gmt"]) > since]
        field = {"date": "date_gmt", "modified": "modified_gmt", "id": "id"}.get(q.get("orderby", "date"))
        if field is None:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        posts = sorted(posts, key=lambda p: (p[field], p["id"]), reverse=q.get("order", "desc") != "asc")
        status, body, headers = self.page_of(posts, q)
        if status == 200:
            body = [self.embed(p, q) for p in body]
        return status, body, headers


class Handler(BaseHTTPRequestHandler):
    server_version = "nginx"

    def version_string(self):
        return self.server_version
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    # one buffered write per response + TCP_NODELAY: without these, header and body go out
    # as two segments and keep-alive clients stall ~40 ms per request (Nagle x delayed ACK)
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # silence stderr
        pass

    def _resolve(self, path):
        root = self.server.root
        rel = unquote(urlsplit(path).path)
        full = os.path.normpath(os.path.join(root, rel.lstrip("/")))
        if not (full == root or full.startswith(root + os.sep)):
            return None, None
        if os.path.isdir(full):
            if not rel.endswith("/"):
                return "redirect", rel + "/"
            for name in ("index.html", "index.xml"):
                cand = os.path.join(full, name)
                if os.path.isfile(cand):
                    return "file", cand
            return None, None
        if os.path.isfile(full):
            return "file", full
        return None, None

    def _etag_for(self, fpath, st):
        key = (fpath, st.st_mtime_ns, st.st_size)
        cache = self.server.etags
        with self.server.lock:
            tag = cache.get(key)
        if tag is None:
            with open(fpath, "rb") as f:
                tag = '"' + hashlib.sha1(f.read()).hexdigest()[:20] + '"'
            with self.server.lock:
                cache[key] = tag
        return tag

    def _send(self, status, headers, body, head_only):
        self.send_response(status)
        hb = 0
        self._ctype = next((v for k, v in headers if k == "Content-Type"), "")
        for k, v in headers:
            self.send_header(k, v)
            hb += len(k) + len(str(v)) + 4
        self.end_headers()
        sent = 0
        if body and not head_only:
            self.wfile.write(body)
            sent = len(body)
        self._logit(status, sent, hb)

    def _logit(self, status, nbytes, hbytes):
        rec = {"t": round(time.time(), 3), "m": self.command, "path": self.path, "st": status,
               "bytes": nbytes, "hdr": hbytes, "ct": getattr(self, "_ctype", ""),
               "inm": "If-None-Match" in self.headers, "ims": "If-Modified-Since" in self.headers,
               "gz": "gzip" in (self.headers.get("Accept-Encoding") or ""),
               "ua": self.headers.get("User-Agent", ""),
               "ms": round((time.time() - self._t0) * 1000, 2)}
        line = json.dumps(rec) + "\n"
        with self.server.lock:
            self.server.logf.write(line)
            self.server.logf.flush()

    def do_HEAD(self):
        self.do_GET(head_only=True)

    def do_POST(self):
        self._t0 = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send(405, [("Content-Length", "0"), ("Allow", "GET, HEAD")], b"", False)

    def do_GET(self, head_only=False):
        self._t0 = time.time()
        if self.server.latency:
            time.sleep(self.server.latency)
        parts = urlsplit(self.path)
        if self.server.api is not None and (parts.path == "/wp-json" or parts.path.startswith("/wp-json/")):
            status, value, extra = self.server.api.answer(unquote(parts.path), parts.query)
            body = json.dumps(value, ensure_ascii=False).encode("utf-8")
            headers = [("Content-Type", "application/json; charset=UTF-8"), ("X-Robots-Tag", "noindex"),
                       ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
                       ("Allow", "GET")] + extra + [("Content-Length", str(len(body)))]
            self._send(status, headers, body, head_only)
            return
        kind, target = self._resolve(self.path)
        if kind == "redirect":
            self._send(301, [("Location", target), ("Content-Length", "0")], b"", head_only)
            return
        if kind is None:
            body = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Not Found</h1></body></html>"
            self._send(404, [("Content-Type", "text/html; charset=UTF-8"), ("Content-Length", str(len(body)))], body, head_only)
            return
        st = os.stat(target)
        ctype = TYPES.get(os.path.splitext(target)[1], "application/octet-stream")
        headers = [("Content-Type", ctype), ("Vary", "Accept-Encoding")]
        use_gzip = self.server.gzip and "gzip" in (self.headers.get("Accept-Encoding") or "")
        if self.server.validators:
            etag = self._etag_for(target, st)
            if use_gzip:
                etag = etag[:-1] + '-gzip"'
            lm = email.utils.formatdate(st.st_mtime, usegmt=True)
            headers += [("ETag", etag), ("Last-Modified", lm)]
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            not_modified = False
            if inm is not None:
                tags = [t.strip() for t in inm.split(",")]
                bare = etag.replace("W/", "")
                not_modified = "*" in tags or any(t.replace("W/", "") in (etag, bare, bare.replace("-gzip", "")) for t in tags)
            elif ims is not None:
                try:
                    since = email.utils.parsedate_to_datetime(ims).timestamp()
                    not_modified = int(st.st_mtime) <= int(since)
                except (TypeError, ValueError, IndexError, OverflowError):
                    not_modified = False
            if not_modified:
                self._send(304, [h for h in headers if h[0] in ("ETag", "Last-Modified", "Vary")], b"", head_only)
                return
        with open(target, "rb") as f:
            body = f.read()
        if use_gzip:
            body = gzip.compress(body, compresslevel=6)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        headers.append(("Cache-Control", "max-age=0, must-revalidate"))
        self._send(200, headers, body, head_only)


class Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: when a client opens 8 connections at once
    # (curl --parallel-max 8, a scraper with 8 in flight) the kernel drops the extra SYNs and the
    # client retries after 1 s, which adds a random 1 s stall to a sub-second run.
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--log", default="/tmp/peers-access.jsonl")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--no-validators", action="store_true")
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("serve.py binds loopback only")
    srv = Server((a.host, a.port), Handler)
    srv.daemon_threads = True
    srv.root = os.path.realpath(a.root)
    srv.etags = {}
    srv.lock = threading.Lock()
    srv.logf = open(a.log, "a", buffering=1)
    srv.latency = a.latency_ms / 1000.0
    srv.gzip = a.gzip
    srv.validators = not a.no_validators
    srv.api = Api(srv.root) if os.path.isdir(os.path.join(srv.root, "wp-json")) else None
    print(f"serving {srv.root} on http://{a.host}:{a.port}/ log={a.log} pid={os.getpid()}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
