#!/usr/bin/env bash
# Measures the CPU time an idle gateway uses: starts the binary on a fresh data directory,
# waits until both listeners are up and the start-up work is done, then reads the process's
# own CPU counters (/proc/<pid>/stat utime + stime) over SECONDS of idleness.
# A server that polls shows up here. Fails when the idle CPU exceeds LIMIT_MS.
#
# Usage: scripts/idle-cpu.sh BINARY [SECONDS=60] [LIMIT_MS=200]
set -euo pipefail
binary="$1"
seconds="${2:-60}"
limit_ms="${3:-200}"
data="$(mktemp -d)"
log="$data/server.log"
"$binary" serve --data-dir "$data" --partner-address 127.0.0.1:0 --public-address 127.0.0.1:0 --web-address 127.0.0.1:0 \
  >"$log" 2>&1 &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 300); do
  if [[ "$(grep -c 'listening' "$log" || true)" -ge 2 ]]; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "idle-cpu: the server exited"; exit 1; fi
  sleep 0.1
done
[[ "$(grep -c 'listening' "$log" || true)" -ge 2 ]] || { cat "$log"; echo "idle-cpu: not listening"; exit 1; }
sleep 2  # let start-up work (first checkpoint, probes) settle
ticks="$(getconf CLK_TCK)"
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
before="$(cpu)"
sleep "$seconds"
after="$(cpu)"
used_ms=$(( (after - before) * 1000 / ticks ))
echo "idle-cpu: ${used_ms} ms of CPU in ${seconds} s idle (limit ${limit_ms} ms)"
if (( used_ms > limit_ms )); then
  echo "idle-cpu: the idle server used too much CPU: something polls"
  exit 1
fi
