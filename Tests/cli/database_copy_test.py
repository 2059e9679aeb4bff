#!/usr/bin/env python3
"""`postal-gateway db copy`: a province moves from SQLite to PostgreSQL, then serves from it.

1. The interop scenario runs on SQLite (real data: a registered, collected, digitized dossier
   with scans, pushed to an agency's intake server and accepted; custody checkpoints).
2. A gateway on that SQLite data answers GetShipment for every shipment; it is stopped.
3. `db copy --from <data dir> --to <new database>` copies it and runs `log fsck` on the copy.
   A second copy into the same database is refused (not empty).
4. A gateway on the copied database, with the same data directory's secrets, answers the same
   GetShipment responses byte for byte (sealed personal data opened with the same keys,
   histories, leaf indexes) and the same checkpoint as before.
5. The interop scenario runs again against a gateway serving from the copied database; then
   `log fsck --database-url` checks every checkpoint, those signed on SQLite and those signed on
   PostgreSQL after the copy, against one tree (so they are consistent with each other).

Usage: python3 Tests/cli/database_copy_test.py PATH/TO/postal-gateway
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))
from interop_test import expect, free_port, generate_stubs, read, wait_until_serving  # noqa: E402


def main():
    binary = os.path.abspath(sys.argv[1])
    admin = os.environ.get("POSTAL_GATEWAY_TEST_DATABASE_URL")
    if not admin:
        if os.environ.get("POSTAL_GATEWAY_POSTGRES_TESTS") == "required":
            raise SystemExit("database copy test: no POSTAL_GATEWAY_TEST_DATABASE_URL")
        print("database copy test: skipped (no PostgreSQL test cluster)")
        return
    name = "copy_" + uuid.uuid4().hex
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    parts = urllib.parse.urlsplit(admin)
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    interop = os.path.join(os.path.dirname(HERE), "interop", "interop_test.py")

    root = tempfile.mkdtemp(prefix="postal-gateway-copy-")
    first = os.path.join(root, "sqlite")
    run = subprocess.run([sys.executable, interop, binary], env={**os.environ, "INTEROP_WORK": first},
                         capture_output=True, text=True, timeout=600)
    expect(run.returncode == 0, "the interop scenario ran on SQLite" + ("" if run.returncode == 0 else ":\n" + run.stdout[-2000:] + run.stderr[-2000:]))
    data = os.path.join(first, "data")

    generate_stubs(os.path.join(root, "stubs"))
    from postalgateway.v1 import counter_service_pb2, counter_service_pb2_grpc
    from postalgateway.v1 import custody_service_pb2, custody_service_pb2_grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    pki = os.path.join(data, "pki")
    staff = grpc.ssl_channel_credentials(
        read(os.path.join(pki, "ca.pem")), read(os.path.join(pki, "staff-key.pem")), read(os.path.join(pki, "staff.pem")))
    citizen = grpc.ssl_channel_credentials(read(os.path.join(pki, "ca.pem")))

    def snapshot(database):
        """Every shipment as GetShipment answers, and the latest checkpoint, from a gateway on `data`."""
        partner, public = free_port(), free_port()
        log = open(os.path.join(root, "server.log"), "a")
        server = subprocess.Popen(
            [binary, "serve", "--data-dir", data, *database, "--partner-address", f"127.0.0.1:{partner}",
             "--public-address", f"127.0.0.1:{public}", "--web-address", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            with grpc.secure_channel(f"127.0.0.1:{partner}", staff) as channel, \
                    grpc.secure_channel(f"127.0.0.1:{public}", citizen) as public_channel:
                wait_until_serving(channel, health_pb2, health_pb2_grpc, server)
                counter = counter_service_pb2_grpc.CounterServiceStub(channel)
                numbers = [s.tracking_number for s in counter.ListShipments(
                    counter_service_pb2.ListShipmentsRequest(page_size=500), timeout=10).shipments]
                shipments = {n: counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=n),
                                                    timeout=10).SerializeToString(deterministic=True)
                             for n in numbers}
                checkpoint = custody_service_pb2_grpc.CustodyServiceStub(public_channel).GetCheckpoint(
                    custody_service_pb2.GetCheckpointRequest(), timeout=10)
                return shipments, (checkpoint.tree_size, checkpoint.root_hash)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    before, checkpoint_before = snapshot([])
    expect(len(before) >= 1 and checkpoint_before[0] > 0,
           f"on SQLite: {len(before)} shipments, a checkpoint of {checkpoint_before[0]} leaves")

    copy = subprocess.run([binary, "db", "copy", "--from", data, "--to", url], capture_output=True, text=True, timeout=300)
    expect(copy.returncode == 0 and "log OK" in copy.stdout,
           "db copy copies and checks the log: " + (copy.stdout + copy.stderr).strip().splitlines()[-1])
    expect(parts.password not in copy.stdout + copy.stderr, "the password is not printed")
    again = subprocess.run([binary, "db", "copy", "--from", data, "--to", url], capture_output=True, text=True, timeout=300)
    expect(again.returncode != 0 and "already holds" in again.stderr,
           "a second copy into the same database is refused: " + again.stderr.strip().splitlines()[-1])

    after, checkpoint_after = snapshot(["--database-url", url])
    expect(after == before, f"the {len(after)} shipments read the same from PostgreSQL, byte for byte")
    expect(checkpoint_after == checkpoint_before, "the latest checkpoint is the same")

    second = os.path.join(root, "postgres")
    run = subprocess.run([sys.executable, interop, binary],
                         env={**os.environ, "INTEROP_WORK": second, "INTEROP_DATABASE_URL": url,
                              "INTEROP_SECRETS_FROM": data,
                              # The agency's numbering goes on (its codes are unique to a shipment).
                              "INTEROP_INTAKE_FIRST_SEQUENCE": "1001",
                              # The first run's dossier leg ended today too, in the copied data.
                              "INTEROP_EARLIER_LEGS": "1"},
                         capture_output=True, text=True, timeout=600)
    expect(run.returncode == 0, "the interop scenario passes against the gateway serving the copy" + ("" if run.returncode == 0 else ":\n" + run.stdout[-3000:] + run.stderr[-2000:]))
    fsck = subprocess.run([binary, "log", "fsck", "--data-dir", data, "--database-url", url],
                          capture_output=True, text=True)
    expect(fsck.returncode == 0, "checkpoints signed before and after the copy verify against one tree: "
           + (fsck.stdout + fsck.stderr).strip().splitlines()[-1])
    print("database copy test passed")


if __name__ == "__main__":
    main()
