"""Container healthcheck: GET /healthz on the service's own port; exit 0 when it answers 2xx.

Kept in the standard library so the runtime image needs no curl or wget.
"""

import os
import sys
import urllib.request

port = os.environ.get("SIARAN_PORT", "8000")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
        sys.exit(0 if 200 <= response.status < 300 else 1)
except OSError:
    sys.exit(1)
