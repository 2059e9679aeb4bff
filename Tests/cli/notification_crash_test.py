"""Notifications survive SIGKILL: every pending message is sent after a restart, with the message
id it had before, exactly once, and none is lost.

Two real receivers (an SMS provider and a webhook subscriber that verifies signatures with the
`standardwebhooks` library) answer 503 to everything at first. The gateway registers dossiers
whose citizens chose SMS and records their collection (one SMS and one webhook each); once every
message has been tried at least once, the server is killed with SIGKILL. The receivers come back
answering 2xx, the server restarts on the same data, and the test waits until the outbox says
every message was sent, then checks what the receivers got.

Usage: python3 Tests/cli/notification_crash_test.py PATH/TO/postal-gateway
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "interop"))
import interop_test  # noqa: E402

expect = interop_test.expect
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SHIPMENTS = 12


def receiver(mode, port, log, failing):
    command = [sys.executable, os.path.join(ROOT, "Tests", "receivers", "notification_receiver.py"),
               "--mode", mode, "--log", log, "--port", str(port)]
    if failing:
        command += ["--fail-first", "1000000"]
    if mode == "webhook":
        command += ["--secret", SECRET]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()
    expect(line.startswith("listening"), f"the {mode} receiver listens on {port}")
    return process


def records(log):
    if not os.path.exists(log):
        return []
    with open(log, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="postal-gateway-notify-crash-")
    interop_test.generate_stubs(os.path.join(work, "stubs"))
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from postalgateway.v1 import common_pb2, counter_service_pb2, counter_service_pb2_grpc
    from postalgateway.v1 import operator_service_pb2, operator_service_pb2_grpc

    data = os.path.join(work, "data")
    partner, public, sms_port, hook_port = (interop_test.free_port() for _ in range(4))
    sms_log, hook_log = os.path.join(work, "sms.jsonl"), os.path.join(work, "hook.jsonl")
    secrets, token = os.path.join(work, "hook.secrets"), os.path.join(work, "sms-token")
    with open(secrets, "w") as f:
        f.write(SECRET + "\n")
    with open(token, "w") as f:
        f.write("crash-test-token\n")
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump({"notifications": {
            "sms": {"url": f"http://127.0.0.1:{sms_port}/sms", "tokenFile": token, "quietHours": ""},
            "webhooks": [{"id": "portal", "url": f"http://127.0.0.1:{hook_port}/hook", "secretsFile": secrets}],
            "retrySeconds": [1] * 30, "retryJitter": 0.2, "attemptTimeoutMilliseconds": 2000}}, f)
    server_log = open(os.path.join(work, "server.log"), "a")

    def start():
        return subprocess.Popen(
            [binary, "serve", "--config", config, "--data-dir", data, "--no-web",
             "--partner-address", f"127.0.0.1:{partner}", "--public-address", f"127.0.0.1:{public}"],
            stdout=server_log, stderr=subprocess.STDOUT)

    receivers = [receiver("sms", sms_port, sms_log, True), receiver("webhook", hook_port, hook_log, True)]
    server = start()
    try:
        pki = os.path.join(data, "pki")
        for _ in range(300):
            if os.path.exists(os.path.join(pki, "operator-key.pem")):
                break
            time.sleep(0.1)
        ca = interop_test.read(os.path.join(pki, "ca.pem"))

        def credentials(role):
            return grpc.ssl_channel_credentials(ca, interop_test.read(os.path.join(pki, f"{role}-key.pem")),
                                                interop_test.read(os.path.join(pki, f"{role}.pem")))

        numbers = []
        with grpc.secure_channel(f"127.0.0.1:{partner}", credentials("staff")) as channel:
            interop_test.wait_until_serving(channel, health_pb2, health_pb2_grpc, server)
            counter = counter_service_pb2_grpc.CounterServiceStub(channel)
            for _ in range(SHIPMENTS):
                registered = counter.RegisterPickup(counter_service_pb2.RegisterPickupRequest(
                    request_id=str(uuid.uuid4()), service_type=common_pb2.SERVICE_TYPE_DOSSIER_AND_RESULT,
                    applicant=common_pb2.Applicant(full_name="Nguyễn Văn An", citizen_id="019084000123",
                                                   phone="0912345678", address=common_pb2.Address(
                                                       province_code="19", commune_code="05500", detail="12 Lương Ngọc Quyến")),
                    procedure_code="2.000635", destination_agency_code="000.00.00.H55",
                    pickup=common_pb2.Pickup(counter=common_pb2.CounterPickup(post_office_code="250000")),
                    notification_channel=common_pb2.NOTIFICATION_CHANNEL_SMS), timeout=10)
                number = registered.shipment.tracking_number
                counter.RecordCollection(counter_service_pb2.RecordCollectionRequest(
                    request_id=str(uuid.uuid4()), tracking_number=number, seal_id="S-1",
                    fee_collected_vnd=8000, postage_vnd=25000,
                    items=[common_pb2.HandedOverItem(document_id="TO_KHAI", form=common_pb2.DOCUMENT_FORM_ORIGINAL, pages=2),
                           common_pb2.HandedOverItem(document_id="GIAY_TO_TUY_THAN", form=common_pb2.DOCUMENT_FORM_COPY, pages=1)]),
                    timeout=10)
                numbers.append(number)
        expected = {f"msg_{n}_2_sms" for n in numbers} | {f"msg_{n}_2_wh-portal" for n in numbers}

        deadline = time.time() + 120
        while time.time() < deadline:
            tried = {r["id"] for r in records(sms_log) + records(hook_log)}
            if tried >= expected:
                break
            time.sleep(0.2)
        expect(tried == expected, f"each of the {len(expected)} messages was tried (and refused) before the kill")
        server.send_signal(signal.SIGKILL)
        server.wait()
        expect(True, "the server was killed with SIGKILL while every message was pending")
        for process in receivers:
            process.kill()
            process.wait()
        before_sms, before_hook = len(records(sms_log)), len(records(hook_log))

        receivers = [receiver("sms", sms_port, sms_log, False), receiver("webhook", hook_port, hook_log, False)]
        server = start()
        with grpc.secure_channel(f"127.0.0.1:{partner}", credentials("operator")) as channel:
            interop_test.wait_until_serving(channel, health_pb2, health_pb2_grpc, server)
            operator = operator_service_pb2_grpc.OperatorServiceStub(channel)
            deadline = time.time() + 120
            while time.time() < deadline:
                summary = operator.GetNotificationSummary(operator_service_pb2.GetNotificationSummaryRequest(), timeout=10)
                if sum(d.sent for d in summary.destinations) == len(expected):
                    break
                time.sleep(0.3)
            expect(sum(d.sent for d in summary.destinations) == len(expected)
                   and sum(d.pending + d.dead for d in summary.destinations) == 0,
                   f"after the restart the outbox has sent all {len(expected)} messages, none pending or dead")
            listed = operator.ListNotifications(operator_service_pb2.ListNotificationsRequest(limit=1000), timeout=10)
            expect({n.message_id for n in listed.notifications} == expected, "the outbox holds exactly the expected ids")

        after = records(sms_log)[before_sms:] + records(hook_log)[before_hook:]
        accepted = [r for r in after if 200 <= r["status"] < 300]
        expect({r["id"] for r in accepted} == expected,
               "every message reached its receiver after the restart, with the id it had before")
        expect(len(accepted) == len(expected) and all(r["new"] for r in accepted),
               "each exactly once: no message delivered twice")
        hooks = [r for r in accepted if r["id"].endswith("wh-portal")]
        expect(all(r["verified"] for r in hooks), "every webhook verifies with the standardwebhooks library")
        server.send_signal(signal.SIGTERM)
        expect(server.wait(timeout=30) == 0, "the server stops cleanly")
        with open(os.path.join(work, "server.log"), encoding="utf-8") as f:
            logged = f.read()
        expect("crash-test-token" not in logged and SECRET not in logged and "0912345678" not in logged
               and "+84912345678" not in logged, "no credential, secret or phone number reaches the log")
    finally:
        if server.poll() is None:
            server.kill()
        for process in receivers:
            process.kill()
    print("notification crash test: all checks passed")


if __name__ == "__main__":
    main()
