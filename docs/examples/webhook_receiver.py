# A receiver for Beacon's signed `generic` webhooks (Python 3.8+, standard library only):
#   BEACON_WEBHOOK_SECRET=... PORT=9000 python3 webhook_receiver.py
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["BEACON_WEBHOOK_SECRET"].encode()
PORT = int(os.environ.get("PORT", "9000"))


def verify(header, raw_body, tolerance_seconds=300):
    """X-Beacon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>."""
    parts = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(time.time() - t) > tolerance_seconds:
        return False
    expected = hmac.new(SECRET, f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        raw_body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not verify(self.headers.get("X-Beacon-Signature"), raw_body):
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads(raw_body)
        print("verified", event["type"], self.headers.get("X-Beacon-Delivery"), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("", PORT), Receiver).serve_forever()
