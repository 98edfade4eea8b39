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
# Imported here, not at the top: each stage owns only its anchored section.
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402


@dataclass(frozen=True)
class StudioServer:
    """A running Label Studio for tests: `.url` and `.api_key` (a personal access token)."""

    url: str
    api_key: str = field(repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    home: Path = Path()


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """A real Label Studio on a free loopback port, SQLite in a temp dir, for the session.

    Started through `corpus_tools.studio.start_server` (the first start migrates
    the database, about 40 s); stopped at the end of the session. Nothing global
    (environment, user data dir) is touched: pass `url=`/`api_key=` explicitly.
    """
    import socket

    from corpus_tools import studio

    home = tmp_path_factory.mktemp("label-studio")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    info = studio.start_server(home=home, port=port, timeout=300)
    connection = studio.embedded_connection(home=home)
    try:
        yield StudioServer(
            url=connection.url,
            api_key=connection.api_key,
            username=info.username,
            password=info.password,
            home=home,
        )
    finally:
        studio.stop_server(home=home)


# --- export fixtures ---

# --- train fixtures ---
