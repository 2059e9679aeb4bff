#!/usr/bin/env python3
"""Two gateway replicas on one PostgreSQL database; one is killed with SIGKILL mid-load.

Both replicas serve the same data directory's secrets (the custody signing key, the
verification-code secret, the key-encryption keys and the development PKI) from one new
database on the test cluster. 24 client threads write over mutual TLS, half through each
replica: transit scans on shipments registered beforehand, and new registrations. Once 400
writes are acknowledged, replica A — the first started, so the checkpoint signer — is killed
with SIGKILL (calls in flight, its signer's lease held); the load goes on through replica B
for two more seconds. Then, through B:
- every acknowledged scan is in its shipment's history under the sequence it was answered with,
  every acknowledged registration exists, histories run 1, 2, 3, … without gaps or repeats;
- retrying every acknowledged request with its request id returns the original answer and adds
  nothing (the idempotency records are the database's, whichever replica wrote them);
- B takes the signer's lease and signs a checkpoint covering every leaf, larger than the last
  one A signed; `log fsck --database-url` then recomputes the tree from leaves 0..n-1 and checks
  every checkpoint, A's and B's, against it (so B's is consistent with A's);
- dossiers digitized through both replicas during the load are pushed to a real agency intake
  server (examples/agency_intake_server.py, fetching the scans back through B) by both
  replicas' dispatchers, which share the outbox (claims with a 3-second lease): every one is
  filed once with one dossier code, A's unfinished claims are taken over by B, and only a
  delivery A had in flight when killed may reach the agency a second time (at-least-once; the
  agency answers a repeat with its first receipt), at most A's in-flight limit.

Usage: python3 Tests/cli/replica_failover_test.py PATH/TO/postal-gateway
(POSTAL_GATEWAY_TEST_DATABASE_URL: the test cluster's superuser URL.)
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop"))
from interop_test import expect, free_port, generate_stubs, read, start_intake, wait_until_serving  # noqa: E402

SCANNERS = 16
REGISTRARS = 8
DOSSIERS = 12
KILL_AFTER_ACKS = 400


def main():
    binary = os.path.abspath(sys.argv[1])
    admin = os.environ.get("POSTAL_GATEWAY_TEST_DATABASE_URL")
    if not admin:
        if os.environ.get("POSTAL_GATEWAY_POSTGRES_TESTS") == "required":
            raise SystemExit("replica failover test: no POSTAL_GATEWAY_TEST_DATABASE_URL")
        print("replica failover test: skipped (no PostgreSQL test cluster)")
        return
    name = "failover_" + uuid.uuid4().hex
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    parts = urllib.parse.urlsplit(admin)
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))

    work = tempfile.mkdtemp(prefix="postal-gateway-failover-")
    generate_stubs(os.path.join(work, "stubs"))
    from postalgateway.v1 import (common_pb2, counter_service_pb2, counter_service_pb2_grpc,
                                  custody_service_pb2, custody_service_pb2_grpc)
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    data = os.path.join(work, "data")
    pki = os.path.join(data, "pki")
    ports = {"A": (free_port(), free_port()), "B": (free_port(), free_port())}
    # The agency's intake server; it fetches scans back through B (which survives).
    intake, intake_servicer, routes = start_intake(binary, data, work, gateway=f"127.0.0.1:{ports['B'][0]}")
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump({"limits": {"maximumConcurrentCallsPerCaller": 1024},
                   "storage": {"maximumConnections": 8},
                   "handoffs": {"routes": routes, "initialBackoffMilliseconds": 100,
                                "maximumBackoffMilliseconds": 1000, "attemptTimeoutMilliseconds": 2000,
                                "claimLeaseSeconds": 3}}, f)
    log = open(os.path.join(work, "server.log"), "a")

    def start(replica):
        partner, public = ports[replica]
        return subprocess.Popen(
            [binary, "serve", "--config", config, "--data-dir", data, "--database-url", url,
             "--partner-address", f"127.0.0.1:{partner}", "--public-address", f"127.0.0.1:{public}",
             "--web-address", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT)

    staff = grpc.ssl_channel_credentials(
        read(os.path.join(pki, "ca.pem")), read(os.path.join(pki, "staff-key.pem")), read(os.path.join(pki, "staff.pem")))
    address = common_pb2.Address(province_code="19", commune_code="05500", detail="12 Lương Ngọc Quyến")

    def pickup(index):
        return counter_service_pb2.RegisterPickupRequest(
            request_id=str(uuid.uuid4()), service_type=common_pb2.SERVICE_TYPE_DOSSIER_AND_RESULT,
            applicant=common_pb2.Applicant(full_name="Nguyễn Văn An", citizen_id=f"0190840{index % 100000:05d}",
                                           phone="0912345678", address=address),
            procedure_code="2.000635",
            pickup=common_pb2.Pickup(counter=common_pb2.CounterPickup(post_office_code="250000")))

    def scan(number):
        return counter_service_pb2.RecordEventRequest(
            request_id=str(uuid.uuid4()), tracking_number=number, type=common_pb2.EVENT_TYPE_TRANSIT_SCAN)

    servers = {"A": start("A")}
    try:
        channels = {"A": grpc.secure_channel(f"127.0.0.1:{ports['A'][0]}", staff)}
        wait_until_serving(channels["A"], health_pb2, health_pb2_grpc, servers["A"])
        # B second: A (first to ask) holds the signer's lease.
        servers["B"] = start("B")
        channels["B"] = grpc.secure_channel(f"127.0.0.1:{ports['B'][0]}", staff)
        wait_until_serving(channels["B"], health_pb2, health_pb2_grpc, servers["B"])
        counters = {r: counter_service_pb2_grpc.CounterServiceStub(c) for r, c in channels.items()}
        citizen = grpc.ssl_channel_credentials(read(os.path.join(pki, "ca.pem")))
        custody = {r: custody_service_pb2_grpc.CustodyServiceStub(
            grpc.secure_channel(f"127.0.0.1:{ports[r][1]}", citizen)) for r in channels}

        numbers = []
        for index in range(SCANNERS):
            counter = counters["A" if index % 2 == 0 else "B"]
            number = counter.RegisterPickup(pickup(index), timeout=10).shipment.tracking_number
            items = [common_pb2.HandedOverItem(document_id="TO_KHAI", form=common_pb2.DOCUMENT_FORM_ORIGINAL, pages=2),
                     common_pb2.HandedOverItem(document_id="GIAY_TO_TUY_THAN", form=common_pb2.DOCUMENT_FORM_COPY, pages=1)]
            counter.RecordCollection(counter_service_pb2.RecordCollectionRequest(
                request_id=str(uuid.uuid4()), tracking_number=number, items=items, seal_id=f"S-{index}",
                fee_collected_vnd=8000, postage_vnd=25000), timeout=10)
            counter.RecordEvent(counter_service_pb2.RecordEventRequest(
                request_id=str(uuid.uuid4()), tracking_number=number, type=common_pb2.EVENT_TYPE_DISPATCHED), timeout=10)
            numbers.append(number)
        lock = threading.Lock()
        # Dossiers collected (half through each replica), to be digitized during the load.
        items = [common_pb2.HandedOverItem(document_id="TO_KHAI", form=common_pb2.DOCUMENT_FORM_ORIGINAL, pages=2),
                 common_pb2.HandedOverItem(document_id="GIAY_TO_TUY_THAN", form=common_pb2.DOCUMENT_FORM_COPY, pages=1)]
        dossiers = {"A": [], "B": []}
        for index in range(DOSSIERS):
            replica = "A" if index % 2 == 0 else "B"
            number = counters[replica].RegisterPickup(pickup(500 + index), timeout=10).shipment.tracking_number
            counters[replica].RecordCollection(counter_service_pb2.RecordCollectionRequest(
                request_id=str(uuid.uuid4()), tracking_number=number, items=items, seal_id=f"D-{index}",
                fee_collected_vnd=8000, postage_vnd=25000), timeout=10)
            dossiers[replica].append(number)
        pdf = b"%PDF-1.4\n" + bytes(range(256)) * 64
        digitized = []

        def digitize(replica):
            for number in dossiers[replica]:
                for document in ["TO_KHAI", "GIAY_TO_TUY_THAN"]:
                    def chunks():
                        yield counter_service_pb2.UploadScanRequest(header=counter_service_pb2.UploadScanRequest.Header(
                            request_id=str(uuid.uuid4()), tracking_number=number, document_id=document,
                            content_type=common_pb2.SCAN_CONTENT_TYPE_PDF))
                        yield counter_service_pb2.UploadScanRequest(chunk=pdf + number.encode())
                    try:
                        response = counters[replica].UploadScan(chunks(), timeout=10)
                    except grpc.RpcError:
                        return  # A is gone
                if response.shipment.state == common_pb2.SHIPMENT_STATE_DIGITIZED:
                    with lock:
                        digitized.append(number)
                time.sleep(0.05)

        # A commit on one replica is seen by the other at once (LISTEN/NOTIFY, no polling).
        seen = counters["B"].GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=numbers[0]), timeout=10)
        expect(seen.version == 3, "a shipment written through A reads the same through B")

        # A signs (it holds the lease); B serves A's checkpoints.
        deadline = time.time() + 20
        while time.time() < deadline:
            before = custody["B"].GetCheckpoint(custody_service_pb2.GetCheckpointRequest(), timeout=10)
            if before.tree_size > 0:
                break
            time.sleep(0.2)
        expect(before.tree_size > 0, f"replica A signed a checkpoint of {before.tree_size} leaves, served by B too")

        acked_scans, acked_registrations = [], []
        stop = threading.Event()

        def scanner(replica, number):
            while not stop.is_set():
                request = scan(number)
                try:
                    response = counters[replica].RecordEvent(request, timeout=10)
                except grpc.RpcError:
                    if replica == "A":
                        return  # A is gone
                    continue
                with lock:
                    acked_scans.append((request, response.event.sequence))

        def registrar(replica, offset):
            index = 1000 + offset
            while not stop.is_set():
                request = pickup(index)
                index += REGISTRARS
                try:
                    response = counters[replica].RegisterPickup(request, timeout=10)
                except grpc.RpcError:
                    if replica == "A":
                        return
                    continue
                with lock:
                    acked_registrations.append((request, response.shipment.tracking_number))

        threads = [threading.Thread(target=scanner, args=("A" if i % 2 == 0 else "B", n)) for i, n in enumerate(numbers)]
        threads += [threading.Thread(target=registrar, args=("A" if i % 2 == 0 else "B", i)) for i in range(REGISTRARS)]
        threads += [threading.Thread(target=digitize, args=(r,)) for r in ["A", "B"]]
        started = time.time()
        for thread in threads:
            thread.start()
        while True:
            with lock:
                acks = len(acked_scans) + len(acked_registrations)
            if acks >= KILL_AFTER_ACKS or time.time() - started > 120:
                break
            time.sleep(0.01)
        servers["A"].send_signal(signal.SIGKILL)
        servers["A"].wait()
        killed_at = time.time()
        with lock:
            at_kill = len(acked_scans) + len(acked_registrations)
        time.sleep(2)  # B alone
        stop.set()
        for thread in threads:
            thread.join()
        with lock:
            scans, registrations = list(acked_scans), list(acked_registrations)
        expect(at_kill >= KILL_AFTER_ACKS, f"SIGKILL of replica A after {at_kill} acknowledged writes through both")
        expect(len(scans) + len(registrations) > at_kill,
               f"replica B went on: {len(scans) + len(registrations) - at_kill} more writes after the kill")

        counter = counters["B"]
        histories = {n: counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=n), timeout=10)
                     for n in numbers}
        missing = []
        for request, sequence in scans:
            event = {e.sequence: e for e in histories[request.tracking_number].events}.get(sequence)
            if event is None or event.type != common_pb2.EVENT_TYPE_TRANSIT_SCAN:
                missing.append((request.tracking_number, sequence))
        expect(not missing, f"all {len(scans)} acknowledged scans (through A and B) are in their histories"
               + (f" (missing {missing[:5]})" if missing else ""))
        gaps = [n for n, s in histories.items() if sorted(e.sequence for e in s.events) != list(range(1, len(s.events) + 1))]
        expect(not gaps, "every history runs 1, 2, 3, … without gaps or repeats")
        expect(all(counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=n), timeout=10).tracking_number == n
                   for _, n in registrations),
               f"all {len(registrations)} acknowledged registrations exist")
        expect(len({n for _, n in registrations}) == len(registrations), "no tracking number was minted twice")
        replays = [counter.RecordEvent(request, timeout=10).event.sequence == sequence for request, sequence in scans]
        replays += [counter.RegisterPickup(request, timeout=10).shipment.tracking_number == number
                    for request, number in registrations]
        expect(all(replays), "retrying each acknowledged request through B returns its original answer")
        after = {n: counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=n), timeout=10).version
                 for n in numbers}
        expect(after == {n: h.version for n, h in histories.items()}, "the retries added nothing")

        # Every digitized dossier reaches the agency and is filed once, whichever replica queued
        # or claimed it; A's claims pass to B when their lease ends.
        with lock:
            pushed = list(digitized)
        expect(any(n in dossiers["A"] for n in pushed) and any(n in dossiers["B"] for n in pushed),
               f"{len(pushed)} dossiers digitized through both replicas during the load")
        deadline = time.time() + 60
        accepted = {}
        while time.time() < deadline:
            accepted = {}
            for number in pushed:
                shipment = counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=number), timeout=10)
                accepted[number] = [e.agency_decision.dossier_code for e in shipment.events
                                    if e.type == common_pb2.EVENT_TYPE_AGENCY_ACCEPTED]
            if all(accepted.values()):
                break
            time.sleep(0.5)
        expect(all(len(codes) == 1 for codes in accepted.values()),
               f"each of the {len(pushed)} pushed dossiers is accepted once: {sum(map(len, accepted.values()))} acceptances")
        with intake_servicer.lock:
            calls = dict(intake_servicer.calls)
            call_times = {h: list(t) for h, t in intake_servicer.call_times.items()}
            receipts = {h: r.accepted.dossier_code for h, r in intake_servicer.receipts.items()}
        handoffs = {f"{n}-H1" for n in pushed}
        expect(set(receipts) == handoffs and len(set(receipts.values())) == len(receipts),
               f"the agency filed each handoff once, under its own code ({len(receipts)} codes)")
        expect(all(receipts[f"{n}-H1"] == accepted[n][0] for n in pushed),
               "the code each shipment records is the one the agency gave")
        repeated = {h: c for h, c in calls.items() if c > 1}
        # A repeat is B finishing what A started: the first delivery before the kill, the
        # second after A's claim ran out — never two replicas pushing one handoff at once.
        expect(all(call_times[h][0] <= killed_at <= call_times[h][1] for h in repeated),
               "every repeated delivery was begun by A before the kill and repeated by B after it: "
               + ", ".join(f"{h} at {[round(t - killed_at, 2) for t in call_times[h]]} s" for h in repeated))
        expect(len(repeated) <= 4,
               f"{len(calls)} handoffs delivered, {len(repeated)} a second time (only deliveries A had in "
               f"flight when killed may be repeated, at most its 4 in flight; the agency answered each "
               f"repeat with its first receipt): {repeated}")

        # B takes over signing: a checkpoint covering every leaf, beyond A's last.
        deadline = time.time() + 30
        size = 0
        while time.time() < deadline:
            latest = custody["B"].GetCheckpoint(custody_service_pb2.GetCheckpointRequest(), timeout=10)
            try:
                beyond = custody["B"].GetEntries(
                    custody_service_pb2.GetEntriesRequest(start=latest.tree_size, count=1), timeout=10).entries
            except grpc.RpcError:
                beyond = []  # nothing past the checkpoint
            if latest.tree_size > before.tree_size and not beyond:
                size = latest.tree_size
                break
            time.sleep(0.5)
        expect(size >= 3 * SCANNERS + len(scans) + len(registrations),
               f"its checkpoint covers every acknowledged event ({size} leaves)")
        expect(size > before.tree_size,
               f"replica B signed a checkpoint of all {size} leaves {time.time() - killed_at:.1f} s after the kill "
               f"(A's last before the load: {before.tree_size})")
    finally:
        intake.stop(grace=None)
        for server in servers.values():
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
    fsck = subprocess.run([binary, "log", "fsck", "--data-dir", data, "--database-url", url],
                          capture_output=True, text=True)
    expect(fsck.returncode == 0,
           "log fsck on the database passes: " + (fsck.stdout + fsck.stderr).strip().splitlines()[-1])
    print("replica failover test passed")


if __name__ == "__main__":
    main()
