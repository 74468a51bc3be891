#!/usr/bin/env bash
# Cold-run benchmark: `feedwright run` against the Python peer pipeline and a plain parallel
# download, on the same generated 500-post WordPress-like site served on loopback; and, to show
# how much of the gap to the download is the crates' own floor, the same URLs downloaded with
# reqwest and parsed with scraper, doing nothing else (benches/fetch_floor.rs).
#
#   benches/run_bench.sh                 # 5 rounds
#   ROUNDS=9 benches/run_bench.sh        # more rounds
#
# Environment:
#   ROUNDS=5         rounds; each round runs A (feedwright), B (python), C (curl), D (reqwest +
#                    scraper floor) in that order
#   SKIP_BUILD=1     do not run `cargo build --release --locked` first
#   FEEDWRIGHT=PATH  the binary to measure (default: <repo>/target/release/feedwright)
#   FETCH_FLOOR=PATH program D's executable (default: built with
#                    `cargo bench --bench fetch_floor --no-run`, a no-op when it is up to date)
#   KEEP=1           keep the temporary work folder (site, configs, outputs, logs) and print it
#
# Prints one line per process, then a Markdown table of medians and the three ratios with their
# targets. Exits 1 if any process failed or any output check failed. See benches/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-5}
POSTS=500
PER_PAGE=10
LISTING_PAGES=$(((POSTS + PER_PAGE - 1) / PER_PAGE))
FEED_LIMIT=50
CATEGORY=international-negotiation
FEEDWRIGHT=${FEEDWRIGHT:-$REPO/target/release/feedwright}

case "$ROUNDS" in
'' | *[!0-9]* | 0) echo "ROUNDS must be a positive integer (got '$ROUNDS')" >&2; exit 2 ;;
esac

log() { printf '%s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; return 1
    fi
}

# ---------------------------------------------------------------- prerequisites
command -v python3 >/dev/null || { log "python3 is required"; exit 2; }
if [ ! -x /usr/bin/time ]; then
    log "installing GNU time (/usr/bin/time)"
    as_root apt-get install -y time >&2
fi
if ! command -v curl >/dev/null; then
    log "installing curl"
    as_root apt-get install -y curl >&2
fi
if ! python3 -c 'import requests, bs4, lxml, feedgen' 2>/dev/null; then
    log "installing the Python peer's packages"
    python3 -m pip install --quiet requests beautifulsoup4 lxml feedgen >&2
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building feedwright (release)"
    (cd "$REPO" && cargo build --release --locked) >&2
fi
[ -x "$FEEDWRIGHT" ] || { log "no feedwright binary at $FEEDWRIGHT"; exit 2; }
if [ -z "${FETCH_FLOOR:-}" ]; then
    log "building the reqwest + scraper floor (benches/fetch_floor.rs)"
    FETCH_FLOOR=$(cd "$REPO" && cargo bench --bench fetch_floor --no-run --locked --message-format=json |
        python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "fetch_floor" and m.get("executable"):
        print(m["executable"])')
fi
[ -x "$FETCH_FLOOR" ] || { log "no fetch_floor executable at '$FETCH_FLOOR'"; exit 2; }

# ---------------------------------------------------------------- work folder and server
WORK=$(mktemp -d "${TMPDIR:-/tmp}/feedwright-bench.XXXXXX")
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

log "generating the site ($POSTS posts) for $BASE"
python3 "$HERE/gen_site.py" "$SITE" --clean --posts "$POSTS" --base-url "$BASE" >"$WORK/manifest.json"

python3 "$HERE/serve.py" "$SITE" --port "$PORT" --log "$ACCESS_LOG" >"$WORK/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -fs -o /dev/null "$BASE/robots.txt" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.out" >&2; log "server died"; exit 1; }
    sleep 0.1
done
curl -fs -o /dev/null "$BASE/robots.txt" || { log "server did not come up on $BASE"; exit 1; }

