"""`python -m portal`: serve the portal with uvicorn on settings.portal.host:port."""

from __future__ import annotations

import sys

import uvicorn

from config import get_settings
from portal.app import create_app
from services.errors import DomainError


def main() -> None:
    settings = get_settings()
    try:
        app = create_app(settings)
    except DomainError as error:  # a refused secret key or a missing database: one line, no traceback
        sys.stderr.write(f"error: {error}\n")
        raise SystemExit(2) from None
    # proxy_headers: behind a reverse proxy listed in FORWARDED_ALLOW_IPS, the client address (and so
    # the rate limits) is the real client's, not the proxy's.
    uvicorn.run(
        app,
        host=settings.portal.host,
        port=settings.portal.port,
        proxy_headers=True,
        access_log=False,
    )


if __name__ == "__main__":
    main()
