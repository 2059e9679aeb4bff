"""Writes the OpenAPI description of the citizens' JSON API from the wire contract in proto/.

The JSON API answers the wire messages in the proto3 JSON mapping (lowerCamelCase names, enums
by name, 64-bit integers as strings, timestamps in RFC 3339, fields at their default value left
out), so its schemas are derived from the same .proto files as the gRPC service: they cannot
drift. The document is committed at Sources/PostalGateway/Resources/web/openapi.json and served
at /openapi.json; Tests/web/web_test.py regenerates it and fails if the committed one differs.

Usage: python3 scripts/generate_openapi.py            rewrite the committed document
       python3 scripts/generate_openapi.py --check    fail if it differs
Needs grpcio-tools (Tests/interop/requirements.txt).
"""

import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "Sources", "PostalGateway", "Resources", "web", "openapi.json")
PACKAGE = "postalgateway.v1"


def descriptors():
    """Every message and enum of proto/, by full name, from grpcio-tools' protoc."""
    import grpc_tools
    from grpc_tools import protoc
    from google.protobuf import descriptor_pb2

    protos = []
    for folder, _, files in os.walk(os.path.join(ROOT, "proto", "postalgateway")):
        protos += [os.path.relpath(os.path.join(folder, f), os.path.join(ROOT, "proto"))
                   for f in files if f.endswith(".proto")]
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "set.pb")
        status = protoc.main(["protoc", f"-I{os.path.join(ROOT, 'proto')}", f"-I{well_known}",
                              "--include_imports", f"--descriptor_set_out={out}"] + sorted(protos))
        if status != 0:
            raise SystemExit("protoc failed")
        with open(out, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    messages, enums = {}, {}

    def walk(prefix, message):
        name = f"{prefix}.{message.name}"
        messages[name] = message
        for nested in message.nested_type:
            walk(name, nested)
        for enum in message.enum_type:
            enums[f"{name}.{enum.name}"] = enum

    for file in fds.file:
        for message in file.message_type:
            walk(file.package, message)
        for enum in file.enum_type:
            enums[f"{file.package}.{enum.name}"] = enum
    return messages, enums


def schemas(roots):
    """JSON schemas of the root messages and everything they use."""
    from google.protobuf.descriptor_pb2 import FieldDescriptorProto as F

    messages, enums = descriptors()
    out = {}
    pending = list(roots)
    integers = {F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32, F.TYPE_UINT32, F.TYPE_FIXED32}
    longs = {F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64, F.TYPE_UINT64, F.TYPE_FIXED64}

    def short(full):
        return full.split(".")[-1] if full.startswith(PACKAGE + ".") else full.replace(".", "_")

    while pending:
        full = pending.pop()
        if short(full) in out:
            continue
        if full in enums:
            out[short(full)] = {"type": "string",
                                "enum": [value.name for value in enums[full].value]}
            continue
        message = messages[full]
        properties = {}
        for field in message.field:
            if field.type == F.TYPE_MESSAGE and field.type_name == ".google.protobuf.Timestamp":
                schema = {"type": "string", "format": "date-time"}
            elif field.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
                target = field.type_name.lstrip(".")
                pending.append(target)
                schema = {"$ref": f"#/components/schemas/{short(target)}"}
            elif field.type in integers:
                schema = {"type": "integer", "format": "int32"}
            elif field.type in longs:
                schema = {"type": "string", "pattern": "^-?[0-9]+$", "format": "int64"}
            elif field.type == F.TYPE_BOOL:
                schema = {"type": "boolean"}
            elif field.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
                schema = {"type": "number"}
            elif field.type == F.TYPE_BYTES:
                schema = {"type": "string", "format": "byte"}
            else:
                schema = {"type": "string"}
            if field.label == F.LABEL_REPEATED:
                schema = {"type": "array", "items": schema}
            properties[field.json_name] = schema
        out[short(full)] = {"type": "object", "properties": properties,
                            "additionalProperties": False}
    return out


def document():
    def operation(summary, description, request, response):
        return {
            "summary": summary,
            "description": description,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{request}"}}}},
            "responses": {
                "200": {"description": "Done.", "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{response}"}}}},
                "400": {"$ref": "#/components/responses/Problem"},
                "404": {"$ref": "#/components/responses/Problem"},
                "409": {"$ref": "#/components/responses/Problem"},
                "413": {"$ref": "#/components/responses/Problem"},
                "415": {"$ref": "#/components/responses/Problem"},
                "429": {"$ref": "#/components/responses/Throttled"},
                "503": {"$ref": "#/components/responses/Problem"},
            },
        }

    components = schemas([f"{PACKAGE}.TrackShipmentRequest", f"{PACKAGE}.TrackShipmentResponse",
                          f"{PACKAGE}.GetReceiptRequest", f"{PACKAGE}.Receipt",
                          f"{PACKAGE}.CitizenNotificationRequest",
                          f"{PACKAGE}.NotificationConsent", f"{PACKAGE}.RateServiceRequest",
                          f"{PACKAGE}.RateServiceResponse"])
    components["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details; title and detail in the request's language "
                       "(Vietnamese by default).",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "errors": {"type": "array", "items": {
                "type": "object", "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                "additionalProperties": False}},
            "retryAfterSeconds": {"type": "integer"},
        },
        "additionalProperties": False,
    }
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PostalGateway — tra cứu hồ sơ (citizens' tracking API)",
            "version": "1.0.0",
            "description": (
                "What a citizen sees of a dossier sent by post, for apps and web pages, with the "
                "tracking number and the verification code (always in the body, never in a URL). "
                "Bodies follow the proto3 JSON mapping of the gRPC contract "
                "(postalgateway.v1.TrackingService, CustodyService.GetReceipt): lowerCamelCase "
                "names (snake_case accepted on input), enums by name, 64-bit integers as strings, "
                "RFC 3339 timestamps, fields at their default value left out. Failed attempts "
                "share the gRPC service's throttle."),
        },
        "paths": {
            "/v1/track": {"post": operation(
                "Track a dossier",
                "The same answer as TrackingService.TrackShipment. 404 for an unknown number "
                "or a wrong code alike.", "TrackShipmentRequest", "TrackShipmentResponse")},
            "/v1/receipt": {"post": operation(
                "The offline-verifiable receipt",
                "The dossier's custody-log entries with inclusion proofs against a signed "
                "checkpoint (as CustodyService.GetReceipt).", "GetReceiptRequest", "Receipt")},
            "/v1/rate": {"post": operation(
                "Rate the service",
                "Once the dossier is delivered or its papers returned, once (as "
                "TrackingService.RateService). 409 before delivery or for a second rating.",
                "RateServiceRequest", "RateServiceResponse")},
            "/v1/notification-channel": {"post": operation(
                "Choose how to be told",
                "Consent to notifications by SMS or Zalo, or none; every choice is kept. 409 "
                "once the personal data was erased.", "CitizenNotificationRequest",
                "NotificationConsent")},
        },
        "components": {
            "schemas": dict(sorted(components.items())),
            "responses": {
                "Problem": {"description": "The request was refused or failed.",
                            "content": problem},
                "Throttled": {"description": "Too many failed attempts for this number.",
                              "headers": {"Retry-After": {"schema": {"type": "integer"},
                                                          "description": "Seconds."}},
                              "content": problem},
            },
        },
    }


def rendered():
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"


def main():
    text = rendered()
    if "--check" in sys.argv:
        with open(TARGET, encoding="utf-8") as f:
            if f.read() != text:
                raise SystemExit(f"{TARGET} is not what proto/ gives: run scripts/generate_openapi.py")
        print("openapi.json matches proto/")
        return
    with open(TARGET, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
