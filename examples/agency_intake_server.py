"""A minimal agency one-stop system in Python: an AgencyIntake server for PostalGateway's push
mode.

It listens with its own server certificate, requires the gateway's client certificate (mutual
TLS), registers each handoff id once (a repeat gets the same receipt: the gateway may retry),
fetches every scan of the dossier from the gateway's AgencyService with the agency's client
certificate and checks its SHA-256, and answers with a dossier code of the form
`<agency>-YYMMDD-NNNN` (NĐ 61 art. 26) and a result appointment date.

Generate the Python stubs from proto/ first (python -m grpc_tools.protoc, as the README shows),
then:

  python3 examples/agency_intake_server.py --port 9443 \
      --cert intake.pem --key intake-key.pem --gateway-ca ca.pem \
      --gateway 127.0.0.1:7443 --agency-cert agency.pem --agency-key agency-key.pem --stubs STUBS_DIR
"""

import argparse
import datetime
import hashlib
import sys
import threading
import time
from concurrent import futures


def read(path):
    with open(path, "rb") as f:
        return f.read()


def build_servicer(agency_intake_pb2, agency_intake_pb2_grpc, agency_service_pb2_grpc, counter_service_pb2,
                   gateway_channel, first_sequence=1):
    class Intake(agency_intake_pb2_grpc.AgencyIntakeServicer):
        def __init__(self):
            self.lock = threading.Lock()
            self.receipts = {}  # handoff id -> receipt: the idempotency record
            self.calls = {}
            self.call_times = {}  # handoff id -> when each delivery arrived (time.time())
            self.gateway = agency_service_pb2_grpc.AgencyServiceStub(gateway_channel)

        def fetch_scans(self, package):
            for scan in package.scans:
                parts = list(self.gateway.DownloadScan(
                    counter_service_pb2.DownloadScanRequest(document_code=scan.document_code), timeout=30))
                body = b"".join(p.chunk for p in parts[1:])
                if hashlib.sha256(body).hexdigest() != scan.sha256 or len(body) != scan.size:
                    raise ValueError(f"scan {scan.document_code} does not match its hash")

        def DeliverDossier(self, package, context):
            with self.lock:
                self.calls[package.handoff_id] = self.calls.get(package.handoff_id, 0) + 1
                self.call_times.setdefault(package.handoff_id, []).append(time.time())
                if package.handoff_id in self.receipts:
                    return self.receipts[package.handoff_id]
            try:
                self.fetch_scans(package)
            except Exception as error:  # the gateway retries later
                context.abort(grpc_status_unavailable(), f"cannot fetch the scans: {error}")
            now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7)))
            with self.lock:
                if package.handoff_id not in self.receipts:
                    sequence = len(self.receipts) + first_sequence
                    receipt = agency_intake_pb2.IntakeReceipt()
                    receipt.accepted.dossier_code = f"{package.agency_code}-{now:%y%m%d}-{sequence:04d}"
                    receipt.accepted.received_at.FromDatetime(now.astimezone(datetime.timezone.utc))
                    receipt.accepted.appointment_date = (now + datetime.timedelta(days=14)).strftime("%Y-%m-%d")
                    self.receipts[package.handoff_id] = receipt
                    print(f"registered {package.handoff_id} as {receipt.accepted.dossier_code}", flush=True)
                return self.receipts[package.handoff_id]

    return Intake()


def grpc_status_unavailable():
    import grpc
    return grpc.StatusCode.UNAVAILABLE


def serve(args):
    import grpc
    sys.path.insert(0, args.stubs)
    from postalgateway.v1 import agency_intake_pb2, agency_intake_pb2_grpc, agency_service_pb2_grpc
    from postalgateway.v1 import counter_service_pb2

    gateway_channel = grpc.secure_channel(args.gateway, grpc.ssl_channel_credentials(
        read(args.gateway_ca), read(args.agency_key), read(args.agency_cert)))
    servicer = build_servicer(agency_intake_pb2, agency_intake_pb2_grpc, agency_service_pb2_grpc,
                              counter_service_pb2, gateway_channel, getattr(args, "first_sequence", 1))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    agency_intake_pb2_grpc.add_AgencyIntakeServicer_to_server(servicer, server)
    credentials = grpc.ssl_server_credentials(
        [(read(args.key), read(args.cert))], root_certificates=read(args.gateway_ca), require_client_auth=True)
    server.add_secure_port(f"127.0.0.1:{args.port}", credentials)
    server.start()
    print(f"AgencyIntake listening on 127.0.0.1:{args.port}", flush=True)
    return server, servicer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="this server's certificate (PEM)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--gateway-ca", required=True, help="the CA of the gateway's certificates (PEM)")
    parser.add_argument("--gateway", required=True, help="the gateway's partner listener host:port")
    parser.add_argument("--agency-cert", required=True, help="this agency's client certificate for the gateway")
    parser.add_argument("--agency-key", required=True)
    parser.add_argument("--stubs", required=True, help="folder of the Python modules generated from proto/")
    parser.add_argument("--first-sequence", type=int, default=1,
                        help="the number of the first dossier code it gives (a real agency never reuses one)")
    server, _ = serve(parser.parse_args())
    server.wait_for_termination()


if __name__ == "__main__":
    main()
