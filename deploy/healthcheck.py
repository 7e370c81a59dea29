"""Container health probe: exit 0 when GET /healthz answers 200, else 1 (Docker's "unhealthy").

Standard library only, so the image needs no curl. Usage: python healthcheck.py [URL]
(default http://127.0.0.1:8080/healthz). The daemon answers 503 while its scheduler or database is
down; urllib raises HTTPError for that, which counts as unhealthy like a refused connection does.
"""

from __future__ import annotations

import sys
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8080/healthz"
TIMEOUT_S = 4.0  # below the HEALTHCHECK --timeout, so the probe reports instead of being killed


def probe(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            status = int(response.status)
    except OSError as error:  # URLError, HTTPError (4xx/5xx), timeouts, refused connections
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    print(f"healthz: HTTP {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(probe(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL))
