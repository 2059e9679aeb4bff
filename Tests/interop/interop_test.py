"""Interoperability check: a Python grpcio client generated from proto/ talks to a real
postal-gateway process.

It starts `postal-gateway serve` on free loopback ports with a fresh data directory (so the
server creates its development PKI), then, over mutual TLS with the staff certificate, registers
a pickup and records COLLECTED; over TLS on the public port it tracks the shipment as a citizen.
It also checks that a bad citizen id comes back as INVALID_ARGUMENT with a google.rpc.BadRequest
naming the field, that the agency certificate is refused, and that SIGTERM shuts the server down
cleanly. Finally it digitizes the dossier and checks that the gateway pushes it, over mutual
TLS, to the example Python AgencyIntake server (examples/agency_intake_server.py), which fetches
the scans back with the agency certificate, checks their hashes and files the dossier once.

Usage: python3 Tests/interop/interop_test.py PATH/TO/postal-gateway
"""

import datetime
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import grpc
from grpc_status import rpc_status
from grpc_tools import protoc
from google.rpc import error_details_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generate_stubs(out_dir):
    """Generates Python modules from proto/ with grpcio-tools' bundled protoc."""
    import grpc_tools

    os.makedirs(out_dir, exist_ok=True)
    protos = []
    # grpc.health.v1 comes from grpcio-health-checking (a generated `grpc` package would shadow grpcio).
    for folder, _, files in os.walk(os.path.join(ROOT, "proto", "postalgateway")):
        protos += [os.path.relpath(os.path.join(folder, f), os.path.join(ROOT, "proto")) for f in files if f.endswith(".proto")]
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    status = protoc.main(
        ["grpc_tools.protoc", f"-I{os.path.join(ROOT, 'proto')}", f"-I{well_known}",
         f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"] + sorted(protos)
    )
    if status != 0:
        raise SystemExit("protoc failed")
    sys.path.insert(0, out_dir)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_until_serving(channel, health_pb2, health_pb2_grpc, process, deadline=60):
    stub = health_pb2_grpc.HealthStub(channel)
    start = time.time()
    while time.time() - start < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with {process.returncode}")
        try:
            if stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            time.sleep(0.3)
    raise SystemExit("server did not become healthy")


def expect(condition, message):
    if not condition:
        raise SystemExit("FAILED: " + message)
    print("ok -", message)


def start_intake(binary, data, work, gateway, first_sequence=1):
    """The development PKI of `data` (made if missing) with a certificate for the agency's intake
    server, the example AgencyIntake server (fetching scans back from `gateway`), and a routing
    file that pushes agency 000.00.00.H55's dossiers to it. Returns (server, servicer, routes)."""
    import argparse
    import json
    pki = os.path.join(data, "pki")
    subprocess.run([binary, "pki", "init", "--data-dir", data], check=True, capture_output=True)
    subprocess.run([binary, "pki", "issue", "--role", "server", "--host", "127.0.0.1", "--name", "agency-intake",
                    "--data-dir", data], check=True, capture_output=True)
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import agency_intake_server
    port = free_port()
    intake, servicer = agency_intake_server.serve(argparse.Namespace(
        port=port, cert=os.path.join(pki, "agency-intake.pem"), key=os.path.join(pki, "agency-intake-key.pem"),
        gateway_ca=os.path.join(pki, "ca.pem"), gateway=gateway,
        agency_cert=os.path.join(pki, "agency.pem"), agency_key=os.path.join(pki, "agency-key.pem"),
        stubs=os.path.join(work, "stubs"), first_sequence=first_sequence))
    routes = os.path.join(work, "routes.json")
    with open(routes, "w") as f:
        json.dump({"agencies": [{
            "agency": "000.00.00.H55", "mode": "push", "endpoint": f"127.0.0.1:{port}",
            "serverCA": os.path.join(pki, "ca.pem"), "clientCertificate": os.path.join(pki, "gateway-client.pem"),
            "clientKey": os.path.join(pki, "gateway-client-key.pem")}]}, f)
    return intake, servicer, routes


def main():
    binary = os.path.abspath(sys.argv[1])
    # INTEROP_WORK: the folder to work in (kept, for a test that reuses its data);
    # INTEROP_DATABASE_URL: serve from this PostgreSQL database; INTEROP_SECRETS_FROM: a data
    # directory whose secrets and key file this run uses (the database's).
    work = os.environ.get("INTEROP_WORK") or tempfile.mkdtemp(prefix="postal-gateway-interop-")
    os.makedirs(work, exist_ok=True)
    generate_stubs(os.path.join(work, "stubs"))
    from postalgateway.v1 import common_pb2, counter_service_pb2, counter_service_pb2_grpc
    from postalgateway.v1 import tracking_service_pb2, tracking_service_pb2_grpc
    from postalgateway.v1 import custody_service_pb2, custody_service_pb2_grpc
    from postalgateway.v1 import oversight_service_pb2, oversight_service_pb2_grpc
    from google.protobuf import json_format
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    data = os.path.join(work, "data")
    partner, public = free_port(), free_port()
    pki = os.path.join(data, "pki")
    secrets_from = os.environ.get("INTEROP_SECRETS_FROM")
    if secrets_from:
        import shutil
        shutil.copytree(os.path.join(secrets_from, "secrets"), os.path.join(data, "secrets"))
        shutil.copytree(secrets_from.rstrip("/") + "-keys", data + "-keys")
    import json
    intake, intake_servicer, routes = start_intake(
        binary, data, work, gateway=f"127.0.0.1:{partner}",
        first_sequence=int(os.environ.get("INTEROP_INTAKE_FIRST_SEQUENCE", "1")))
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump({"handoffs": {"routes": routes, "initialBackoffMilliseconds": 100,
                                "maximumBackoffMilliseconds": 1000}}, f)
    log = open(os.path.join(work, "server.log"), "w")
    database = ["--database-url", os.environ["INTEROP_DATABASE_URL"]] if os.environ.get("INTEROP_DATABASE_URL") else []
    server = subprocess.Popen(
        [binary, "serve", "--config", config, "--data-dir", data, *database,
         "--partner-address", f"127.0.0.1:{partner}", "--public-address", f"127.0.0.1:{public}", "--web-address", "127.0.0.1:0"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        pki = os.path.join(data, "pki")
        for _ in range(300):
            if os.path.exists(os.path.join(pki, "agency-key.pem")):
                break
            time.sleep(0.1)
        ca = read(os.path.join(pki, "ca.pem"))
        staff = grpc.ssl_channel_credentials(ca, read(os.path.join(pki, "staff-key.pem")), read(os.path.join(pki, "staff.pem")))
        agency = grpc.ssl_channel_credentials(ca, read(os.path.join(pki, "agency-key.pem")), read(os.path.join(pki, "agency.pem")))
        citizen = grpc.ssl_channel_credentials(ca)

        with grpc.secure_channel(f"127.0.0.1:{partner}", staff) as channel:
            wait_until_serving(channel, health_pb2, health_pb2_grpc, server)
            counter = counter_service_pb2_grpc.CounterServiceStub(channel)
            address = common_pb2.Address(province_code="19", commune_code="05500", detail="12 Lương Ngọc Quyến")
            request = counter_service_pb2.RegisterPickupRequest(
                request_id=str(uuid.uuid4()),
                service_type=common_pb2.SERVICE_TYPE_DOSSIER_AND_RESULT,
                applicant=common_pb2.Applicant(full_name="Nguyễn Văn An", citizen_id="019084000123", phone="0912345678", address=address),
                procedure_code="2.000635",
                destination_agency_code="000.00.00.H55",
                pickup=common_pb2.Pickup(counter=common_pb2.CounterPickup(post_office_code="250000")),
            )
            registered = counter.RegisterPickup(request, timeout=10)
            number, code = registered.shipment.tracking_number, registered.verification_code
            expect(len(number) == 13 and number.endswith("VN"), f"registered pickup {number} over mutual TLS")
            again = counter.RegisterPickup(request, timeout=10)
            expect(again == registered, "a retry with the same request_id returns the same response")

            items = [common_pb2.HandedOverItem(document_id="TO_KHAI", form=common_pb2.DOCUMENT_FORM_ORIGINAL, pages=2)]
            guided = counter.RecordCollection(counter_service_pb2.RecordCollectionRequest(
                request_id=str(uuid.uuid4()), tracking_number=number, items=items), timeout=10)
            expect(not guided.complete and [m.document_id for m in guided.missing] == ["GIAY_TO_TUY_THAN"],
                   "an incomplete dossier gets guidance naming exactly the missing item")
            items.append(common_pb2.HandedOverItem(document_id="GIAY_TO_TUY_THAN", form=common_pb2.DOCUMENT_FORM_COPY, pages=1))
            recorded = counter.RecordCollection(counter_service_pb2.RecordCollectionRequest(
                request_id=str(uuid.uuid4()), tracking_number=number, items=items, seal_id="S-0001",
                fee_collected_vnd=8000, postage_vnd=25000), timeout=10)
            expect(recorded.complete and recorded.shipment.state == common_pb2.SHIPMENT_STATE_COLLECTED, "recorded COLLECTED")

            pdf = b"%PDF-1.7\n" + bytes(range(256)) * 3000
            def chunks():
                yield counter_service_pb2.UploadScanRequest(header=counter_service_pb2.UploadScanRequest.Header(
                    request_id=str(uuid.uuid4()), tracking_number=number, document_id="TO_KHAI",
                    content_type=common_pb2.SCAN_CONTENT_TYPE_PDF, expected_sha256=hashlib.sha256(pdf).digest()))
                for start in range(0, len(pdf), 300_000):
                    yield counter_service_pb2.UploadScanRequest(chunk=pdf[start:start + 300_000])
            uploaded = counter.UploadScan(chunks(), timeout=30)
            expect(uploaded.scan.sha256 == hashlib.sha256(pdf).hexdigest(), "a scan streamed in chunks is stored under its SHA-256")
            parts = list(counter.DownloadScan(counter_service_pb2.DownloadScanRequest(document_code=uploaded.scan.document_code), timeout=30))
            body = b"".join(p.chunk for p in parts[1:])
            expect(parts[0].scan.sha256 == hashlib.sha256(body).hexdigest() and body == pdf, "the scan downloads with identical bytes and hash")

            bad = counter_service_pb2.RegisterPickupRequest()
            bad.CopyFrom(request)
            bad.request_id = str(uuid.uuid4())
            bad.applicant.citizen_id = "099084000123"
            try:
                counter.RegisterPickup(bad, timeout=10)
                expect(False, "a bad citizen id is refused")
            except grpc.RpcError as error:
                status = rpc_status.from_call(error)
                fields = []
                for detail in status.details:
                    if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                        bad_request = error_details_pb2.BadRequest()
                        detail.Unpack(bad_request)
                        fields += [v.field for v in bad_request.field_violations]
                expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT and fields == ["applicant.citizen_id"],
                       "a bad citizen id is INVALID_ARGUMENT with a BadRequest naming applicant.citizen_id")

        with grpc.secure_channel(f"127.0.0.1:{partner}", agency) as channel:
            try:
                counter_service_pb2_grpc.CounterServiceStub(channel).RegisterPickup(request, timeout=10)
                expect(False, "the agency certificate is refused")
            except grpc.RpcError as error:
                expect(error.code() == grpc.StatusCode.PERMISSION_DENIED, "the agency certificate gets PERMISSION_DENIED")

        with grpc.secure_channel(f"127.0.0.1:{public}", citizen) as channel:
            tracking = tracking_service_pb2_grpc.TrackingServiceStub(channel)
            tracked = tracking.TrackShipment(tracking_service_pb2.TrackShipmentRequest(tracking_number=number, verification_code=code), timeout=10).shipment
            expect(tracked.state == common_pb2.SHIPMENT_STATE_COLLECTED, "tracked on the public port over TLS")
            expect(tracked.applicant_name_masked == "N*** V** A" and tracked.phone_masked == "091****678", "name and phone are masked")

            custody = custody_service_pb2_grpc.CustodyServiceStub(channel)
            receipt = custody.GetReceipt(custody_service_pb2.GetReceiptRequest(tracking_number=number, verification_code=code), timeout=30)
            receipt_file = os.path.join(work, "receipt.json")
            with open(receipt_file, "w") as f:
                f.write(json_format.MessageToJson(receipt, preserving_proto_field_name=True))
            key = subprocess.run([binary, "log", "key", "--data-dir", data], capture_output=True, text=True, check=True).stdout.strip()
            verified = subprocess.run([sys.executable, os.path.join(ROOT, "Tests", "interop", "verify_receipt.py"), receipt_file, key],
                                      capture_output=True, text=True)
            expect(verified.returncode == 0 and verified.stdout.startswith("OK %d entries" % len(receipt.entries)),
                   "the custody receipt verifies offline with the independent verifier: " + verified.stdout.strip())
            expect([e.type for e in tracked.timeline] == [common_pb2.EVENT_TYPE_REGISTERED, common_pb2.EVENT_TYPE_GUIDED_INCOMPLETE,
                                                           common_pb2.EVENT_TYPE_COLLECTED, common_pb2.EVENT_TYPE_SCANNED],
                   "the timeline shows registration, guidance, collection and the scan")
            try:
                tracking.TrackShipment(tracking_service_pb2.TrackShipmentRequest(tracking_number=number, verification_code="22222-22222"), timeout=10)
                expect(code.replace("-", "") == "2222222222", "a wrong code is refused")
            except grpc.RpcError as error:
                expect(error.code() == grpc.StatusCode.NOT_FOUND, "a wrong code is NOT_FOUND")

        # The last scan digitizes the dossier; the gateway pushes it to the agency's intake.
        with grpc.secure_channel(f"127.0.0.1:{partner}", staff) as channel:
            counter = counter_service_pb2_grpc.CounterServiceStub(channel)
            identity = b"%PDF-1.4\n" + bytes(range(200)) * 500
            def identity_chunks():
                yield counter_service_pb2.UploadScanRequest(header=counter_service_pb2.UploadScanRequest.Header(
                    request_id=str(uuid.uuid4()), tracking_number=number, document_id="GIAY_TO_TUY_THAN",
                    content_type=common_pb2.SCAN_CONTENT_TYPE_PDF))
                yield counter_service_pb2.UploadScanRequest(chunk=identity)
            digitized = counter.UploadScan(identity_chunks(), timeout=30)
            expect(digitized.shipment.state == common_pb2.SHIPMENT_STATE_DIGITIZED, "the last scan makes the dossier DIGITIZED")
            shipment = None
            for _ in range(200):
                shipment = counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=number), timeout=10)
                if shipment.state == common_pb2.SHIPMENT_STATE_APPOINTMENT_RECEIVED:
                    break
                time.sleep(0.1)
            accepted = [e for e in shipment.events if e.type == common_pb2.EVENT_TYPE_AGENCY_ACCEPTED]
            expect(len(accepted) == 1 and accepted[0].agency_decision.dossier_code.startswith("000.00.00.H55-"),
                   "the Python AgencyIntake server filed the pushed dossier: " + (accepted[0].agency_decision.dossier_code if accepted else "none"))
            expect(intake_servicer.calls == {f"{number}-H1": 1}, "the agency received the handoff exactly once")
            legs = {h.hop: h for h in shipment.hops}
            leg = legs[common_pb2.SLA_HOP_DOSSIER_LEG]
            expect(leg.running and leg.appointment_slip and leg.working_days == 2 and leg.route_class == "WITHIN_COMMUNE",
                   "with an appointment slip to hand back, the dossier leg (within one commune) runs to J+2")
            notified = counter.RecordEvent(counter_service_pb2.RecordEventRequest(
                request_id=str(uuid.uuid4()), tracking_number=number, type=common_pb2.EVENT_TYPE_APPOINTMENT_NOTIFIED), timeout=10)
            shipment = counter.GetShipment(counter_service_pb2.GetShipmentRequest(tracking_number=number), timeout=10)
            legs = {h.hop: h for h in shipment.hops}
            expect(notified.shipment.state == common_pb2.SHIPMENT_STATE_APPOINTMENT_NOTIFIED
                   and legs[common_pb2.SLA_HOP_DOSSIER_LEG].verdict == common_pb2.HOP_VERDICT_EARLY,
                   "the citizen told of the date the same day: the dossier leg ends EARLY")
            expect(legs[common_pb2.SLA_HOP_AGENCY_PROCESSING].running, "the agency's clock runs")

        # The provincial oversight office: explain a leg, report the day, watch alerts.
        oversight_credentials = grpc.ssl_channel_credentials(
            ca, read(os.path.join(pki, "oversight-key.pem")), read(os.path.join(pki, "oversight.pem")))
        with grpc.secure_channel(f"127.0.0.1:{partner}", oversight_credentials) as channel:
            oversight = oversight_service_pb2_grpc.OversightServiceStub(channel)
            explained = oversight.ExplainDeadline(oversight_service_pb2.ExplainDeadlineRequest(
                tracking_number=number, hop=common_pb2.SLA_HOP_AGENCY_PROCESSING), timeout=10)
            expect(explained.due_date == legs[common_pb2.SLA_HOP_AGENCY_PROCESSING].due_date and explained.calendar_versions,
                   "ExplainDeadline gives the agency's due date and the calendar version " + ",".join(explained.calendar_versions))
            day = legs[common_pb2.SLA_HOP_DOSSIER_LEG].ended_at.ToDatetime() + datetime.timedelta(hours=7)
            report = oversight.GetSlaReport(oversight_service_pb2.GetSlaReportRequest(
                from_date=day.strftime("%Y-%m-%d"), to_date=day.strftime("%Y-%m-%d"),
                group_by=oversight_service_pb2.SLA_REPORT_GROUPING_AGENCY), timeout=10)
            rows = [r for r in report.rows if r.hop == common_pb2.SLA_HOP_DOSSIER_LEG]
            # INTEROP_EARLIER_LEGS: dossier legs already ended today in a reused database.
            legs_today = 1 + int(os.environ.get("INTEROP_EARLIER_LEGS", "0"))
            expect(len(rows) == 1 and rows[0].key == "000.00.00.H55" and rows[0].ended == legs_today and rows[0].on_time_percent == 100,
                   "GetSlaReport counts the dossier leg on time")
            received = []
            try:
                for alert in oversight.WatchAlerts(oversight_service_pb2.WatchAlertsRequest(after_cursor=0), timeout=1):
                    received.append(alert)
            except grpc.RpcError as error:
                expect(error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, "WatchAlerts stays open until the deadline")
            expect(received == [], "no alert is due for a dossier on time")
    finally:
        intake.stop(grace=None)
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed"
        log.close()
    expect(code == 0, f"SIGTERM shuts the server down cleanly (exit {code})")
    with open(os.path.join(work, "server.log")) as f:
        text = f.read()
    for secret in ["019084000123", "Nguyễn", "912345678", "Lương Ngọc Quyến"]:
        expect(secret not in text, f"the server log does not contain {secret!r}")


if __name__ == "__main__":
    main()
