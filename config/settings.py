"""The settings root and its sections. See `config/__init__.py` for the sources and their order."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the application database. Default: SQLite in the data directory.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(default=5, ge=1, le=100, description="Connections kept open (PostgreSQL).")


class SmtpSettings(BaseModel):
    host: str | None = Field(
        default=None, description="SMTP server. When unset, `rueda up` runs the local mail sink."
    )
    port: int = Field(default=8025, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="Transport security: none (loopback only), starttls or implicit tls."
    )
    from_address: str = Field(default="Rueda <no-reply@rueda.localhost>")
    rate_per_second: float = Field(
        default=50.0, gt=0, description="Messages per second at most; set it to your provider's limit."
    )
    batch_size: int = Field(default=200, ge=1, le=10_000, description="Messages sent per connection.")
    timeout_seconds: float = Field(default=30.0, gt=0)


class PrefectSettings(BaseModel):
    api_url: str | None = Field(
        default=None, description="Prefect API. When unset, `rueda up` starts a server in the data directory."
    )
    server_host: str = "127.0.0.1"
    server_port: int = Field(default=4200, ge=1, le=65535)
    work_pool: str = Field(default="rueda-process", description="Process work pool for workers.")


class PortalSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str | None = Field(default=None, description="Public URL used in emails and links.")
    calendar_domain: str | None = Field(
        default=None,
        description="Domain of the calendar UIDs (meeting-<id>@<domain>) in emails, downloads and the "
        "subscription feed. Default: the host of the public URL. Set it once and keep it: changing it "
        "makes calendars show every meeting again.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr("dev-insecure-change-me"),
        description="Signs sessions and magic links. Set a long random value in production.",
    )
    login_link_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="How long an emailed login link stays valid."
    )
    session_days: int = Field(default=14, ge=1, le=365, description="How long a portal login lasts.")
    rate_limit_window_seconds: int = Field(
        default=900, ge=1, le=86_400, description="Length of the window the rate limits below count in."
    )
    login_attempts_per_window: int = Field(
        default=10,
        ge=1,
        description="Login-link requests and sign-ins per client address, and requests per email.",
    )
    registrations_per_window: int = Field(
        default=20, ge=1, description="Registrations per client address (behind a proxy: per proxy)."
    )
    threads: int = Field(
        default=8,
        ge=1,
        le=200,
        description="Requests each portal process works on at once (its database pool keeps as many "
        "connections open); the rest wait their turn. Portal processes x threads, plus the workers' "
        "connections, must stay under PostgreSQL's max_connections.",
    )
    queue_limit: int = Field(
        default=32,
        ge=0,
        le=100_000,
        description="Requests each portal process lets wait for one of its threads; past "
        "threads + queue_limit it answers 503 with Retry-After at once (load shedding), so that the "
        "requests it admits stay fast. 0: no waiting beyond the threads.",
    )
    retry_after_seconds: int = Field(
        default=5, ge=1, le=3600, description="The Retry-After of a shed request (503)."
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=1_073_741_824,
        description="Largest request body the portal reads (forms and the API), in bytes; a larger "
        "one answers 413 before any page reads it, whether it declares its Content-Length or is sent "
        "chunked. 1 MiB is far above any form or API body the portal takes.",
    )
    catalog_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="How long each portal process reuses an event's participant list for the catalog "
        "(0: read it on every page). Another participant's change shows up to this late.",
    )

    @field_validator("calendar_domain")
    @classmethod
    def _plain_domain(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip().lower()
        if not _DOMAIN.fullmatch(value):
            raise ValueError("must be a domain name like events.example.org (letters, digits, '-' and '.')")
        return value

    @property
    def public_url(self) -> str:
        """Where participants reach the portal: `base_url`, else the local bind address (no slash at the end)."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def uid_domain(self) -> str:
        """The domain of every calendar UID (`meeting-<id>@<domain>`), in the email attachments, the
        portal download and the subscription feed alike: `calendar_domain`, else the host of
        `public_url`. The one place it is decided: calendars key entries by UID, so two domains for
        one meeting show it twice."""
        if self.calendar_domain:
            return self.calendar_domain
        return urlsplit(self.public_url).hostname or "rueda.localhost"


class SchedulerSettings(BaseModel):
    time_limit_seconds: float = Field(default=10.0, gt=0, le=3600)
    seed: int = Field(default=0, ge=0)


class DefaultsSettings(BaseModel):
    language: Literal["es", "en", "pt"] = "es"
    timezone: str = "America/Bogota"
    currency: str = Field(default="USD", min_length=3, max_length=3)
    min_meetings: int = Field(default=2, ge=0)
    max_meetings: int = Field(default=16, ge=1)
    first_meeting_reminder_minutes: int = Field(default=30, ge=1, le=24 * 60)


class ImportSettings(BaseModel):
    max_rows: int = Field(
        default=100_000,
        ge=1,
        le=10_000_000,
        description="Data rows a participant spreadsheet may hold (the row cap); a longer file is "
        "refused before anything is written.",
    )


class Settings(BaseSettings):
    """The whole configuration. Build it with `get_settings()` at entry points only."""

    model_config = SettingsConfigDict(
        env_prefix="RUEDA_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        toml_file="rueda.toml",
    )

    data_dir: Path = Field(default=Path(".rueda"), description="Where databases, mail and exports live.")
    database: DatabaseSettings = DatabaseSettings()
    smtp: SmtpSettings = SmtpSettings()
    prefect: PrefectSettings = PrefectSettings()
    portal: PortalSettings = PortalSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    defaults: DefaultsSettings = DefaultsSettings()
    imports: ImportSettings = ImportSettings()

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def database_url(self) -> str:
        """The effective database URL: the configured one, or SQLite in the data directory."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / 'rueda.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("RUEDA_CONFIG", "rueda.toml"))
        toml_source = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return (init_settings, env_settings, dotenv_settings, toml_source, file_secret_settings)

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets replaced by `**********`."""
        data = self.model_dump(mode="json")
        data["database"]["url"] = mask_url(self.database_url)
        return data


def mask_url(url: str) -> str:
    """Hide a password embedded in a database URL (`postgresql://user:secret@host/db`)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':**********' if has_password else ''}@{host}"


def get_settings(**overrides: Any) -> Settings:
    """Read the settings from every source. Only entry points call this."""
    return Settings(**overrides)
