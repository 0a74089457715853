#!/usr/bin/env bash
# The reference run of benchmarks/README.md: TICKETS (default 1M) on both server profiles, each
# in its own throwaway sandbox, then the README regenerated from the two JSON files.
# PROFILES="durable" records one profile only. SCENARIOS="online_alter" NAME=online-alter-1m
# records only those scenarios (`--scenario`, no raw seed baseline) into $OUT/$NAME[-durable].json
# (`make bench-online-alter`). Needs a QUIET machine: refuses to start when the 1-minute load average is >= MAX_LOAD (1.5)
# unless FORCE=1, because numbers measured under load are not publishable.
# ~10-15 min per profile at 1M tickets on 2 cores (seed + raw load + every scenario + 3 levels ×
# 3 contenders × DURATION s).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
TICKETS=${TICKETS:-1000000}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-1,4,16}
MAX_LOAD=${MAX_LOAD:-1.5}
OUT=${OUT:-benchmarks}
NAME=${NAME:-bench-1m}
only=()
for s in ${SCENARIOS:-}; do only+=(--scenario "$s"); done
[ ${#only[@]} -eq 0 ] || only+=(--no-raw-baseline)
ROOT=$(mktemp -d /tmp/ticketdb-reference.XXXXXX)

load_high() { awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v m="$MAX_LOAD" 'BEGIN { exit !(l >= m) }'; }
if [ "${FORCE:-0}" != 1 ] && load_high; then
    echo "bench-reference: load average $(cut -d' ' -f1 /proc/loadavg) >= $MAX_LOAD: not a quiet machine (FORCE=1 to run anyway)" >&2
    exit 1
fi
# The first profile's own 16-client level leaves the 1-minute load average near 10: the second
# profile would start (and record) a "loaded" machine that is in fact idle. Wait for it to decay
# (about 2 minutes), up to SETTLE seconds; a machine that stays loaded is refused.
settle() {
    local waited=0
    while [ "${FORCE:-0}" != 1 ] && load_high; do
        if [ "$waited" -ge "${SETTLE:-300}" ]; then
            echo "bench-reference: load average still $(cut -d' ' -f1 /proc/loadavg) >= $MAX_LOAD after ${waited}s: something else runs here (FORCE=1 to run anyway)" >&2
            exit 1
        fi
        sleep 10; waited=$((waited + 10))
    done
}
make -s redis   # vip_open_tickets_cached needs one; starts a throwaway one when none answers

box=""
cleanup() { [ -n "$box" ] && "$BIN/ticketdb" sandbox destroy --yes --dir "$box" >/dev/null 2>&1; rm -rf "$ROOT"; }
trap cleanup EXIT
for profile in ${PROFILES:-fast durable}; do
    settle
    box="$ROOT/$profile"
    flag=""; suffix=""
    if [ "$profile" = durable ]; then flag="--durable"; suffix="-durable"; fi
    dsn=$("$BIN/ticketdb" sandbox start --dir "$box" $flag)
    "$BIN/ticketdb" bench --dsn "$dsn" --tickets "$TICKETS" --repeat 20 --clients "$CLIENTS" \
        --duration "$DURATION" ${only[@]+"${only[@]}"} --json "$OUT/$NAME$suffix.json" \
        --markdown "$OUT/$NAME$suffix.md" --plot "$OUT/$NAME$suffix.png"
    "$BIN/ticketdb" sandbox destroy --yes --dir "$box" >/dev/null
    box=""
done
# the README next to the JSON files (benchmarks/ by default: `make bench-readme`)
[ "$OUT/README.template.md" -ef benchmarks/README.template.md ] \
    || cp benchmarks/README.template.md "$OUT/README.template.md"
"$BIN/python" -m ticketdb.bench.readme "$OUT"
echo "bench-reference: $OUT/$NAME.json, $OUT/$NAME-durable.json and $OUT/README.md updated"
