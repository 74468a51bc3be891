#!/usr/bin/env bash
# Incremental-run benchmark: what a cold, a warm (nothing new) and a one-new run cost the site,
# in requests and bytes, for feedwright (HTML source, WordPress REST API source) and for the
# Python peer with its HTTP cache (conditional GETs), on the generated 500-post site.
#
#   benches/run_incremental.sh
#
# Environment:
#   SKIP_BUILD=1     do not run `cargo build --release --locked` first
#   FEEDWRIGHT=PATH  the binary to measure (default: <repo>/target/release/feedwright)
#   KEEP=1           keep the temporary work folder (site, configs, stores, logs) and print it
#
# Prints one line per run, then a Markdown table and the targets. Exits 1 if any run failed or
# any output check failed (a missed target alone does not fail it). See benches/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
POSTS=500
FEED_LIMIT=50
CATEGORY=international-negotiation
FEEDWRIGHT=${FEEDWRIGHT:-$REPO/target/release/feedwright}

log() { printf '%s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; return 1
    fi
}

# ---------------------------------------------------------------- prerequisites
command -v python3 >/dev/null || { log "python3 is required"; exit 2; }
if ! command -v curl >/dev/null; then
    log "installing curl"
    as_root apt-get install -y curl >&2
fi
if ! python3 -c 'import requests, requests_cache, bs4, lxml, feedgen' 2>/dev/null; then
    log "installing the Python peer's packages"
    python3 -m pip install --quiet requests requests-cache beautifulsoup4 lxml feedgen >&2
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building feedwright (release)"
    (cd "$REPO" && cargo build --release --locked) >&2
fi
[ -x "$FEEDWRIGHT" ] || { log "no feedwright binary at $FEEDWRIGHT"; exit 2; }

# ---------------------------------------------------------------- work folder and server
WORK=$(mktemp -d "${TMPDIR:-/tmp}/feedwright-incr.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then log "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE=http://127.0.0.1:$PORT
CAT_URL=$BASE/category/$CATEGORY/
SITE=$WORK/site
ACCESS_LOG=$WORK/access.jsonl

log "generating the site ($POSTS posts, with the REST API) for $BASE"
python3 "$HERE/gen_site.py" "$SITE" --clean --posts "$POSTS" --base-url "$BASE" --rest-api >"$WORK/manifest-cold.json"

python3 "$HERE/serve.py" "$SITE" --port "$PORT" --log "$ACCESS_LOG" >"$WORK/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -fs -o /dev/null "$BASE/robots.txt" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.out" >&2; log "server died"; exit 1; }
    sleep 0.1
done
curl -fs -o /dev/null "$BASE/robots.txt" || { log "server did not come up on $BASE"; exit 1; }

# Checksums of every post page, to show that publishing one post leaves the others untouched.
post_sums() {
    (cd "$SITE" && find . -path './[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*/index.html' -print0 |
        sort -z | xargs -0 sha1sum | LC_ALL=C sort)
}

# ---------------------------------------------------------------- feedwright configs
fw_config() { # $1: folder, $2: source kind (html | wordpress)
    cat >"$1/config.toml" <<EOF
# Incremental benchmark: one client whose store is kept from run to run.
output_dir = "feeds"
public_url = "$BASE/feeds/"

[store]
path = "feedwright.db"

[http]
user_agent = "feedwright-bench/0.1 (+loopback benchmark; $2)"
# No courtesy delay on our own loopback server (the shipped default is 1000 ms).
min_interval_ms = 0
per_host_concurrency = 8
# Above the 551 requests a cold HTML run needs, so the budget never cuts a run short.
max_requests = 2000

[[source]]
name = "bench"
url = "$CAT_URL"
kind = "$2"
# html: above the 50-51 listing pages; wordpress: above the 5-6 API pages of 100 posts.
max_pages = 60

[[feed]]
name = "bench"
title = "Benchmark feed"
sources = ["bench"]
limit = $FEED_LIMIT
EOF
}

sql() { # $1: database file, $2: query -> first column of the first row
    if command -v sqlite3 >/dev/null; then
        sqlite3 -readonly "$1" "$2"
    else
        python3 -c 'import sqlite3, sys; print(sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
    fi
}

count_entries() { # $1: an Atom file -> number of <entry> elements
    if [ -f "$1" ]; then grep -o '<entry[ >]' "$1" | wc -l; else echo 0; fi
}

# Modification times of the published files (to tell whether a run rewrote any).
feed_mtimes() { # $1: folder
    if [ -d "$1/feeds" ]; then find "$1/feeds" -type f -printf '%P %T@\n' | sort; fi
}

# ---------------------------------------------------------------- measuring
RESULTS=$WORK/results.tsv
printf 'program\tscenario\trc\twall_s\trequests\tst200\tst304\tother\tbody\thtml\tjson\trewrote\tcheck\n' >"$RESULTS"
FAILED=0
NEW_URL=

