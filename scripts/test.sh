#!/usr/bin/env bash
# The project's test command (README, CI): the Swift tests (domain, store, and end to end over
# real TLS on loopback), then the Python grpcio interoperability check against the real binary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

swift build --build-tests
swift test --skip-build

venv="$root/.build/interop-venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r Tests/interop/requirements.txt
"$venv/bin/python" Tests/interop/interop_test.py "$(swift build --show-bin-path)/postal-gateway"
