"""Structure-aware fuzzing of every RPC of a real postal-gateway process.

Requests are built from the proto descriptors (random messages: huge numbers, long and invalid
UTF-8 strings, huge repeated fields, nesting, unknown enum values), from valid templates with one
field changed, and by mutating their bytes (bit flips, truncated frames, garbage). Each goes to
the method over mutual TLS as the role the authorization table allows (sometimes as another
role, to fuzz authorization too). Every answer is checked:

- the server is alive, and no call hangs past its deadline;
- its resident memory stays under --rss-mb;
- the status is one of the documented codes (never INTERNAL, UNKNOWN, UNAVAILABLE, DATA_LOSS);
- an error's message plus its details stay under 4 KiB;
- a unary write that fails changed nothing: the database's counts of events, custody leaves,
  idempotency records, devices' events, keys and outbox rows are the same before and after.

It prints the seeds, the case count, the codes seen and the peak RSS; it exits non-zero on the
first violation, naming the case so it can be replayed with the same seed.

Usage: python3 Tests/fuzz/fuzz_rpc.py BINARY [--cases N] [--seed S] [--random-cases M]
"""

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "interop"))
from interop_test import generate_stubs, read  # noqa: E402

ALLOWED = {
    grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.ABORTED, grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,
}
STRINGS = [
    "", "a", " ", "0", "-1", "EA000000005VN", "EA000000080VN", "019084000123", "079084000999",
    "2.000635", "000.00.00.H55", "000.00.00.H55-261202-0001", "250000", "19", "05500",
    "0912345678", "+84912345678", "2026-03-02", "2026-02-31", "TO_KHAI", "GIAY_TO_TUY_THAN",
    "Nguyễn Văn An", "spiffe://postal-gateway.local/agency/000.00.00.H55", "S-0001",
    "x" * 300, "é" * 5000, "\x00\x01\x02", "🙂" * 100, "../../etc/passwd", "%s%n", "A" * 70000,
]
# The gateway's request limit (4 MiB) plus the 1 MiB the transport allows beyond it.
TRANSPORT_LIMIT = 5 * 1024 * 1024
INTS = [0, 1, -1, 2, 7, 255, 65536, 2**31 - 1, -(2**31), 2**62, 2**63 - 1, -(2**63)]


def is_repeated(field):
    """Whether a field is repeated (protobuf 6 has `is_repeated`; older ones `label`)."""
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