# ---------------------------------------------------------------- the URL list (programs C and D)
# The same URLs the scrapers need: the listing pages and every post page.
URLS=$WORK/urls.txt
{
    echo "$CAT_URL"
    for k in $(seq 2 "$LISTING_PAGES"); do echo "${CAT_URL}page/$k/"; done
    (cd "$SITE" && find . -path './[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*/index.html' -print) |
        sed -e 's|^\./||' -e 's|index\.html$||' | sort | sed "s|^|$BASE/|"
} >"$URLS"
N_URLS=$(wc -l <"$URLS")
[ "$N_URLS" -eq $((LISTING_PAGES + POSTS)) ] || { log "expected $((LISTING_PAGES + POSTS)) URLs, found $N_URLS"; exit 1; }

curl_config() { # $1: output folder
    local i=0 u
    while IFS= read -r u; do
        i=$((i + 1))
        printf 'url = "%s"\noutput = "%s/%04d.html"\n' "$u" "$1" "$i"
    done <"$URLS"
}

# ---------------------------------------------------------------- feedwright config (program A)
fw_config() { # $1: run folder
    cat >"$1/config.toml" <<EOF
# Benchmark configuration: one cold run over the generated loopback site.
# A fresh folder per run, so the store starts empty (cold) and every post is fetched.
output_dir = "feeds"
# Only used for the feeds' self links.
public_url = "$BASE/feeds/"

[store]
path = "feedwright.db"

[http]
user_agent = "feedwright-bench/0.1 (+loopback benchmark)"
# No courtesy delay between requests: the host is our own loopback server, and the benchmark
# measures feedwright's own cost, not its politeness (the shipped default is 1000 ms).
min_interval_ms = 0
# Same parallelism as the curl floor (curl --parallel-max 8).
per_host_concurrency = 8
# Well above the $((LISTING_PAGES + POSTS)) requests a cold run needs (plus robots.txt), so the
# budget never cuts the run short.
max_requests = 2000

[[source]]
name = "bench"
url = "$CAT_URL"
kind = "html"
# Above the $LISTING_PAGES listing pages of the category, so the whole category is walked.
max_pages = 60

[[feed]]
name = "bench"
title = "Benchmark feed"
sources = ["bench"]
# Entries per feed document (the default); the run's atom.xml must hold exactly this many.
limit = $FEED_LIMIT
EOF
}

# Rows in the store's entry table, read with the sqlite3 CLI if present, else Python's sqlite3.
store_count() { # $1: database file
    local sql="SELECT COUNT(*) FROM entries"
    if command -v sqlite3 >/dev/null; then
        sqlite3 -readonly "$1" "$sql"
    else
        python3 -c 'import sqlite3, sys; print(sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True).execute(sys.argv[2]).fetchone()[0])' "$1" "$sql"
    fi
}

count_entries() { # $1: an Atom file -> number of <entry> elements
    if [ -f "$1" ]; then grep -o '<entry[ >]' "$1" | wc -l; else echo 0; fi
}

# ---------------------------------------------------------------- measuring
RESULTS=$WORK/results.tsv
printf 'round\tprogram\twall_s\trss_kb\tcpu_s\tserver_cpu_s\trc\trequests\tstatuses\tcheck\n' >"$RESULTS"
FAILED=0
CLK_TCK=$(getconf CLK_TCK)

server_ticks() { # CPU time (user+sys, clock ticks) the server has used so far
    awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"
}

timed() { # $1: time -v output file, rest: command. Returns the command's exit status.
    local out=$1
    shift
    local rc=0
    /usr/bin/time -v -o "$out" "$@" || rc=$?
    return "$rc"
}

time_field() { # $1: file, $2: field -> value
    case "$2" in
    wall) awk -F': ' '/Elapsed \(wall clock\)/ { n = split($NF, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1" ;;
    rss) awk -F': ' '/Maximum resident set size/ { print $NF }' "$1" ;;
    cpu) awk -F': ' '/User time \(seconds\)/ { u = $NF } /System time \(seconds\)/ { s = $NF } END { printf "%.2f", u + s }' "$1" ;;
    esac
}

