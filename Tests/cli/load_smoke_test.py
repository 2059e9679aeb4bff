"""Smoke load (CI): the load tool drives the echo server and a gateway for a few seconds each,
every workload, and its figures make sense. The full benchmark is scripts/performance-report.sh.

Checks that each run made calls with no failures, that percentiles are ordered, that the JSON
carries the server's CPU and memory when given its pid, and that a run against the echo
baseline prints ratios to it.

Usage: python3 Tests/cli/load_smoke_test.py PATH/TO/postal-gateway
"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop"))
from interop_test import expect, free_port  # noqa: E402


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="postal-gateway-load-")
    data = os.path.join(work, "data")
    config = os.path.join(work, "config.json")
    routes = os.path.join(work, "routes.json")
    with open(routes, "w") as f:  # the ack workload acknowledges as a pull-mode agency
        json.dump({"agencies": [{"agency": "000.00.00.H55", "mode": "pull"}]}, f)
    with open(config, "w") as f:
        json.dump({"limits": {"maximumConcurrentCallsPerCaller": 1024}, "handoffs": {"routes": routes}}, f)
    subprocess.run([binary, "pki", "init", "--data-dir", data], check=True, capture_output=True)
    partner, public = free_port(), free_port()
    log = open(os.path.join(work, "server.log"), "w")
    gateway = subprocess.Popen(
        [binary, "serve", "--config", config, "--data-dir", data,
         "--partner-address", f"127.0.0.1:{partner}", "--public-address", f"127.0.0.1:{public}", "--web-address", "127.0.0.1:0"],
        stdout=log, stderr=subprocess.STDOUT)
    echo = subprocess.Popen([binary, "load", "echo-server", "--data-dir", data, "--address", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = echo.stdout.readline()
        expect(line.startswith("echo server listening on 127.0.0.1:"), f"the echo server prints its address: {line.strip()}")
        echo_address = line.split()[-1]

        def load(*arguments, pid=None):
            command = [binary, "load", "run", "--data-dir", data, "--json", *arguments]
            if pid:
                command += ["--server-pid", str(pid)]
            for _ in range(100):  # the gateway may still be starting
                try:
                    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
                except subprocess.TimeoutExpired:
                    raise SystemExit(f"FAILED: load {' '.join(arguments)} did not finish in 180 s")
                if result.returncode == 0 or "unavailable" not in result.stderr:
                    break
                time.sleep(0.2)
            if result.returncode != 0:
                raise SystemExit(f"FAILED: load {' '.join(arguments)}: {result.stderr.strip()[-300:]}")
            report = json.loads(result.stdout)
            latency = report["latencyMilliseconds"]
            expect(report["calls"] > 0 and not report["failures"] and report["succeeded"] == report["calls"],
                   f"{report['workload']}: {report['calls']} calls, {report['callsPerSecond']:.0f}/s, no failures")
            expect(0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p999"] <= latency["max"],
                   f"{report['workload']}: p50 {latency['p50']:.2f} ≤ p90 ≤ p99 ≤ p99.9 ≤ max {latency['max']:.2f} ms")
            return report

        baseline = load("--workload", "echo", "--server", echo_address, "--duration", "2", "--warmup", "0.5",
                        pid=echo.pid)
        expect(baseline["serverCPUSeconds"] > 0 and baseline["serverPeakRSSMegabytes"] > 1,
               f"the echo server's CPU ({baseline['serverCPUSeconds']:.2f} s) and RSS "
               f"({baseline['serverPeakRSSMegabytes']:.0f} MB) are read from /proc")
        baseline_file = os.path.join(work, "echo.json")
        with open(baseline_file, "w") as f:
            json.dump(baseline, f)

        register = load("--workload", "register", "--server", f"127.0.0.1:{partner}", "--duration", "5",
                        "--baseline", baseline_file, pid=gateway.pid)
        ratio = register["ratioToBaseline"]
        expect(ratio["baselineWorkload"] == "echo" and ratio["callsPerSecond"] > 0 and ratio["p99"] > 0
               and ratio["serverCPUPerCall"] > 0,
               f"register against echo: throughput × {ratio['callsPerSecond']:.2f}, p99 × {ratio['p99']:.2f}, "
               f"CPU per call × {ratio['serverCPUPerCall']:.2f}")
        load("--workload", "event", "--server", f"127.0.0.1:{partner}", "--connections", "2", "--streams", "4",
             "--shipments-per-stream", "2", "--duration", "2", "--warmup", "0.5")
        load("--workload", "track", "--server", f"127.0.0.1:{public}", "--partner", f"127.0.0.1:{partner}",
             "--tracked-shipments", "16", "--duration", "2", "--warmup", "0.5")
        load("--workload", "proof", "--server", f"127.0.0.1:{public}", "--partner", f"127.0.0.1:{partner}",
             "--tracked-shipments", "16", "--duration", "2", "--warmup", "0.5")
        ack = load("--workload", "ack", "--server", f"127.0.0.1:{partner}", "--connections", "2", "--streams", "8",
                   "--requests", "64")
        expect(ack["calls"] == 64, "ack: 64 prepared dossiers accepted by the pull-mode agency, one call each")
        paced = load("--workload", "echo", "--server", echo_address, "--connections", "1", "--streams", "2",
                     "--rate", "200", "--requests", "200")
        # Paced: never faster than offered (a slow machine may take longer).
        expect(paced["calls"] == 200 and paced["seconds"] >= 0.9 and paced["offeredRate"] == 200,
               f"--rate 200 --requests 200 makes 200 calls in no less than a second ({paced['seconds']:.2f} s)")
    finally:
        for process in (gateway, echo):
            process.terminate()
            process.wait(timeout=30)
    print("load smoke test passed")


if __name__ == "__main__":
    main()