class Fuzzer:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        generate_stubs(os.path.join(work, "stubs"))
        from google.protobuf import descriptor_pool, message_factory
        import postalgateway.v1.common_pb2 as common_pb2  # noqa: F401
        import postalgateway.v1.counter_service_pb2 as counter  # noqa: F401
        import postalgateway.v1.tracking_service_pb2 as tracking  # noqa: F401
        import postalgateway.v1.custody_service_pb2  # noqa: F401
        import postalgateway.v1.signing_key_service_pb2  # noqa: F401
        import postalgateway.v1.agency_service_pb2  # noqa: F401
        import postalgateway.v1.operator_service_pb2  # noqa: F401
        import postalgateway.v1.oversight_service_pb2  # noqa: F401
        import postalgateway.v1.agency_intake_pb2  # noqa: F401
        self.common, self.counter, self.tracking = common_pb2, counter, tracking
        self.pool = descriptor_pool.Default()
        self.message_class = message_factory.GetMessageClass
        self.methods = []
        for name in ["CounterService", "SigningKeyService", "AgencyService", "OperatorService",
                     "OversightService", "TrackingService", "CustodyService"]:
            service = self.pool.FindServiceByName(f"postalgateway.v1.{name}")
            for method in service.methods:
                self.methods.append(method)

    # -- the server ---------------------------------------------------------------------------

    def start(self):
        binary = self.args.binary
        self.data = os.path.join(self.work, "data")
        roles = subprocess.run([binary, "roles"], check=True, capture_output=True, text=True).stdout
        self.roles = {}
        header = None
        for line in roles.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0] == "RPC":
                header = cells[1:]
                continue
            if header and cells[0].startswith("`"):
                self.roles[cells[0].strip("`")] = [r for r, mark in zip(header, cells[1:]) if mark == "✔"]
        self.log_path = os.path.join(self.work, "server.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--data-dir", self.data, "--partner-address", "127.0.0.1:0",
             "--public-address", "127.0.0.1:0", "--web-address", "127.0.0.1:0"],
            stdout=self.log, stderr=subprocess.STDOUT)
        ports = {}
        for _ in range(600):
            text = open(self.log_path).read()
            for listener, port in re.findall(r"listener=(partner|public)\S* listener\.address=\S*?:(\d+)\b", text):
                ports[listener] = int(port)
            if len(ports) == 2:
                break
            if self.process.poll() is not None:
                raise SystemExit("server exited early:\n" + text)
            time.sleep(0.1)
        if len(ports) != 2:
            raise SystemExit("server did not report its ports:\n" + open(self.log_path).read())
        pki = os.path.join(self.data, "pki")
        ca = read(os.path.join(pki, "ca.pem"))

        def channel(name):
            credentials = grpc.ssl_channel_credentials(
                ca, read(os.path.join(pki, f"{name}-key.pem")), read(os.path.join(pki, f"{name}.pem")))
            return grpc.secure_channel(f"127.0.0.1:{ports['partner']}", credentials)
        self.channels = {role: channel(role) for role in ["staff", "agency", "operator", "oversight"]}
        self.channels["citizen"] = grpc.secure_channel(
            f"127.0.0.1:{ports['public']}", grpc.ssl_channel_credentials(ca))
        for ch in self.channels.values():
            grpc.channel_ready_future(ch).result(timeout=30)
        self.database = sqlite3.connect(f"file:{os.path.join(self.data, 'postal-gateway.sqlite')}?mode=ro", uri=True)

    def stop(self):
        for ch in self.channels.values():
            ch.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise SystemExit("FAILED: the server did not stop on SIGTERM")

    def rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def state(self):
        query = """SELECT (SELECT COUNT(*) FROM shipment_event), (SELECT COUNT(*) FROM custody_leaf),
                          (SELECT COUNT(*) FROM idempotency_key), (SELECT COUNT(*) FROM device_event),
                          (SELECT COUNT(*) FROM signing_key), (SELECT COUNT(*) FROM handoff),
                          (SELECT COUNT(*) FROM shipment)"""
        return self.database.execute(query).fetchone()

    # -- seed data ----------------------------------------------------------------------------

    def seed(self):
        """A few real shipments, so that near-valid requests reach the deeper rules."""
        stub = self.channels["staff"].unary_unary(
            "/postalgateway.v1.CounterService/RegisterPickup",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=self.counter.RegisterPickupResponse.FromString)
        self.numbers, self.codes = [], []  # verification codes
        for index in range(3):
            response = stub(self.template_pickup(), timeout=10)
            self.numbers.append(response.shipment.tracking_number)
            self.codes.append(response.verification_code)

    def template_pickup(self):
        c = self.common
        return self.counter.RegisterPickupRequest(
            request_id=str(uuid.uuid4()), service_type=c.SERVICE_TYPE_DOSSIER_AND_RESULT,
            applicant=c.Applicant(full_name="Nguyễn Văn An", citizen_id="019084000123", phone="0912345678",
                                  address=c.Address(province_code="19", commune_code="05500", detail="12 Lương Ngọc Quyến")),
            procedure_code="2.000635", destination_agency_code="000.00.00.H55",
            pickup=c.Pickup(counter=c.CounterPickup(post_office_code="250000")))

    # -- generation ---------------------------------------------------------------------------

    def random_value(self, rng, field, depth):
        from google.protobuf.descriptor import FieldDescriptor as F
        t = field.type
        if t == F.TYPE_MESSAGE:
            return self.random_message(rng, field.message_type, depth + 1)
        if t == F.TYPE_STRING:
            if field.name in ("tracking_number",) and rng.random() < 0.5:
                return rng.choice(self.numbers)
            if field.name == "verification_code" and rng.random() < 0.3:
                return rng.choice(self.codes)
            if is_repeated(field):
                return rng.choice(STRINGS[:-1])  # no 70,000-character entries in long lists
            return rng.choice(STRINGS)
        if t == F.TYPE_BYTES:
            return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 16, 32, 64, 1000])))
        if t == F.TYPE_BOOL:
            return rng.random() < 0.5
        if t == F.TYPE_ENUM:
            values = [v.number for v in field.enum_type.values]
            return rng.choice(values + [99, -1, 2**31 - 1])
        if t in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
            return rng.choice([0.0, -1.0, 1e308, float("nan"), float("inf")])
        value = rng.choice(INTS + [rng.randint(-1000, 1000)])
        if t in (F.TYPE_UINT32, F.TYPE_FIXED32):
            return value % (2**32)
        if t in (F.TYPE_UINT64, F.TYPE_FIXED64):
            return value % (2**64)
        if t in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
            return max(-(2**31), min(2**31 - 1, value))
        return value

    def random_message(self, rng, descriptor, depth=0):
        message = self.message_class(descriptor)()
        if descriptor.full_name == "google.protobuf.Timestamp":
            message.seconds = rng.choice([0, 1_764_000_000, 1_800_000_000, -62135596800, 253402300799, 2**40])
            message.nanos = rng.choice([0, 999_999_999, 10**9])
            return message
        if depth > 3:
            return message
        for field in descriptor.fields:
            if rng.random() < 0.45:
                continue
            try:
                if is_repeated(field):
                    count = rng.choice([1, 1, 2, 3, 12, 60, 1500 if rng.random() < 0.2 else 3])
                    target = getattr(message, field.name)
                    for _ in range(count):
                        value = self.random_value(rng, field, depth)
                        if field.type == field.TYPE_MESSAGE:
                            target.add().CopyFrom(value)
                        else:
                            target.append(value)
                elif field.type == field.TYPE_MESSAGE:
                    getattr(message, field.name).CopyFrom(self.random_value(rng, field, depth))
                else:
                    setattr(message, field.name, self.random_value(rng, field, depth))
            except (ValueError, TypeError):
                pass
        return message

    def near_valid(self, rng, method):
        """A valid template for some methods, with one field changed."""
        name = method.name
        if name == "RegisterPickup":
            message = self.template_pickup()
        elif name == "TrackShipment":
            message = self.tracking.TrackShipmentRequest(tracking_number=rng.choice(self.numbers), verification_code=rng.choice(self.codes))
        elif name == "RecordCollection":
            c = self.common
            message = self.counter.RecordCollectionRequest(
                request_id=str(uuid.uuid4()), tracking_number=rng.choice(self.numbers),
                items=[c.HandedOverItem(document_id="TO_KHAI", form=c.DOCUMENT_FORM_ORIGINAL, pages=2)])
        else:
            return None
        fields = message.DESCRIPTOR.fields
        field = rng.choice(fields)
        try:
            if is_repeated(field):
                getattr(message, field.name).extend([self.random_value(rng, field, 0)] * rng.choice([1, 40, 200])) \
                    if field.type != field.TYPE_MESSAGE else [getattr(message, field.name).add().CopyFrom(self.random_value(rng, field, 0)) for _ in range(rng.choice([1, 40, 200]))]
            elif field.type == field.TYPE_MESSAGE:
                getattr(message, field.name).CopyFrom(self.random_value(rng, field, 0))
            else:
                setattr(message, field.name, self.random_value(rng, field, 0))
        except (ValueError, TypeError):
            pass
        return message

    def mutate(self, rng, data):
        data = bytearray(data)
        choice = rng.random()
        if choice < 0.25 and data:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif choice < 0.45 and data:
            data = data[: rng.randrange(len(data))]  # a truncated message
        elif choice < 0.65:
            data += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
        elif choice < 0.85:
            # A string field (most are numbers 1–9) carrying invalid UTF-8.
            field = rng.randint(1, 12)
            bad = b"\xff\xfe\xc3\x28" * rng.randint(1, 50)
            data += bytes([(field << 3) | 2, len(bad) if len(bad) < 128 else 127]) + bad[:127]
        else:
            # A huge varint length prefix: a frame that claims more than it holds.
            data += bytes([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        return bytes(data)

    # -- one case -----------------------------------------------------------------------------

    def role_for(self, rng, method):
        full = f"{method.containing_service.full_name}/{method.name}"
        allowed = self.roles.get(full, [])
        if allowed and rng.random() < 0.9:
            return rng.choice(allowed)
        return rng.choice(["staff", "agency", "operator", "oversight", "citizen"])

    def case(self, rng, index):
        method = rng.choice(self.methods)
        role = self.role_for(rng, method)
        strategy = rng.random()
        message = self.near_valid(rng, method) if strategy < 0.3 else None
        if message is None:
            message = self.random_message(rng, method.input_type)
        data = message.SerializeToString()
        if rng.random() < 0.3:
            data = self.mutate(rng, data)
        path = f"/{method.containing_service.full_name}/{method.name}"
        channel = self.channels[role]
        streaming_in, streaming_out = method.client_streaming, method.server_streaming
        before = self.state()
        code, details, trailing = grpc.StatusCode.OK, "", ()
        started = time.time()
        timeout = 0.15 if streaming_out else 5
        try:
            if streaming_in:
                call = channel.stream_stream(path, request_serializer=None, response_deserializer=None)
                messages = [data] + [self.mutate(rng, data) for _ in range(rng.randint(0, 2))]
                responses = call(iter(messages), timeout=timeout)
                for _ in responses:
                    pass
            elif streaming_out:
                call = channel.unary_stream(path, request_serializer=None, response_deserializer=None)
                responses = call(data, timeout=timeout)
                for count, _ in enumerate(responses):
                    if count >= 3:
                        responses.cancel()
                        break
            else:
                call = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
                call.with_call(data, timeout=timeout)
        except grpc.RpcError as error:
            code = error.code()
            details = error.details() or ""
            trailing = error.trailing_metadata() or ()
        elapsed = time.time() - started
        where = f"case {index} ({path} as {role}, {len(data)} bytes)"
        if code == grpc.StatusCode.CANCELLED and streaming_out:
            code = grpc.StatusCode.DEADLINE_EXCEEDED  # we cut the stream ourselves
        if code == grpc.StatusCode.CANCELLED and len(data) > TRANSPORT_LIMIT:
            # Beyond the transport's own limit grpc-swift-nio-transport resets the stream before
            # any handler runs (documented in the README); below it the gateway answers
            # RESOURCE_EXHAUSTED with the limit.
            self.resets += 1
            return
        if self.process.poll() is not None:
            raise SystemExit(f"FAILED: the server died at {where}:\n" + open(self.log_path).read()[-4000:])
        if elapsed > timeout + 5:
            raise SystemExit(f"FAILED: {where} took {elapsed:.1f} s")
        if code not in ALLOWED:
            raise SystemExit(f"FAILED: {where} answered {code.name}: {details[:300]}")
        if code != grpc.StatusCode.OK:
            size = len(details.encode()) + sum(len(k) + len(v if isinstance(v, (bytes, str)) else b"") for k, v in trailing)
            if size > 4096:
                raise SystemExit(f"FAILED: {where} answered an error of {size} bytes (limit 4096)")
            self.largest_error = max(self.largest_error, size)
            if not streaming_in and not streaming_out and code != grpc.StatusCode.DEADLINE_EXCEEDED:
                after = self.state()
                if after != before:
                    raise SystemExit(f"FAILED: {where} answered {code.name} but changed the store: {before} -> {after}")
        self.statuses[code.name] = self.statuses.get(code.name, 0) + 1

    def run(self):
        self.statuses, self.largest_error, self.resets, peak = {}, 0, 0, 0.0
        runs = [(self.args.seed, self.args.cases)]
        if self.args.random_cases > 0:
            runs.append((random.SystemRandom().randrange(2**32), self.args.random_cases))
        total = 0
        for seed, cases in runs:
            print(f"fuzz: seed {seed}, {cases} cases", flush=True)
            rng = random.Random(seed)
            for index in range(cases):
                self.case(rng, index)
                if index % 100 == 0:
                    peak = max(peak, self.rss_mb())
                    if peak > self.args.rss_mb:
                        raise SystemExit(f"FAILED: server RSS {peak:.0f} MB over {self.args.rss_mb} MB at case {index} (seed {seed})")
            total += cases
        peak = max(peak, self.rss_mb())
        print(f"fuzz: {total} cases, codes {json.dumps(dict(sorted(self.statuses.items())))}")
        print(f"fuzz: peak server RSS {peak:.0f} MB, largest error {self.largest_error} bytes, "
              f"{self.resets} requests over the transport limit reset")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--random-cases", type=int, default=2_000)
    parser.add_argument("--rss-mb", type=int, default=400)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="postal-gateway-fuzz-")
    fuzzer = Fuzzer(args, work)
    fuzzer.start()
    try:
        fuzzer.seed()
        fuzzer.run()
    finally:
        fuzzer.stop()
    print("fuzz: ok")


if __name__ == "__main__":
    main()
