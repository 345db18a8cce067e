#!/usr/bin/env bash
# ndr-doctor's speed and memory against ripgrep, side by side in one run (machines are
# noisy: compare the ratios). For each input (synthetic Postfix logs of the given sizes, 1%
# failures, and 200,000 lines that are all failures): the time and peak RSS of the human,
# ndjson, json and --summary outputs, each as a ratio to `rg -c` on the bare code pattern
# over the same input; human and ndjson through a pipe against `cat | rg -c`; the bounce
# corpus against `rg -c` over it; and the start-up of a one-file scan and of `explain`
# against `true`. Prints a markdown table (the README's performance table).
#
# usage: bench/run.sh [SIZE_MIB ...]   (default: 256 1024; BENCH_RUNS=N runs each, default 3)
#        needs hyperfine and ripgrep: apt-get install hyperfine ripgrep
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256 1024)
runs=${BENCH_RUNS:-3}
tmp=${TMPDIR:-/tmp}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for tool in hyperfine rg python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
cargo build --release --locked -q
bin=$(pwd)/target/release/ndr-doctor
pattern='[45]\.[0-9]{1,3}\.[0-9]{1,3}'

# name, log: the inputs, generated once and kept in $TMPDIR
inputs=()
for size in "${sizes[@]}"; do
  log=$tmp/ndr-doctor-bench-$size.log
  if [ ! -s "$log" ] || [ ! -s "$log.fails" ]; then
    echo "generating $log ($size MiB)..." >&2
    python3 bench/gen-postfix-log.py "$log" "$size" > "$log.fails"
  fi
  inputs+=("$size MiB log" "$log")
done
log=$tmp/ndr-doctor-bench-failures-200k.log
if [ ! -s "$log" ] || [ ! -s "$log.fails" ]; then
  echo "generating $log (200,000 failure lines)..." >&2
  python3 bench/gen-postfix-log.py "$log" 4096 100 200000 > "$log.fails"
fi
inputs+=("200k failure lines" "$log")

# peak RSS in KiB of a command line run by sh
rss() { /usr/bin/time -f %M sh -c "$1 >/dev/null" 2>&1 | tail -1; }

modes=(human "" ndjson "--format ndjson" json "--format json" summary "--summary")
i=0
while [ $i -lt ${#inputs[@]} ]; do
  name=${inputs[$i]} log=${inputs[$((i + 1))]} key=in$((i / 2))
  i=$((i + 2))
  expected=$(cat "$log.fails")
  found=$("$bin" --format ndjson --fail-on none "$log" | wc -l)
  [ "$found" = "$expected" ] || { echo "bench: $name: $found findings, $expected failure lines" >&2; exit 1; }
  echo "$name: $(du -m "$log" | cut -f1) MiB, $found findings" >&2
  cmds=("rg -c '$pattern' $log")
  for ((m = 0; m < ${#modes[@]}; m += 2)); do
    cmds+=("$bin ${modes[$((m + 1))]} --fail-on none $log")
  done
  hyperfine --style basic -N -w 1 -r "$runs" --export-json "$out/$key.file.json" "${cmds[@]}" >/dev/null
  hyperfine --style basic -w 1 -r "$runs" --export-json "$out/$key.pipe.json" \
    "cat $log | rg -c '$pattern'" "cat $log | $bin --fail-on none" \
    "cat $log | $bin --format ndjson --fail-on none" >/dev/null
  { echo "$name"
    rss "rg -c '$pattern' $log"
    for ((m = 0; m < ${#modes[@]}; m += 2)); do
      rss "$bin ${modes[$((m + 1))]} --fail-on none $log"
    done
  } > "$out/$key.rss"
done

corpus=../shared/corpus/sisimai
if [ -d "$corpus" ]; then
  hyperfine --style basic -N -w 3 -r 20 --export-json "$out/corpus.json" \
    "rg -c '$pattern' $corpus" "$bin --format ndjson --fail-on none $corpus" >/dev/null
fi
hyperfine --style basic -N -w 5 -r 40 --export-json "$out/startup.json" "true" \
  "$bin --fail-on none tests/fixtures/postfix.log" "$bin explain 4.4.316" >/dev/null

python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def means(name):
    p = os.path.join(out, name + ".json")
    return [r["mean"] for r in json.load(open(p))["results"]] if os.path.exists(p) else None
print("| input | | rg -c | human | ndjson | json | --summary |")
print("|---|---|---:|---:|---:|---:|---:|")
for rssf in sorted(glob.glob(os.path.join(out, "in*.rss"))):
    key = os.path.basename(rssf)[:-4]
    lines = open(rssf).read().split("\n")
    name, kib = lines[0], [int(x) for x in lines[1:] if x.strip()]
    f, p = means(key + ".file"), means(key + ".pipe")
    rg = f[0]
    print(f"| {name} | time | {rg*1000:.0f} ms | " + " | ".join(f"{t*1000:.0f} ms ({t/rg:.2f}x)" for t in f[1:]) + " |")
    print(f"| | through a pipe | {p[0]*1000:.0f} ms | " + " | ".join(f"{t*1000:.0f} ms ({t/p[0]:.2f}x)" for t in p[1:]) + " | | |")
    print(f"| | peak RSS | {kib[0]/1024:.1f} MiB | " + " | ".join(f"{k/1024:.1f} MiB ({k/max(kib[0],1):.1f}x)" for k in kib[1:]) + " |")
c = means("corpus")
if c:
    print(f"\nbounce corpus (ndjson): {c[1]*1000:.1f} ms, rg -c {c[0]*1000:.1f} ms: {c[1]/c[0]:.2f}x")
s = means("startup")
print(f"start-up: one-file scan {(s[1]-s[0])*1000:.2f} ms over `true`, explain {(s[2]-s[0])*1000:.2f} ms over `true`")
PY
