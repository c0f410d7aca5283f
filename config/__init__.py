"""Settings: one pydantic-settings root with a nested section per concern.

Sources, highest priority first: explicit arguments, environment (`RUEDA_...`, nested with `__`,
e.g. `RUEDA_SMTP__PORT=2525`), a `.env` file, an optional `rueda.toml` (path from `RUEDA_CONFIG`,
default `./rueda.toml`), then defaults. Secrets are `SecretStr` and never printed.
"""

from config.settings import (
    DatabaseSettings,
    DefaultsSettings,
    ImportSettings,
    PortalSettings,
    PrefectSettings,
    SchedulerSettings,
    Settings,
    SmtpSettings,
    get_settings,
)

__all__ = [
    "DatabaseSettings",
    "DefaultsSettings",
    "ImportSettings",
    "PortalSettings",
    "PrefectSettings",
    "SchedulerSettings",
    "Settings",
    "SmtpSettings",
    "get_settings",
]