record() { # round program timefile rc log_from server_ticks_before check
    local round=$1 prog=$2 tf=$3 rc=$4 from=$5 t0=$6 check=$7 wall rss cpu srv stats req st
    sleep 0.2 # let the server log its last response
    srv=$(awk -v a="$t0" -v b="$(server_ticks)" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
    wall=$(time_field "$tf" wall)
    rss=$(time_field "$tf" rss)
    cpu=$(time_field "$tf" cpu)
    stats=$(python3 "$HERE/logstats.py" "$ACCESS_LOG" --since-line "$from")
    req=$(printf '%s' "$stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
    st=$(printf '%s' "$stats" | python3 -c 'import json, sys; print(",".join(f"{k}:{v}" for k, v in json.load(sys.stdin)["status"].items()))')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$prog" "$wall" "$rss" "$cpu" "$srv" "$rc" "$req" "$st" "$check" >>"$RESULTS"
    log "$(printf 'round %s  %-10s wall %6.2f s  rss %6.1f MB  cpu %5.2f s  server cpu %5.2f s  rc %s  requests %s (%s)  %s' \
        "$round" "$prog" "$wall" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$cpu" "$srv" "$rc" "$req" "$st" "$check")"
    if [ "$rc" != 0 ] || [ "$check" != ok ]; then FAILED=1; fi
}

run_feedwright() { # $1: round
    local d=$WORK/round$1/feedwright rc=0 from t0 check n_feed n_store
    mkdir -p "$d"
    fw_config "$d"
    from=$(wc -l <"$ACCESS_LOG")
    t0=$(server_ticks)
    timed "$d/time.txt" "$FEEDWRIGHT" --config "$d/config.toml" run >"$d/stdout.txt" 2>"$d/stderr.txt" || rc=$?
    n_feed=$(count_entries "$d/feeds/bench/atom.xml")
    n_store=$(store_count "$d/feedwright.db" 2>>"$d/stderr.txt" || echo "?")
    check=
    [ "$n_feed" -eq "$FEED_LIMIT" ] || check="atom.xml has $n_feed entries, expected $FEED_LIMIT; "
    [ "$n_store" = "$POSTS" ] || check="${check}store has $n_store entries, expected $POSTS"
    check=${check%; }
    check=${check:-ok}
    record "$1" feedwright "$d/time.txt" "$rc" "$from" "$t0" "$check"
    if [ "$rc" != 0 ] || [ "$check" != ok ]; then tail -n 20 "$d/stderr.txt" >&2; fi
}

run_python() { # $1: round
    local d=$WORK/round$1/python rc=0 from t0 check n
    mkdir -p "$d"
    from=$(wc -l <"$ACCESS_LOG")
    t0=$(server_ticks)
    timed "$d/time.txt" python3 "$HERE/py_pipeline.py" "$CAT_URL" --atom "$d/peer.atom" \
        >"$d/stdout.txt" 2>"$d/stderr.txt" || rc=$?
    n=$(count_entries "$d/peer.atom")
    check=ok
    [ "$n" -eq "$POSTS" ] || check="peer.atom has $n entries, expected $POSTS"
    record "$1" python "$d/time.txt" "$rc" "$from" "$t0" "$check"
    if [ "$rc" != 0 ] || [ "$check" != ok ]; then tail -n 20 "$d/stderr.txt" >&2; fi
}

run_curl() { # $1: round ('warmup' is not recorded)
    local d=$WORK/round$1/curl rc=0 from t0 check n
    mkdir -p "$d/out"
    curl_config "$d/out" >"$d/urls.cfg"
    from=$(wc -l <"$ACCESS_LOG")
    t0=$(server_ticks)
    timed "$d/time.txt" curl --parallel --parallel-max 8 --fail --silent --show-error -K "$d/urls.cfg" \
        >"$d/stdout.txt" 2>"$d/stderr.txt" || rc=$?
    [ "$1" = warmup ] && return 0
    n=$(find "$d/out" -type f -size +0 | wc -l)
    check=ok
    [ "$n" -eq "$N_URLS" ] || check="curl saved $n files, expected $N_URLS"
    record "$1" curl "$d/time.txt" "$rc" "$from" "$t0" "$check"
    if [ "$rc" != 0 ] || [ "$check" != ok ]; then tail -n 20 "$d/stderr.txt" >&2; fi
}

run_floor() { # $1: round
    local d=$WORK/round$1/floor rc=0 from t0 check
    mkdir -p "$d"
    from=$(wc -l <"$ACCESS_LOG")
    t0=$(server_ticks)
    timed "$d/time.txt" "$FETCH_FLOOR" "$URLS" 8 >"$d/stdout.txt" 2>"$d/stderr.txt" || rc=$?
    check=ok
    grep -q "^$N_URLS pages, .* 0 failed" "$d/stdout.txt" ||
        check="expected $N_URLS pages and no failure, got: $(head -c 200 "$d/stdout.txt")"
    record "$1" floor "$d/time.txt" "$rc" "$from" "$t0" "$check"
    if [ "$rc" != 0 ] || [ "$check" != ok ]; then tail -n 20 "$d/stderr.txt" >&2; fi
}

log "warm-up: one untimed download of all $N_URLS URLs (fills the page cache and the server's ETag cache)"
run_curl warmup
rm -rf "$WORK/roundwarmup"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
for r in $(seq 1 "$ROUNDS"); do
    run_feedwright "$r"
    run_python "$r"
    run_curl "$r"
    run_floor "$r"
done

# ---------------------------------------------------------------- summary
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo
echo "machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo '?')"
echo "load average (1/5/15 min) before the rounds: $LOAD_BEFORE; after: $LOAD_AFTER"
python3 - "$RESULTS" "$ROUNDS" <<'EOF'
import csv, statistics, sys

path, rounds = sys.argv[1], int(sys.argv[2])
rows = list(csv.DictReader(open(path), delimiter="\t"))
progs = {"feedwright": "A. feedwright run", "python": "B. Python peer (requests+bs4+feedgen)",
         "curl": "C. curl --parallel-max 8 (floor)",
         "floor": "D. reqwest + scraper: download and parse only"}
med = {}
print(f"\n{rounds} round(s), medians (min-max):\n")
print("| program | wall s | peak RSS MB | CPU s (user+sys) | server CPU s | requests | checks |")
print("|---|---|---|---|---|---|---|")
for key, label in progs.items():
    rs = [r for r in rows if r["program"] == key]
    wall = [float(r["wall_s"]) for r in rs]
    rss = [int(r["rss_kb"]) / 1024 for r in rs]
    cpu = [float(r["cpu_s"]) for r in rs]
    srv = [float(r["server_cpu_s"]) for r in rs]
    req = sorted({r["requests"] for r in rs})
    bad = [r for r in rs if r["rc"] != "0" or r["check"] != "ok"]
    med[key] = (statistics.median(wall), statistics.median(rss))
    print(f"| {label} | {med[key][0]:.2f} ({min(wall):.2f}-{max(wall):.2f}) "
          f"| {med[key][1]:.1f} ({min(rss):.1f}-{max(rss):.1f}) "
          f"| {statistics.median(cpu):.2f} | {statistics.median(srv):.2f} | {'/'.join(req)} "
          f"| {'all ok' if not bad else f'{len(bad)} of {len(rs)} FAILED'} |")

fw, py, cu, fl = (med[k][0] for k in ("feedwright", "python", "curl", "floor"))
ratio = lambda a, b: a / b if b > 0 else float("inf")
checks = [
    ("python / feedwright wall time", f"{ratio(py, fw):.1f}x", ">= 8x", ratio(py, fw) >= 8),
    ("feedwright / curl wall time", f"{ratio(fw, cu):.2f}x", "<= 2x", ratio(fw, cu) <= 2),
    ("feedwright peak RSS", f"{med['feedwright'][1]:.1f} MB", "< 50 MB", med["feedwright"][1] < 50),
    # Context, no target: what the download and parse alone cost with these crates.
    ("reqwest + scraper floor / curl wall time", f"{ratio(fl, cu):.2f}x", "(context)", None),
    ("feedwright / reqwest + scraper floor", f"{ratio(fw, fl):.2f}x", "(context)", None),
]
print("\n| ratio (of medians) | value | target | met |")
print("|---|---|---|---|")
for name, value, target, ok in checks:
    print(f"| {name} | {value} | {target} | {'-' if ok is None else 'yes' if ok else 'NO'} |")
EOF

if [ "$FAILED" != 0 ]; then
    log "some runs failed or produced wrong output (see the lines above)"
    exit 1
fi
