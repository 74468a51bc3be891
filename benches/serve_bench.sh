#!/usr/bin/env bash
# Requests per second of the feed server on loopback, for 200 and 304 answers.
# Needs `wrk` (apt-get install wrk). Builds feedwright in release mode, publishes the
# offline example's feeds into a temporary copy, serves them and measures with wrk.
# Appends the figures to benches/RESULTS.md unless NO_RECORD=1.
#
#   benches/serve_bench.sh [duration, default 10s] [connections, default 64]
set -euo pipefail

DURATION=${1:-10s}
CONNECTIONS=${2:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

cd "$ROOT"
cargo build --release --quiet --bin feedwright
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -r examples/offline/. "$WORK/"
rm -rf "$WORK/feeds" "$WORK"/feedwright.db*
printf '\n[server]\nlisten = "127.0.0.1:%s"\n' "$PORT" >> "$WORK/config.toml"
target/release/feedwright --config "$WORK/config.toml" run >/dev/null 2>&1 || true
FEED=$(cd "$WORK/feeds" && ls -d */ | head -n1 | tr -d /)
FILE="/$FEED/atom.xml"
target/release/feedwright --config "$WORK/config.toml" serve 2>/dev/null &
SERVER=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
ETAG=$(curl -fsI "http://127.0.0.1:$PORT$FILE" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
SIZE=$(wc -c < "$WORK/feeds$FILE")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "http://127.0.0.1:$PORT$FILE")" = 304 ] \
  || { echo "no 304 for a matching ETag" >&2; exit 1; }

rps() { awk '/Requests\/sec/{print $2}'; }
run() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" "http://127.0.0.1:$PORT$FILE"; }
OK=$(run | rps)
OKGZ=$(run -H 'Accept-Encoding: gzip' | rps)
NM=$(run -H "If-None-Match: $ETAG" | rps)

REPORT=$(cat <<MD

## Feed server: requests per second on loopback

\`benches/serve_bench.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPU(s) shared with other work, wrk
$THREADS threads, $CONNECTIONS connections, $DURATION each; \`$FILE\` ($SIZE bytes) from the
offline example, release build.

| answer | requests/s |
|---|---|
| 200, identity | $OK |
| 200, gzip | $OKGZ |
| 304 (\`If-None-Match\`) | $NM |
MD
)
echo "$REPORT"
if [ "${NO_RECORD:-0}" != 1 ]; then
  # One append, at the end, so other sections are left as they are.
  printf '%s\n' "$REPORT" >> "$ROOT/benches/RESULTS.md"
fi
