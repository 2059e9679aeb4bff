#!/usr/bin/env bash
# Regenerates the figures of docs/performance.md (and docs/performance/*.svg) on this machine:
# builds in release, then runs the load tool against the echo server and a gateway (with group
# commit, and with one transaction per write), paced runs for the latency plot, and the custody
# benchmark in process.
#
# Usage: scripts/performance-report.sh            3 runs of 10 s per workload (about 16 minutes
#                                                 with the 10,000,000-entry proof benchmark)
#        DURATION=20 RUNS=3 PROOF_ENTRIES=10000000 scripts/performance-report.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
swift build -c release --product postal-gateway
swift build -c release --product custody-benchmark
python3 scripts/performance_report.py "$(swift build -c release --show-bin-path)" \
  --duration "${DURATION:-10}" --runs "${RUNS:-3}" --proof-entries "${PROOF_ENTRIES:-10000000}"
