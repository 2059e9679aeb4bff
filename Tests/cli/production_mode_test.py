#!/usr/bin/env python3
"""Production mode, from the outside: the real binary on a non-loopback address.

1. `serve --partner-address 0.0.0.0:0` without configured certificates and catalog exits
   non-zero, naming both, and creates no development PKI;
2. with `--development` it starts, warns that it runs on development material, and with
   `--log-format json` every line it logs is a JSON object; SIGTERM stops it cleanly.

Usage: python3 Tests/cli/production_mode_test.py PATH/TO/postal-gateway
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time


def check(condition, message):
    print(("ok - " if condition else "FAIL - ") + message, flush=True)
    if not condition:
        raise SystemExit(1)


def main():
    binary = os.path.abspath(sys.argv[1])
    workdir = tempfile.mkdtemp(prefix="production-mode-")
    public = ["--partner-address", "0.0.0.0:0", "--public-address", "127.0.0.1:0",
              "--web-address", "127.0.0.1:0"]

    refused = subprocess.run([binary, "serve", *public], cwd=workdir, capture_output=True,
                             text=True, timeout=60)
    check(refused.returncode != 0, f"a non-loopback serve without certificates exits non-zero "
                                   f"({refused.returncode})")
    check("tls" in refused.stderr and "catalog" in refused.stderr,
          f"the message names what is missing: {refused.stderr.strip()}")
    check(not os.path.exists(os.path.join(workdir, "postal-data", "pki")),
          "no development PKI was created")

    log_path = os.path.join(workdir, "server.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen([binary, "serve", "--development", "--log-format", "json",
                                   *public], cwd=workdir, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline, records = time.time() + 60, []
        while time.time() < deadline:
            with open(log_path) as f:
                lines = [line for line in f.read().splitlines() if line.strip()]
            records = [json.loads(line) for line in lines]  # every line must be JSON
            if sum(1 for r in records if r.get("message") == "listening") == 3:
                break
            if server.poll() is not None:
                check(False, f"the development server exited early ({server.returncode})")
            time.sleep(0.2)
        check(sum(1 for r in records if r.get("message") == "listening") == 3,
              "with --development both listeners and the web address start")
        check(any(r.get("level") == "warning" and "DEVELOPMENT MODE" in r.get("message", "")
                  for r in records), "it warns that it serves development material")
        server.send_signal(signal.SIGTERM)
        check(server.wait(timeout=30) == 0, "SIGTERM stops it cleanly")
        with open(log_path) as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
        check(all(isinstance(json.loads(line), dict) for line in lines),
              f"all {len(lines)} log lines are JSON objects")

    finally:
        if server.poll() is None:
            server.kill()


if __name__ == "__main__":
    main()
