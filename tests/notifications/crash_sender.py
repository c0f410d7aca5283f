"""The sender that test_crash kills: dispatch every due message from DATABASE_URL to the sink on
PORT, as `rueda mail send` would. `recover` lets it take back a dead sender's rows at once."""

from __future__ import annotations

import sys
from datetime import timedelta

from config.settings import SmtpSettings
from notifications.dispatcher import dispatch_due
from services.db import make_engine


def main(url: str, port: int, mode: str) -> None:
    engine = make_engine(url)
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=port, rate_per_second=100_000, batch_size=200)
        dispatch_due(
            engine,
            smtp,
            calendar_domain="rueda.localhost",
            recover_after=timedelta(0) if mode == "recover" else None,
        )
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
