"""Crash test of group commit: SIGKILL the gateway in the middle of a concurrent write load,
restart it, and check that every write it acknowledged is there exactly once and that
`log fsck` passes.

40 client threads write over mutual TLS as fast as answered: 32 record transit scans, each on
its own shipment, and 8 register pickups, so that many writes share each transaction. Once
several hundred writes have been acknowledged the server is killed with SIGKILL (no shutdown,
no final fsync), with calls in flight. After a restart on the same data directory:
- every acknowledged scan is in its shipment's history under the sequence it was answered
  with, every acknowledged registration exists, and histories have no gaps or repeats;
- retrying every acknowledged request with its request id returns the original answer and adds
  nothing (idempotency records survived with their writes);
- `postal-gateway log fsck` recomputes the custody log and passes.

Usage: python3 Tests/cli/crash_test.py PATH/TO/postal-gateway
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop"))
from interop_test import expect, free_port, generate_stubs, read, wait_until_serving  # noqa: E402

SCANNERS = 32
REGISTRARS = 8
KILL_AFTER_ACKS = 600


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="postal-gateway-crash-")
    generate_stubs(os.path.join(work, "stubs"))
    from postalgateway.v1 import common_pb2, counter_service_pb2, counter_service_pb2_grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    data = os.path.join(work, "data")
    partner, public = free_port(), free_port()
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        # Every client thread is the same staff member: let them all in at once.
        json.dump({"limits": {"maximumConcurrentCallsPerCaller": 1024}}, f)
    subprocess.run([binary, "pki", "init", "--data-dir", data], check=True, capture_output=True)
    log = open(os.path.join(work, "server.log"), "a")

    def start():
        return subprocess.Popen(
            [binary, "serve", "--config", config, "--data-dir", data,
             "--partner-address", f"127.0.0.1:{partner}", "--public-address", f"127.0.0.1:{public}", "--web-address", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT)

    pki = os.path.join(data, "pki")
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

    server = start()
    try:
        with grpc.secure_channel(f"127.0.0.1:{partner}", staff) as channel:
            wait_until_serving(channel, health_pb2, health_pb2_grpc, server)
            counter = counter_service_pb2_grpc.CounterServiceStub(channel)
            numbers = []
            for index in range(SCANNERS):
                number = counter.RegisterPickup(pickup(index), timeout=10).shipment.tracking_number
                items = [common_pb2.HandedOverItem(document_id="TO_KHAI", form=common_pb2.DOCUMENT_FORM_ORIGINAL, pages=2),
                         common_pb2.HandedOverItem(document_id="GIAY_TO_TUY_THAN", form=common_pb2.DOCUMENT_FORM_COPY, pages=1)]
                counter.RecordCollection(counter_service_pb2.RecordCollectionRequest(
                    request_id=str(uuid.uuid4()), tracking_number=number, items=items, seal_id=f"S-{index}",
                    fee_collected_vnd=8000, postage_vnd=25000), timeout=10)
                counter.RecordEvent(counter_service_pb2.RecordEventRequest(
                    request_id=str(uuid.uuid4()), tracking_number=number, type=common_pb2.EVENT_TYPE_DISPATCHED), timeout=10)
                numbers.append(number)

            acked_scans, acked_registrations = [], []
            lock = threading.Lock()
            stop = threading.Event()

            def scanner(number):
                while not stop.is_set():
                    request = scan(number)
                    try:
                        response = counter.RecordEvent(request, timeout=10)
                    except grpc.RpcError:
                        return
                    with lock:
                        acked_scans.append((request, response.event.sequence))

            def registrar(offset):
                index = 1000 + offset
                while not stop.is_set():
                    request = pickup(index)
                    index += REGISTRARS
                    try:
                        response = counter.RegisterPickup(request, timeout=10)
                    except grpc.RpcError:
                        return
                    with lock:
                        acked_registrations.append((request, response.shipment.tracking_number))

            threads = [threading.Thread(target=scanner, args=(n,)) for n in numbers]
            threads += [threading.Thread(target=registrar, args=(i,)) for i in range(REGISTRARS)]
            started = time.time()
            for thread in threads:
                thread.start()
            while True:
                with lock:
                    acks = len(acked_scans) + len(acked_registrations)
                if acks >= KILL_AFTER_ACKS or time.time() - started > 120:
                    break
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)
            server.wait()
            stop.set()
            for thread in threads:
                thread.join()
            with lock:
                scans, registrations = list(acked_scans), list(acked_registrations)
            expect(len(scans) + len(registrations) >= KILL_AFTER_ACKS,
                   f"SIGKILL after {len(scans)} acknowledged scans and {len(registrations)} registrations "
                   f"in {time.time() - started:.1f} s of load")

        server = start()
        with grpc.secure_channel(f"127.0.0.1:{partner}", staff) as channel:
            wait_until_serving(channel, health_pb2, health_pb2_grpc, server)
            counter = counter_service_pb2_grpc.CounterServiceStub(channel)
            histories = {n: counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=n), timeout=10)
                         for n in numbers}
            missing = []
            for request, sequence in scans:
                events = {e.sequence: e for e in histories[request.tracking_number].events}
                event = events.get(sequence)
                if event is None or event.type != common_pb2.EVENT_TYPE_TRANSIT_SCAN:
                    missing.append((request.tracking_number, sequence))
            expect(not missing, f"all {len(scans)} acknowledged scans are in their histories after the restart"
                   + (f" (missing {missing[:5]})" if missing else ""))
            gaps = [n for n, s in histories.items() if sorted(e.sequence for e in s.events) != list(range(1, len(s.events) + 1))]
            expect(not gaps, "every history runs 1, 2, 3, … without gaps or repeats")
            expect(all(counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=n), timeout=10).tracking_number == n
                       for _, n in registrations),
                   f"all {len(registrations)} acknowledged registrations exist after the restart")

            replays = [counter.RecordEvent(request, timeout=10).event.sequence == sequence for request, sequence in scans]
            replays += [counter.RegisterPickup(request, timeout=10).shipment.tracking_number == number
                        for request, number in registrations]
            expect(all(replays), "retrying each acknowledged request returns its original answer")
            after = {n: counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=n), timeout=10).version
                     for n in numbers}
            expect(after == {n: h.version for n, h in histories.items()},
                   "the retries added nothing: each acknowledged scan is there exactly once")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        fsck = subprocess.run([binary, "log", "fsck", "--data-dir", data], capture_output=True, text=True)
        expect(fsck.returncode == 0, "log fsck passes after the crash: " + (fsck.stdout + fsck.stderr).strip().splitlines()[-1])
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    print("crash test passed")


if __name__ == "__main__":
    main()
