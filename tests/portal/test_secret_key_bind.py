"""The default (or a short) secret key on a public bind address is refused (issue 13 item 4): before,
only the public URL was checked, so `host = 0.0.0.0` with `base_url = http://localhost:8000` and the
default key served the network with forgeable sessions. Now the portal starts with a guessable key
only when BOTH the bind address and the public URL are loopback, on every way it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import Settings
from portal.app import DEFAULT_SECRET, check_secret_key, is_loopback
from services.errors import DomainError
from tests.portal.conftest import SECRET, free_port

LOCAL_URL = "http://127.0.0.1:8000"

octet = st.integers(min_value=0, max_value=255)
loopback_hosts = st.one_of(
    st.builds(lambda a, b, c: f"127.{a}.{b}.{c}", octet, octet, octet),
    st.sampled_from(
        ["localhost", "LOCALHOST", "localhost.", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]
    ),
)
public_hosts = st.one_of(
    st.sampled_from(["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0", "", "*"]),
    st.builds(lambda b, c: f"192.168.{b}.{c}", octet, octet),
    st.builds(lambda a, b, c: f"10.{a}.{b}.{c}", octet, octet, octet),
    st.builds(lambda a, b, c: f"172.{a}.{b}.{c}", st.integers(16, 31), octet, octet),
    st.builds(lambda a, b, c: f"{a}.{b}.{c}.1", st.integers(1, 126), octet, octet),
    st.sampled_from(["fe80::1", "fd00::1", "2001:db8::1", "::ffff:192.168.1.2"]),
    st.sampled_from(["rueda.example.org", "localhost.example.org", "mylaptop", "127.0.0.1.nip.io"]),
)


def _settings(host: str, secret: str, base_url: str | None = LOCAL_URL) -> Settings:
    return Settings(portal={"host": host, "port": 8000, "base_url": base_url, "secret_key": secret})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host=loopback_hosts, secret=st.sampled_from([DEFAULT_SECRET, "short", "x" * 31]))
def test_guessable_key_is_allowed_on_a_loopback_bind(host: str, secret: str) -> None:
    assert is_loopback(host)
    check_secret_key(_settings(host, secret))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host=public_hosts, secret=st.sampled_from([DEFAULT_SECRET, "short", "x" * 31]))
def test_guessable_key_is_refused_on_a_public_bind_even_with_a_local_url(host: str, secret: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(DomainError, match=r"^portal\.secret_key must be a random value of at least 32"):
        check_secret_key(_settings(host, secret))


@settings(max_examples=100, deadline=None)
@given(host=st.one_of(loopback_hosts, public_hosts))
def test_guessable_key_is_refused_behind_a_public_url_whatever_the_bind(host: str) -> None:
    with pytest.raises(DomainError):
        check_secret_key(_settings(host, DEFAULT_SECRET, base_url="https://rueda.example.org"))
    check_secret_key(_settings(host, SECRET, base_url="https://rueda.example.org"))  # a real key: fine


def _environment(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUEDA_")}
    env.update(
        RUEDA_DATA_DIR=str(tmp_path / "data"),
        RUEDA_CONFIG=str(tmp_path / "absent.toml"),
        RUEDA_PORTAL__PORT=str(port),
        RUEDA_PORTAL__BASE_URL=f"http://localhost:{port}",
        COLUMNS="200",
        **extra,
    )
    return env


@pytest.mark.parametrize("entry", ["rueda portal", "python -m portal"])
@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_the_portal_does_not_start_on_a_public_bind_with_the_default_key(
    tmp_path: Path, entry: str, host: str
) -> None:
    port = free_port()
    if entry == "rueda portal":
        command = [str(Path(sys.executable).parent / "rueda"), "portal", "--host", host, "--port", str(port)]
        env = _environment(tmp_path, port)
    else:
        command = [sys.executable, "-m", "portal"]
        env = _environment(tmp_path, port, RUEDA_PORTAL__HOST=host)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: portal.secret_key must be a random value of at least 32 characters")
    assert f"listens on {host} " in lines[0]
