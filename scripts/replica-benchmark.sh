#!/usr/bin/env bash
# Durable custody-logged events per second and latency on SQLite and on PostgreSQL with one and
# two replicas, in one run (issue 18's benchmark): a release build of replica-benchmark against
# a throwaway PostgreSQL cluster (synchronous_commit=on, fsync=on) on this machine.
#   scripts/replica-benchmark.sh [--writers W] [--shipments N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/postgres-test-cluster.sh
postgres_test_cluster_start
swift build -c release --product replica-benchmark
"$(swift build -c release --show-bin-path)/replica-benchmark" \
  --postgres-url "$POSTAL_GATEWAY_TEST_DATABASE_URL" "$@"
