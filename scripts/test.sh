#!/usr/bin/env bash
# The project's test command (README, CI): the Swift tests (domain, the store contract suite,
# handlers over the in-process transport, end to end over real TLS on loopback), the Python
# grpcio interoperability check against the real binary, and the idle-CPU check.
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

swift build --build-tests
swift test --skip-build

binary="$(swift build --show-bin-path)/postal-gateway"
python3 Tests/interop/interop_test.py "$binary"

# An idle server must not poll: its CPU time over 30 s of idleness stays near zero.
scripts/idle-cpu.sh "$binary" "${IDLE_CPU_SECONDS:-30}" 200
