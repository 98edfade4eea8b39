"""Where Label Studio is and which API key to use.

Options > `LABEL_STUDIO_URL` / `LABEL_STUDIO_API_KEY` > the embedded server's
config file (`studio_home()/config.json`, mode 600, written by `server.start_server`).
The API key may be a personal access token (a JWT refresh token; the SDK swaps
it for short-lived access tokens) or a legacy token.

Tokens never appear in messages, reprs or logs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus_tools.errors import StudioAuthError, StudioError, StudioUnavailableError

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
START_HINT = "run `corpus-tools studio start` or set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY"


@dataclass(frozen=True, slots=True)
class StudioConnection:
    """Where Label Studio is and the key to use; `api_key` is kept out of repr."""

    url: str
    api_key: str = field(repr=False)
    source: str = "options"


def studio_home(*, home: Path | None = None) -> Path:
    """The per-user directory of the embedded server (honours XDG_DATA_HOME)."""
    if home is not None:
        return Path(home)
    from platformdirs import user_data_dir

    return Path(user_data_dir("corpus-tools", appauthor=False)) / "label-studio"


def config_file(home: Path) -> Path:
    return home / "config.json"


def read_config(home: Path) -> dict[str, Any]:
    path = config_file(home)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StudioError(
            f"{path}: unreadable server config ({error.__class__.__name__}); delete it and run `corpus-tools studio start`"
        ) from None


def write_config(home: Path, config: Mapping[str, Any]) -> Path:
    path = config_file(home)
    home.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # Created 600 from the start: the file holds the admin password and token.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(config), out, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def resolve_connection(
    *, url: str | None = None, api_key: str | None = None, home: Path | None = None
) -> StudioConnection:
    """Options > LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY > the embedded server's config."""
    url_source = "options" if url else None
    if not url and os.environ.get(ENV_URL):
        url, url_source = os.environ[ENV_URL], "environment"
    key_source = "options" if api_key else None
    if not api_key and os.environ.get(ENV_API_KEY):
        api_key, key_source = os.environ[ENV_API_KEY], "environment"
    config = read_config(studio_home(home=home))
    embedded_url = config.get("url")
    if not url:
        if not embedded_url:
            raise StudioUnavailableError(f"no Label Studio server is configured: {START_HINT}")
        url, url_source = embedded_url, "embedded server"
    url = url.rstrip("/")
    if not api_key:
        # Never send the embedded server's token to some other server.
        if embedded_url and url == embedded_url.rstrip("/") and config.get("api_key"):
            api_key, key_source = config["api_key"], "embedded server"
        else:
            raise StudioAuthError(
                f"no API key for {url}: set LABEL_STUDIO_API_KEY or pass --api-key "
                "(a personal access token from Account & Settings)"
            )
    source = url_source if url_source == key_source else f"{url_source} + {key_source}"
    return StudioConnection(url=url, api_key=api_key, source=source)


def embedded_connection(*, home: Path | None = None) -> StudioConnection:
    """The embedded server's URL and token from its config file (environment ignored)."""
    home = studio_home(home=home)
    config = read_config(home)
    if not config.get("url") or not config.get("api_key"):
        raise StudioUnavailableError(
            f"no embedded Label Studio has been started in {home}: {START_HINT}"
        )
    return StudioConnection(url=config["url"], api_key=config["api_key"], source="embedded server")