record() { # program scenario rc wall log_from rewrote check
    local prog=$1 scen=$2 rc=$3 wall=$4 from=$5 rewrote=$6 check=$7 fields
    sleep 0.2 # let the server log its last response
    fields=$(python3 "$HERE/logstats.py" "$ACCESS_LOG" --since-line "$from" | python3 -c '
import json, sys
s = json.load(sys.stdin)
st = s["status"]
other = ",".join(f"{k}:{v}" for k, v in st.items() if k not in ("200", "304")) or "-"
print("\t".join(str(x) for x in (s["requests"], st.get("200", 0), st.get("304", 0), other,
      s["body_bytes"], s["html_body_bytes"], s["body_bytes_by_type"].get("json", 0))))')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$prog" "$scen" "$rc" "$wall" "$fields" "$rewrote" "$check" >>"$RESULTS"
    log "$(printf '%-16s %-8s rc %s  %6.2f s  ' "$prog" "$scen" "$rc" "$wall")$(printf '%s' "$fields" |
        awk -F'\t' '{ printf "requests %s (200: %s, 304: %s, other: %s)  body %s B (HTML %s, JSON %s)", $1, $2, $3, $4, $5, $6, $7 }')  rewrote feeds: $rewrote  $check"
    if [ "$rc" != 0 ] || [ "$check" != ok ]; then FAILED=1; fi
}

now_s() { date +%s.%N; }

run_feedwright() { # $1: program (fw-html | fw-rest), $2: scenario, $3: command (run | backfill), $4: posts expected
    local d=$WORK/$1 rc=0 from t0 t1 check= n_feed n_store before after rewrote n_new
    from=$(wc -l <"$ACCESS_LOG")
    before=$(feed_mtimes "$d")
    t0=$(now_s)
    "$FEEDWRIGHT" --config "$d/config.toml" "$3" >"$d/$2.stdout" 2>"$d/$2.stderr" || rc=$?
    t1=$(now_s)
    after=$(feed_mtimes "$d")
    if [ -z "$before" ]; then rewrote=new; elif [ "$before" = "$after" ]; then rewrote=no; else rewrote=yes; fi
    n_feed=$(count_entries "$d/feeds/bench/atom.xml")
    n_store=$(sql "$d/feedwright.db" "SELECT COUNT(*) FROM entries" 2>>"$d/$2.stderr" || echo "?")
    [ "$n_feed" -eq "$FEED_LIMIT" ] || check="atom.xml has $n_feed entries, expected $FEED_LIMIT; "
    [ "$n_store" = "$4" ] || check="${check}store has $n_store entries, expected $4; "
    if [ -n "$NEW_URL" ]; then
        n_new=$(sql "$d/feedwright.db" "SELECT COUNT(*) FROM entries WHERE url = '$NEW_URL'" 2>>"$d/$2.stderr" || echo 0)
        [ "$n_new" = 1 ] || check="${check}the new post is not stored; "
        grep -qF "$NEW_URL" "$d/feeds/bench/atom.xml" || check="${check}the new post is not in atom.xml; "
    fi
    check=${check%; }
    check=${check:-ok}
    record "$1" "$2" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" "$from" "$rewrote" "$check"
    if [ "$rc" != 0 ] || [ "$check" != ok ] || grep -qiE 'warn|error' "$d/$2.stderr"; then
        log "  stderr of $1 $2:"
        sed 's/^/    /' "$d/$2.stderr" | tail -n 20 >&2
    fi
}

run_python() { # $1: scenario, $2: posts expected
    local d=$WORK/peer rc=0 from t0 t1 check=ok n
    from=$(wc -l <"$ACCESS_LOG")
    t0=$(now_s)
    python3 "$HERE/py_pipeline.py" "$CAT_URL" --atom "$d/peer.atom" --http-cache "$d/cache" \
        >"$d/$1.stdout" 2>"$d/$1.stderr" || rc=$?
    t1=$(now_s)
    n=$(count_entries "$d/peer.atom")
    [ "$n" -eq "$2" ] || check="peer.atom has $n entries, expected $2"
    record peer "$1" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" "$from" "-" "$check"
    if [ "$rc" != 0 ] || [ "$check" != ok ]; then tail -n 20 "$d/$1.stderr" >&2; fi
}

mkdir -p "$WORK/fw-html" "$WORK/fw-rest" "$WORK/fw-rest-run" "$WORK/peer"
fw_config "$WORK/fw-html" html
fw_config "$WORK/fw-rest" wordpress
fw_config "$WORK/fw-rest-run" wordpress

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

log "--- cold: empty stores and caches"
run_feedwright fw-html cold run "$POSTS"
run_feedwright fw-rest cold backfill "$POSTS"
run_feedwright fw-rest-run cold run "$POSTS"
run_python cold "$POSTS"

log "--- warm: nothing new on the site"
run_feedwright fw-html warm run "$POSTS"
run_feedwright fw-rest warm run "$POSTS"
run_feedwright fw-rest-run warm run "$POSTS"
run_python warm "$POSTS"
# A backfill keeps neither its robots.txt copy nor page 1's validators, so the first run after
# it is not a fully warm one: run once more to show the steady state.
run_feedwright fw-rest warm2 run "$POSTS"

