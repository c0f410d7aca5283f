"""Starting and stopping the local stack of `rueda up` and `rueda demo`: the Prefect server (SQLite in
the data directory) and the `serve` process that runs the deployments.

Processes, not threads: each piece is what an operator would run by hand, the logs go to files in
`<data_dir>/logs/`, and Ctrl-C (or the end of `rueda demo --exit`) terminates them in reverse order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from config import Settings
from services.errors import DomainError


def prefect_environment(settings: Settings, api_url: str) -> dict[str, str]:
    """Environment for every process that talks to (or is) the local Prefect server."""
    home = settings.data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        # No telemetry, no update checks: the machine may have no internet at all.
        "DO_NOT_TRACK": "1",
    }


def is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop_on_sigterm() -> None:
    """Make SIGTERM (systemd, `kill`, `timeout`) unwind like Ctrl-C, so that `finally` stops the
    children: they run in their own sessions and would otherwise outlive us."""

    signal.signal(signal.SIGTERM, _unwind)


def _unwind(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _default_signals() -> None:
    """In a child, before exec: SIGINT and SIGTERM do their default. A shell starts background jobs
    with SIGINT ignored, and an ignored signal stays ignored across exec, so without this `stop`
    could not interrupt the children of a `rueda up &` and would wait for its timeout."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclass
class Stack:
    settings: Settings
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    api_url: str = ""
    started_server: bool = False
    # Settings the children need beyond the caller's environment (the mail sink's address).
    extra_env: dict[str, str] = field(default_factory=dict)
    mail_dir: Path | None = None
    portal_url: str | None = None

    @property
    def log_dir(self) -> Path:
        path = self.settings.data_dir / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(prefect_environment(self.settings, self.api_url))
        env["RUEDA_DATA_DIR"] = str(self.settings.data_dir)
        env.update(self.extra_env)
        return env

    def start_prefect(self, *, timeout: float = 120.0) -> str:
        """Use PREFECT_API_URL (or prefect.api_url) when set; otherwise start a server here."""
        configured = os.environ.get("PREFECT_API_URL") or self.settings.prefect.api_url
        if configured:
            self.api_url = configured.rstrip("/")
            if not is_healthy(self.api_url):
                raise DomainError(f"the Prefect API at {self.api_url} does not answer")
            return self.api_url
        host, port = self.settings.prefect.server_host, self.settings.prefect.server_port
        self.api_url = f"http://{host}:{port}/api"
        if is_healthy(self.api_url):
            return self.api_url  # our server from an earlier `rueda up`: reuse it
        prefect = str(Path(sys.executable).parent / "prefect")
        self._spawn("prefect-server", [prefect, "server", "start", "--host", host, "--port", str(port)])
        self.started_server = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if is_healthy(self.api_url):
                return self.api_url
            name, process = self.processes[-1]
            if process.poll() is not None:
                raise DomainError(
                    f"the Prefect server exited with {process.returncode}; see {self.log_dir / (name + '.log')}"
                )
            time.sleep(0.5)
        raise DomainError(
            f"the Prefect server did not answer within {timeout:.0f} s; see {self.log_dir}/prefect-server.log"
        )

    def start_mail_sink(self, *, timeout: float = 30.0) -> str | None:
        """Run the local mail sink unless an SMTP server is configured; returns its address."""
        if self.settings.smtp.host:
            return None
        port = self.settings.smtp.port
        self.mail_dir = self.settings.data_dir / "mail"
        rueda = str(Path(sys.executable).parent / "rueda")
        self._spawn("mail-sink", [rueda, "mail-sink", "--port", str(port), "--dir", str(self.mail_dir)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                self.check()
                time.sleep(0.2)
        else:
            raise DomainError(
                f"the mail sink did not listen on 127.0.0.1:{port}; see {self.log_dir / 'mail-sink.log'}"
            )
        self.extra_env.update(
            RUEDA_SMTP__HOST="127.0.0.1", RUEDA_SMTP__PORT=str(port), RUEDA_SMTP__SECURITY="none"
        )
        return f"127.0.0.1:{port}"

    def start_portal(self, *, timeout: float = 60.0) -> str:
        """Serve the portal (`rueda portal`) on portal.host:port; returns its public URL. It sends
        mail through the outbox, so start the mail sink first when there is no SMTP server."""
        host, port = self.settings.portal.host, self.settings.portal.port
        rueda = str(Path(sys.executable).parent / "rueda")
        self._spawn("portal", [rueda, "portal", "--host", host, "--port", str(port)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=1):
                    self.portal_url = self.settings.portal.public_url
                    return self.portal_url
            except OSError:
                self.check()
                time.sleep(0.2)
        raise DomainError(f"the portal did not listen on {host}:{port}; see {self.log_dir / 'portal.log'}")

    def start_clock(self) -> None:
        """The reminder clock: sends each outbox row when it falls due (after the mail sink)."""
        rueda = str(Path(sys.executable).parent / "rueda")
        self._spawn("reminder-clock", [rueda, "reminder-clock"])

    def start_serve(self) -> None:
        """Register and serve every deployment (with triggers) in a child process."""
        self._spawn("serve", [sys.executable, "-m", "flows.serve"])

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.environment(),
            start_new_session=True,
            preexec_fn=_default_signals,
        )
        log.close()
        self.processes.append((name, process))
        return process

    def check(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                raise DomainError(
                    f"{name} stopped with exit code {process.returncode}; see {self.log_dir / (name + '.log')}"
                )

    def stop(self, *, timeout: float = 20.0) -> None:
        # SIGINT, as Ctrl-C would: Prefect's runner exits cleanly on it, while its SIGTERM handler
        # calls sys.exit inside the event loop and logs a spurious asyncio error on the way out.
        # A second SIGTERM (systemd signals the whole group) must not cut this cleanup short.
        if signal.getsignal(signal.SIGTERM) is _unwind:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # One at a time, last started first: the Prefect server outlives the processes that talk
        # to it, so none of them logs a lost connection on the way out.
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                # The whole process group: serve's flow-run children must stop with it.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
