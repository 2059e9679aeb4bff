#!/usr/bin/env bash
# The project's test command (README, CI): the Swift tests (domain, the store contract suite,
# handlers over the in-process transport, end to end over real TLS on loopback), the Python
# grpcio interoperability check against the real binary, every CLI command of the README against
# a running server, the RPC fuzzer and the idle-CPU check.
# Python tools (grpcio, and cryptography for the independent receipt verifier the Swift tests
# run) go into a virtual environment under .build that comes first on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/.build/interop-venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r Tests/interop/requirements.txt
export PATH="$venv/bin:$PATH"
# Every line shows as it is printed (a pipe or a CI log sees where a step stands), and no step
# may hang the run: each has a time limit far above what it takes here (timeout exits 124).
export PYTHONUNBUFFERED=1
step() { local limit="$1"; shift; timeout --kill-after=30 "$limit" "$@"; }

# A throwaway PostgreSQL cluster for the PostgreSQL store tests (stopped when this script exits);
# without PostgreSQL installed those tests are skipped, unless POSTAL_GATEWAY_POSTGRES_TESTS=required.
source scripts/postgres-test-cluster.sh
if [[ -z "${POSTAL_GATEWAY_TEST_DATABASE_URL:-}" ]]; then
  postgres_test_cluster_start || [[ "${POSTAL_GATEWAY_POSTGRES_TESTS:-}" != required ]]
fi

SECONDS=0
step 3600 swift build --build-tests
echo "test.sh: build $SECONDS s"
SECONDS=0
step 1200 swift test --skip-build
echo "test.sh: swift test $SECONDS s"
SECONDS=0
# The end-to-end suites again, each gateway serving from its own database on the PostgreSQL
# test cluster (tests that inspect the SQLite file itself are skipped there).
if [[ -n "${POSTAL_GATEWAY_TEST_DATABASE_URL:-}" ]]; then
  POSTAL_GATEWAY_TEST_GATEWAY_BACKEND=postgres step 1200 swift test --skip-build \
    --filter PostalGatewayTests
  echo "test.sh: end-to-end suites on PostgreSQL $SECONDS s"
  SECONDS=0
fi

binary="$(swift build --show-bin-path)/postal-gateway"
step 600 python3 Tests/interop/interop_test.py "$binary"
echo "test.sh: interop $SECONDS s"
SECONDS=0

# The citizens' web page and JSON API: OpenAPI, JSON against gRPC, then a real Chromium
# (Debian's chromium and chromium-driver) on a 360-pixel window, keyboard only, with axe-core.
step 600 python3 Tests/web/web_test.py "$binary"
echo "test.sh: web $SECONDS s"
SECONDS=0

# Every `gw` command the README lists, as written there, against a running server.
step 600 python3 Tests/cli/readme_walkthrough.py "$binary"
echo "test.sh: readme walkthrough $SECONDS s"
SECONDS=0

# Production mode: a non-loopback address needs real certificates and a catalog.
step 600 python3 Tests/cli/production_mode_test.py "$binary"

# The install: deploy/install.sh into a temporary root, and the installed binary run from there.
step 600 python3 Tests/cli/install_test.py "$binary"
# `db migrate|version` on the test cluster: migrations, and bad locations refused with the reason.
step 600 python3 Tests/cli/database_command_test.py "$binary"
# Two replicas on one database, one killed with SIGKILL mid-load: nothing acknowledged is lost
# or doubled, the other replica signs on, `log fsck` passes.
step 600 python3 Tests/cli/replica_failover_test.py "$binary"
# A province moves: the interop scenario on SQLite, `db copy` into PostgreSQL, the same answers
# from a gateway on the copy, the interop scenario again against it, `log fsck` on it.
step 900 python3 Tests/cli/database_copy_test.py "$binary"
echo "test.sh: production mode and install $SECONDS s"
SECONDS=0

# Group commit survives SIGKILL under load; the load tool drives every workload for a few seconds.
step 600 python3 Tests/cli/crash_test.py "$binary"
# Pending notifications survive SIGKILL: sent after the restart, with their ids, exactly once.
step 600 python3 Tests/cli/notification_crash_test.py "$binary"
step 600 python3 Tests/cli/load_smoke_test.py "$binary"
echo "test.sh: crash test and load smoke $SECONDS s"
SECONDS=0

# Structure-aware fuzzing of every RPC: 10,000 cases with a fixed seed, then more with a random
# seed that is printed (FUZZ_CASES / FUZZ_RANDOM_CASES change the counts).
step 600 python3 Tests/fuzz/fuzz_rpc.py "$binary" --cases "${FUZZ_CASES:-10000}" \
  --random-cases "${FUZZ_RANDOM_CASES:-1000}"
echo "test.sh: fuzz $SECONDS s"

# An idle server must not poll: its CPU time over 20 s of idleness stays near zero.
step 300 scripts/idle-cpu.sh "$binary" "${IDLE_CPU_SECONDS:-20}" 200
