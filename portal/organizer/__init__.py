"""Organizer and staff pages: accounts, event setup, dashboard, check-in desk, lifecycle buttons."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/organizer", tags=["organizer"])
