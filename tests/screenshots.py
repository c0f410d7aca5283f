"""Where browser tests put their screenshots: docs/images/ (the README's pictures) when
RUEDA_UPDATE_SNAPSHOTS=1, otherwise a scratch folder, so that a test run leaves the tree clean."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def screenshot_dir() -> Path:
    if os.environ.get("RUEDA_UPDATE_SNAPSHOTS") == "1":
        return DOCS_IMAGES
    return Path(tempfile.gettempdir()) / f"rueda-screenshots-{os.getpid()}"
