"""Demo webhook receiver for `docker compose --profile demo up`: logs each delivery it gets.

Standard library only, so it runs on the plain python image. It answers 200 to every POST and
prints one JSON line per delivery (idempotency key, signature check, title). When
DEMO_WEBHOOK_SECRET is set, the X-Siaran-Signature header is verified against it.
"""

import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("DEMO_WEBHOOK_SECRET", "").encode()


class Receiver(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._reply(200, {"status": "ok"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        signature = self.headers.get("X-Siaran-Signature", "")
        verified = None
        if SECRET:
            expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            verified = hmac.compare_digest(expected, signature)
        try:
            data = json.loads(body).get("data", {})
        except (ValueError, AttributeError):
            data = {}
        line = {
            "path": self.path,
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "signature_ok": verified,
            "channel_id": data.get("channel_id"),
            "title": data.get("title"),
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        self._reply(401 if verified is False else 200, {"received": True})

    def _reply(self, status: int, payload: dict[str, object]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default access log; one JSON line per delivery is enough."""


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "9000"))), Receiver).serve_forever()  # noqa: S104 - container
