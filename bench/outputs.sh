#!/usr/bin/env bash
# Writes what a build of ndr-doctor prints for the bounce corpus, the test fixtures and a
# synthetic log, in every format and with --summary, so two builds can be compared:
#
#   bench/outputs.sh BIN OUT_DIR [LOG]     then   diff -r OUT_DIR_BEFORE OUT_DIR_AFTER
#
# LOG defaults to a 128 MiB log written by gen-postfix-log.py (kept in $TMPDIR). Outputs
# are written with a fixed --now, width and language, so runs differ only by the build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
dir=$2
log=${3:-${TMPDIR:-/tmp}/ndr-doctor-bench-128.log}
[ -s "$log" ] || python3 bench/gen-postfix-log.py "$log" 128 > "$log.fails"
mkdir -p "$dir"
corpus=../shared/corpus/sisimai
inputs=(tests/fixtures)
[ -d "$corpus" ] && inputs+=("$corpus")
fixed=(--now 2026-03-06T00:00:00Z --lang en --width 100 --color never --fail-on none)
n=0
for input in "${inputs[@]}" "$log"; do
  n=$((n + 1))
  for f in human ndjson json markdown github; do
    "$bin" "${fixed[@]}" --format "$f" "$input" > "$dir/$n.$f" 2> "$dir/$n.$f.err" || true
    "$bin" "${fixed[@]}" --format "$f" --summary "$input" > "$dir/$n.$f.summary" 2> "$dir/$n.$f.summary.err" || true
  done
done
echo "$dir: $(ls "$dir" | wc -l) outputs"
