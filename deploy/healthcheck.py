#!/usr/bin/env python3
"""Container health check of Haze Response (the slim image has no curl).

Installed in the image as ``haze-healthcheck``. ``haze-healthcheck [URL]`` exits 0 when URL
answers 2xx within the timeout, 1 otherwise. Without URL it asks the API's liveness endpoint,
``http://127.0.0.1:$HAZE_PORT/healthz``. Compose passes ``/readyz`` for the API and the
consumers' ``/readyz`` (``HAZE_METRICS_PORT``). Standard library only; proxies are ignored.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    port = os.environ.get("HAZE_PORT", "8000")
    url = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{port}/healthz"
    timeout = float(os.environ.get("HAZE_HEALTHCHECK_TIMEOUT_S", "4"))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:  # 503 from /readyz: not ready yet
        print(f"unhealthy: {url} answered {exc.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
