#!/usr/bin/env python3
"""The install, from the outside: `deploy/install.sh --root` into a temporary root, then the
installed binary — with only what the installer put there, started from a folder outside the
build tree — serves, reloads on SIGHUP and stops cleanly on SIGTERM. Also: the unit is hardened
and has ExecReload, and a binary without its data names the folders it looked in.

Usage: python3 Tests/cli/install_test.py PATH/TO/postal-gateway
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check(condition, message):
    print(("ok - " if condition else "FAIL - ") + message, flush=True)
    if not condition:
        raise SystemExit(1)


def wait_for(path, pattern, count, process, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(path) as f:
            if len(re.findall(pattern, f.read())) >= count:
                return True
        if process.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def main():
    binary = os.path.abspath(sys.argv[1])
    root = tempfile.mkdtemp(prefix="install-root-")
    subprocess.run(["bash", os.path.join(ROOT, "deploy/install.sh"), "--root", root,
                    "--binary", binary], check=True)
    installed = os.path.join(root, "usr/local/bin/postal-gateway")
    for path in ["usr/local/bin/postal-gateway", "usr/local/share/postal-gateway/calendars",
                 "usr/local/share/postal-gateway/policies/sla-policy.json",
                 "etc/postal-gateway/config.json", "etc/postal-gateway/catalog.json.sample",
                 "etc/systemd/system/postal-gateway.service", "var/lib/postal-gateway"]:
        check(os.path.exists(os.path.join(root, path)), f"installed {path}")
    unit = open(os.path.join(root, "etc/systemd/system/postal-gateway.service")).read()
    for line in ["ExecReload=/bin/kill -HUP $MAINPID", "User=postal-gateway",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/postal-gateway",
                 "NoNewPrivileges=true", "PrivateTmp=true", "CapabilityBoundingSet="]:
        check(line in unit, f"the unit has {line}")
    check(oct(os.stat(os.path.join(root, "var/lib/postal-gateway")).st_mode & 0o777) == "0o700",
          "the data directory is private")

    # The installed binary, from a folder with nothing of the build tree in it.
    workdir = tempfile.mkdtemp(prefix="install-run-")
    env = {k: v for k, v in os.environ.items() if k != "POSTAL_GATEWAY_DATA"}
    log_path = os.path.join(workdir, "server.log")
    data = os.path.join(root, "var/lib/postal-gateway")
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [installed, "serve", "--data-dir", data, "--partner-address", "127.0.0.1:0",
             "--public-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
             "--web-address", "127.0.0.1:0"], cwd=workdir, env=env, stdout=log, stderr=log)
    check(wait_for(log_path, r"\blistening\b", 2, server), "the installed binary serves")
    port = re.search(r"listener=partner listener\.address=\S*:(\d+)", open(log_path).read()).group(1)
    client = dict(env, POSTAL_GATEWAY_PARTNER=f"127.0.0.1:{port}")

    def gw(*args):
        return subprocess.run([installed, *args, "--data-dir", data], cwd=workdir, env=client,
                              capture_output=True, text=True, timeout=60)
    check(gw("shipment", "list").returncode == 0, "the staff certificate works")
    metrics_port = re.search(r"listener=metrics listener\.address=\S*:(\d+)",
                             open(log_path).read()).group(1)
    import urllib.request
    scraped = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
    text = scraped.read().decode()
    check('grpc_method="ListShipments",grpc_code="OK"' in text and
          "postal_gateway_custody_log_entries" in text,
          "the installed binary serves /metrics with the call just made")
    issued = gw("pki", "issue", "--role", "staff", "--post-office", "251000", "--staff-id", "c-07")
    check(issued.returncode == 0, f"another staff certificate: {issued.stdout}{issued.stderr}")
    revoked = gw("pki", "revoke", "--cert", os.path.join(data, "pki/staff.pem"),
                 "--reason", "handheld lost")
    check(revoked.returncode == 0 and "sequence 1" in revoked.stdout,
          f"pki revoke signs a list: {revoked.stdout}{revoked.stderr}")
    server.send_signal(signal.SIGHUP)
    check(wait_for(log_path, r"revocation list loaded", 1, server),
          "SIGHUP loads the revocation list")
    check(wait_for(log_path, r"service levels recomputed after reload", 1, server),
          "it reloads its data on SIGHUP")
    refused = gw("shipment", "list")
    check(refused.returncode != 0 and "unauthenticated" in (refused.stdout + refused.stderr).lower(),
          f"the revoked certificate is refused: {(refused.stdout + refused.stderr).strip()[:200]}")
    other = gw("shipment", "list", "--cert", os.path.join(data, "pki/staff-251000-c-07.pem"),
               "--key", os.path.join(data, "pki/staff-251000-c-07-key.pem"))
    check(other.returncode == 0, f"the other staff certificate works: {other.stderr[:200]}")
    server.send_signal(signal.SIGTERM)
    check(server.wait(timeout=30) == 0, "it stops cleanly on SIGTERM")

    # Without its data folder, it says where it looked instead of crashing.
    shutil.rmtree(os.path.join(root, "usr/local/share/postal-gateway"))
    missing = subprocess.run([installed, "serve", "--data-dir", data, "--partner-address",
                              "127.0.0.1:0", "--public-address", "127.0.0.1:0", "--web-address", "127.0.0.1:0"], cwd=workdir,
                             env=env, capture_output=True, text=True, timeout=60)
    check(missing.returncode != 0 and "share/postal-gateway" in missing.stderr
          and "POSTAL_GATEWAY_DATA" in missing.stderr,
          f"without its data it names where it looked: {missing.stderr.strip()[:200]}")


if __name__ == "__main__":
    main()
