"""One real Prefect server and one `serve` process for all flow tests (about 30 s to start)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from cli.stack import Stack
from config import DatabaseSettings, PrefectSettings, Settings, SmtpSettings
from services.db import upgrade_database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Package scope: the server stops, and the environment is restored, when tests/flows is done, so
# that later tests (the portal's) cannot emit events to it.
@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("stack")
    settings = Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=f"sqlite:///{data_dir / 'rueda.db'}"),
        prefect=PrefectSettings(server_port=_free_port()),
        smtp=SmtpSettings(port=_free_port()),
    )
    upgrade_database(settings.database_url)
    saved = dict(os.environ)
    stack = Stack(settings)
    try:
        stack.start_prefect(timeout=180)
        stack.start_mail_sink()
        os.environ.update(
            {k: v for k, v in stack.environment().items() if k.startswith(("PREFECT_", "RUEDA_"))}
        )
        os.environ["RUEDA_DATABASE__URL"] = settings.database_url
        stack.start_serve()
        # Prefect reads its settings once, at import: when an earlier test imported it, the
        # environment above came too late, and a client in this process would start an ephemeral
        # server of its own (which logged to closed files at exit). Point this process's Prefect
        # settings at the stack, with ephemeral mode off so that a missed URL fails loudly.
        from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, temporary_settings

        with temporary_settings(
            updates={PREFECT_API_URL: stack.api_url, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}
        ):
            yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)


def wait(check: Callable[[], bool], stack: Stack, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        stack.check()
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}; logs in {stack.log_dir}")


def deployments_ready(stack: Stack) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.deployments import DEPLOYMENT_NAME, FLOWS

    async def ready() -> bool:
        async with get_client() as client:
            try:
                for flow in FLOWS:
                    await client.read_deployment_by_name(f"{flow.name}/{DEPLOYMENT_NAME}")
            except ObjectNotFound:
                return False
            return True

    wait(lambda: asyncio.run(ready()), stack, 180, "the deployments to register")
