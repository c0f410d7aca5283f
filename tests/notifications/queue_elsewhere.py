"""The portal's side of the wake-up tests and benchmark, in a process of its own: queue COUNT sign-in
links (`login.requested`, due now) for PARTICIPANT of EVENT in DATABASE_URL, one transaction each,
as the portal does, and print each commit's wall-clock time (ISO 8601) on its own line."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from notifications import outbox
from notifications.samples import sample_contexts
from services.db import make_engine, transaction


def main(url: str, event_id: int, participant_id: int, count: int, tag: str, gap: float) -> None:
    engine = make_engine(url)
    try:
        for index in range(count):
            now = datetime.now(UTC)
            with transaction(engine) as session:
                queued = outbox.queue_message(
                    session,
                    kind="login.requested",
                    context=sample_contexts()["login.requested"],
                    recipient_email=f"signin-{tag}-{index}@example.org",
                    language="es",
                    idempotency_key=outbox.build_key("login.requested", participant_id, f"{tag}-{index}"),
                    due_at=now,
                    now=now,
                    event_id=event_id,
                    participant_id=participant_id,
                )
                assert queued
            sys.stdout.write(f"{datetime.now(UTC).isoformat()}\n")  # after the commit
            sys.stdout.flush()
            if gap:
                time.sleep(gap)  # requests arrive one by one, not in a burst
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6]))
