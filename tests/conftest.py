"""Shared fixtures. Integration fixtures start real servers once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_NOTICES = PROJECT_ROOT / "data" / "notices"
NEW_NOTICES = PROJECT_ROOT / "data" / "new-notices"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT

# --- segment fixtures ---

# --- studio fixtures ---

# --- export fixtures ---

# --- train fixtures ---
