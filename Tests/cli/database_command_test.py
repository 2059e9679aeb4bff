#!/usr/bin/env python3
"""`postal-gateway db migrate|version` against the real PostgreSQL server test.sh started.

1. `db migrate` on a new database migrates it to the build's version; a second run (another
   replica starting) finds it up to date; `db version` prints both numbers.
2. A wrong password, a database that does not exist, a server that is not there and a database
   migrated by a newer gateway each exit non-zero with the reason, and the password never shows.

Usage: python3 Tests/cli/database_command_test.py PATH/TO/postal-gateway
(POSTAL_GATEWAY_TEST_DATABASE_URL: the test cluster's superuser URL.)
"""

import os
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import uuid


def check(condition, message):
    print(("ok - " if condition else "FAIL - ") + message, flush=True)
    if not condition:
        raise SystemExit(1)


def with_database(url, name, password=None):
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':')[0]}:{password}@{host}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, "/" + name, parts.query, ""))


def main():
    binary = os.path.abspath(sys.argv[1])
    admin = os.environ.get("POSTAL_GATEWAY_TEST_DATABASE_URL")
    if not admin:
        if os.environ.get("POSTAL_GATEWAY_POSTGRES_TESTS") == "required":
            raise SystemExit("database command test: no POSTAL_GATEWAY_TEST_DATABASE_URL")
        print("database command test: skipped (no PostgreSQL test cluster)")
        return
    name = "cli_" + uuid.uuid4().hex
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    url = with_database(admin, name)

    def gateway(*arguments, database_url=url, env=None):
        return subprocess.run([binary, "db", *arguments, "--database-url", database_url],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, **(env or {})})

    first = gateway("migrate")
    check(first.returncode == 0 and "migrated from version 0 to" in first.stdout,
          f"db migrate migrates a new database: {first.stdout.strip()}")
    check(urllib.parse.urlsplit(admin).password not in first.stdout + first.stderr,
          "the password is not printed")
    again = gateway("migrate")
    check(again.returncode == 0 and "up to date" in again.stdout,
          f"a second migrate finds it up to date: {again.stdout.strip()}")
    version = gateway("version")
    check(version.returncode == 0 and "this build knows" in version.stdout,
          f"db version: {version.stdout.strip()}")

    wrong = gateway("migrate", database_url=with_database(admin, name, password="wrong-secret"))
    check(wrong.returncode != 0 and "password authentication failed" in wrong.stderr
          and "wrong-secret" not in wrong.stderr,
          f"a wrong password exits non-zero with the reason: {wrong.stderr.strip()}")
    missing = gateway("migrate", database_url=with_database(admin, "no_such_database"))
    check(missing.returncode != 0 and "no_such_database" in missing.stderr,
          f"a missing database exits non-zero: {missing.stderr.strip()}")
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    port = holder.getsockname()[1]
    parts = urllib.parse.urlsplit(url)
    nowhere = url.replace(f":{parts.port}/", f":{port}/")
    down = gateway("migrate", database_url=nowhere)
    check(down.returncode != 0 and "cannot be reached" in down.stderr,
          f"a server that is not there exits non-zero: {down.stderr.strip()}")
    subprocess.run(["psql", url, "-q", "-c",
                    "INSERT INTO schema_migration (version, purpose) VALUES (999, 'newer')"],
                   check=True)
    newer = gateway("migrate")
    check(newer.returncode != 0 and "newer postal-gateway" in newer.stderr,
          f"a database migrated by a newer gateway is refused: {newer.stderr.strip()}")

    # `serve` refuses the same bad settings at start: a non-zero exit with the reason, before
    # any listener is up (never half-serving).
    data = tempfile.mkdtemp(prefix="postal-gateway-db-serve-")

    def serve(database_url):
        ports = [free_port() for _ in range(3)]
        run = subprocess.run(
            [binary, "serve", "--data-dir", data, "--database-url", database_url,
             "--partner-address", f"127.0.0.1:{ports[0]}", "--public-address", f"127.0.0.1:{ports[1]}",
             "--web-address", f"127.0.0.1:{ports[2]}"],
            capture_output=True, text=True, timeout=60)
        return run, "listening" in run.stdout + run.stderr

    for label, database_url, reason in [
        ("a wrong password", with_database(admin, name, password="wrong-secret"), "password authentication failed"),
        ("a missing database", with_database(admin, "no_such_database"), "no_such_database"),
        ("a server that is not there", nowhere, "cannot be reached"),
        ("a database migrated by a newer gateway", url, "newer postal-gateway"),
    ]:
        run, listened = serve(database_url)
        check(run.returncode != 0 and reason in run.stderr and not listened
              and "wrong-secret" not in run.stdout + run.stderr,
              f"serve with {label} exits {run.returncode} before listening: "
              f"{run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ''}")
    print("database command test: all checks passed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