log "--- one new post published"
post_sums >"$WORK/posts-before.sha1"
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
python3 "$HERE/gen_site.py" "$SITE" --posts "$POSTS" --base-url "$BASE" --rest-api --new-posts 1 --now "$NOW" \
    >"$WORK/manifest-new.json"
post_sums >"$WORK/posts-after.sha1"
NEW_URL=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["newest_post_url"])' "$WORK/manifest-new.json")
UNCHANGED=$(LC_ALL=C comm -12 "$WORK/posts-before.sha1" "$WORK/posts-after.sha1" | wc -l)
ADDED=$(LC_ALL=C comm -13 "$WORK/posts-before.sha1" "$WORK/posts-after.sha1" | wc -l)
REMOVED=$(LC_ALL=C comm -23 "$WORK/posts-before.sha1" "$WORK/posts-after.sha1" | wc -l)
WRITTEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["files_written"])' "$WORK/manifest-new.json")
log "published $NEW_URL ($NOW): $WRITTEN files rewritten; post pages: $UNCHANGED byte-identical, $ADDED added, $REMOVED changed or removed"
if [ "$UNCHANGED" != "$POSTS" ] || [ "$ADDED" != 1 ] || [ "$REMOVED" != 0 ]; then
    log "the $POSTS existing post pages must stay byte-identical"
    FAILED=1
fi
run_feedwright fw-html one-new run $((POSTS + 1))
run_feedwright fw-rest one-new run $((POSTS + 1))
run_feedwright fw-rest-run one-new run $((POSTS + 1))
run_python one-new $((POSTS + 1))

# ---------------------------------------------------------------- summary
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo
echo "machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo '?')"
echo "load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "one-new: $NEW_URL; the other $UNCHANGED post pages byte-identical ($WRITTEN files of the site rewritten: listings, feeds, home page, API data, the new page)"
python3 - "$RESULTS" <<'EOF'
import csv, sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
label = {
    ("fw-html", "cold"): "feedwright, html source: cold `run`",
    ("fw-html", "warm"): "feedwright, html source: warm `run`",
    ("fw-html", "one-new"): "feedwright, html source: one-new `run`",
    ("fw-rest", "cold"): "feedwright, wordpress source: cold `backfill`",
    ("fw-rest", "warm"): "feedwright, wordpress source: warm `run` (after the backfill)",
    ("fw-rest", "warm2"): "feedwright, wordpress source: warm `run` again",
    ("fw-rest", "one-new"): "feedwright, wordpress source: one-new `run`",
    ("fw-rest-run", "cold"): "feedwright, wordpress source: cold `run`",
    ("fw-rest-run", "warm"): "feedwright, wordpress source: warm `run` (after a cold `run`)",
    ("fw-rest-run", "one-new"): "feedwright, wordpress source: one-new `run` (after the above)",
    ("peer", "cold"): "Python peer --http-cache: cold",
    ("peer", "warm"): "Python peer --http-cache: warm",
    ("peer", "one-new"): "Python peer --http-cache: one-new",
}
print("\n| program and run | requests | 200 | 304 | other statuses | body bytes | of which HTML | of which JSON | feeds rewritten | wall s | checks |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
by = {}
for r in rows:
    by[(r["program"], r["scenario"])] = r
    check = "ok" if r["rc"] == "0" and r["check"] == "ok" else f"exit {r['rc']}; {r['check']}"
    print(f"| {label.get((r['program'], r['scenario']), r['program'] + ' ' + r['scenario'])} | {r['requests']} "
          f"| {r['st200']} | {r['st304']} | {r['other']} | {int(r['body']):,} | {int(r['html']):,} "
          f"| {int(r['json']):,} | {r['rewrote']} | {r['wall_s']} | {check} |")

def target(name, key, ok, value, goal):
    r = by.get(key)
    if r is None:
        return
    print(f"| {name} | {value(r)} | {goal} | {'yes' if ok(r) else 'NO'} |")

print("\n| target | value | target | met |")
print("|---|---|---|---|")
for prog, scen, what in (("fw-html", "warm", "html"), ("fw-rest", "warm", "wordpress, after backfill"),
                         ("fw-rest", "warm2", "wordpress, second run after backfill"),
                         ("fw-rest-run", "warm", "wordpress, after a cold run")):
    target(f"warm run ({what}): requests", (prog, scen), lambda r: int(r["requests"]) <= 2,
           lambda r: r["requests"], "<= 2")
    target(f"warm run ({what}): HTML body bytes", (prog, scen), lambda r: int(r["html"]) == 0,
           lambda r: f"{int(r['html']):,}", "0")
target("cold backfill through the REST API: requests", ("fw-rest", "cold"),
       lambda r: int(r["requests"]) <= 10, lambda r: r["requests"], "<= 10")
for prog, what in (("fw-html", "html"), ("fw-rest", "wordpress"), ("fw-rest-run", "wordpress, second client")):
    target(f"one new post ({what}): requests (the issue's test bound)", (prog, "one-new"),
           lambda r: int(r["requests"]) <= 4, lambda r: r["requests"], "<= 4")
EOF

if [ "$FAILED" != 0 ]; then
    log "some runs failed or produced wrong output (see the lines above)"
    exit 1
fi
