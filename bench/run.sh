#!/usr/bin/env bash
# ndr-doctor's speed against ripgrep, side by side in one run (machines are noisy: compare
# the ratios). Targets: scan of a 512 MiB Postfix log <= 1.5x `rg -c` on the bare code
# pattern, from a file and through a pipe; max RSS <= 32 MiB; the bounce corpus < 50 ms;
# `explain` within 2 ms of `true`.
#
# usage: bench/run.sh [SIZE_MIB]      (needs hyperfine and ripgrep: apt-get install hyperfine ripgrep)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-512}
log=${BENCH_LOG:-${TMPDIR:-/tmp}/ndr-doctor-bench-$size.log}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for tool in hyperfine rg python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
cargo build --release --locked -q
bin=target/release/ndr-doctor
if [ ! -s "$log" ] || [ ! -s "$log.fails" ]; then
  echo "generating $log ($size MiB)..."
  python3 bench/gen-postfix-log.py "$log" "$size" > "$log.fails"
fi
pattern='[45]\.[0-9]{1,3}\.[0-9]{1,3}'

expected=$(cat "$log.fails")
found=$("$bin" --format ndjson --fail-on none "$log" | wc -l)
echo "findings: $found (deferral/bounce lines written: $expected)"
[ "$found" = "$expected" ] || { echo "bench: wrong number of findings" >&2; exit 1; }

run() { # name, then hyperfine arguments
  local name=$1; shift
  hyperfine --style basic --export-json "$out/$name.json" "$@" >/dev/null
}
run file -w 1 -r 5 -N "$bin --format ndjson --fail-on none $log" "rg -c '$pattern' $log"
run pipe -w 1 -r 5 "cat $log | $bin --format ndjson --fail-on none" "cat $log | rg -c '$pattern'"
corpus=../shared/corpus/sisimai
[ -d "$corpus" ] && run corpus -w 3 -r 30 -N "$bin --format ndjson --fail-on none $corpus"
run startup -w 5 -r 50 -N "$bin explain 4.4.316" "true"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
rss_file_default=$(rss "$bin" --fail-on none "$log")
rss_file_ndjson=$(rss "$bin" --format ndjson --fail-on none "$log")
rss_pipe_ndjson=$( (/usr/bin/time -f %M sh -c "cat '$log' | '$bin' --format ndjson --fail-on none >/dev/null") 2>&1 | tail -1)

python3 - "$out" "$rss_file_default" "$rss_file_ndjson" "$rss_pipe_ndjson" <<'PY'
import json, os, sys
out = sys.argv[1]
def means(name):
    p = os.path.join(out, name + ".json")
    if not os.path.exists(p):
        return None
    return [r["mean"] for r in json.load(open(p))["results"]]
f, p, c, s = means("file"), means("pipe"), means("corpus"), means("startup")
print(f"file : ndr-doctor {f[0]*1000:7.1f} ms  rg {f[1]*1000:7.1f} ms  ratio {f[0]/f[1]:.2f} (target <= 1.5)")
print(f"pipe : ndr-doctor {p[0]*1000:7.1f} ms  rg {p[1]*1000:7.1f} ms  ratio {p[0]/p[1]:.2f} (target <= 1.5)")
if c:
    print(f"corpus (545 files): {c[0]*1000:.1f} ms (target < 50)")
print(f"startup: explain {s[0]*1000:.2f} ms, true {s[1]*1000:.2f} ms, difference {(s[0]-s[1])*1000:.2f} ms (target <= 2)")
kib = [int(x) for x in sys.argv[2:]]
print(f"max RSS: default {kib[0]/1024:.1f} MiB, ndjson {kib[1]/1024:.1f} MiB, ndjson through a pipe {kib[2]/1024:.1f} MiB (target <= 32)")
PY
