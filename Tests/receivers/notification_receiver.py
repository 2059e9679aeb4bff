"""A real HTTP receiver of the gateway's notifications, for the tests: an SMS provider, a Zalo ZNS
endpoint or a system subscribed to webhooks.

It listens (HTTPS when given a certificate) on a port, prints `listening on PORT` once ready,
and writes one JSON line per request it gets to --log: the message id, the headers that matter,
the parsed body, the status it answered, whether the Standard Webhooks signature verified, and
whether the message was new (a receiver drops a repeated message id, as the spec asks).

  --mode sms        answers 503 to the first --fail-first requests, then 202
  --mode zalo       answers {"error": 0} (or {"error": -124} for the first --fail-first)
  --mode webhook    verifies each request with the `standardwebhooks` library and --secret;
                    a bad signature is answered 400 and not delivered

Usage: notification_receiver.py --mode sms --log FILE [--port N] [--fail-first N]
       [--secret whsec_...] [--cert PEM --key PEM]
"""

import argparse
import http.server
import json
import ssl
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["sms", "zalo", "webhook"], required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--secret")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    verifier = None
    if args.mode == "webhook":
        from standardwebhooks.webhooks import Webhook
        verifier = Webhook(args.secret)

    lock = threading.Lock()
    state = {"requests": 0, "delivered": set()}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            verified = None
            if args.mode == "webhook":
                message_id = self.headers.get("webhook-id")
                try:
                    verifier.verify(raw, {k: v for k, v in self.headers.items()})
                    verified = True
                except Exception as error:  # the library raises WebhookVerificationError
                    verified = False
                    sys.stderr.write(f"signature refused: {error}\n")
            elif args.mode == "sms":
                message_id = self.headers.get("Idempotency-Key")
            else:
                message_id = (body or {}).get("tracking_id")
            with lock:
                state["requests"] += 1
                failing = state["requests"] <= args.fail_first
                new = False
                if not failing and verified is not False:
                    new = message_id not in state["delivered"]
                    state["delivered"].add(message_id)
            if verified is False:
                status, answer = 400, {"error": "bad signature"}
            elif args.mode == "zalo":
                status, answer = 200, ({"error": -124, "message": "busy"} if failing else
                                       {"error": 0, "message": "Success", "data": {"msg_id": message_id}})
            elif failing:
                status, answer = 503, {"error": "try later"}
            else:
                status, answer = (202 if args.mode == "sms" else 200), {"accepted": message_id}
            record = {
                "id": message_id, "path": self.path, "status": status, "verified": verified,
                "new": new, "body": body,
                "headers": {k.lower(): v for k, v in self.headers.items()
                            if k.lower() in ("webhook-id", "webhook-timestamp", "webhook-signature",
                                             "idempotency-key", "authorization", "access_token",
                                             "content-type")},
            }
            with lock, open(args.log, "a") as log:
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
