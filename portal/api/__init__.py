"""The JSON API for integrations (OpenAPI), authenticated by organizer tokens."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["api"])
