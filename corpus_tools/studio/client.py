"""The checked SDK client and the translation of SDK / HTTP failures into `corpus_tools.errors`.

Every call to Label Studio goes through `translated`, so a server down or a
refused key is one clear line (never with the key), not a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from corpus_tools.errors import StudioAuthError, StudioError, StudioUnavailableError
from corpus_tools.studio.connection import START_HINT, StudioConnection, resolve_connection


def _detail(error: ApiError) -> str:
    body = error.body
    if isinstance(body, Mapping):
        for key in ("detail", "validation_errors", "error", "message"):
            if key in body:
                return str(body[key])[:300]
    return str(body)[:200] if isinstance(body, str) and "<html" not in body.lower() else ""


@contextlib.contextmanager
def translated(url: str, doing: str) -> Iterator[None]:
    """Turn SDK/HTTP failures into the toolkit's one-line errors (never with the key)."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise StudioUnavailableError(
            f"Label Studio is not reachable at {url} ({error.__class__.__name__}): {START_HINT}"
        ) from None
    except httpx.TimeoutException:
        raise StudioUnavailableError(
            f"Label Studio at {url} timed out while {doing}; try again"
        ) from None
    except httpx.HTTPError as error:
        raise StudioUnavailableError(
            f"HTTP error talking to {url} while {doing} ({error.__class__.__name__}): {START_HINT}"
        ) from None
    except ApiError as error:
        status = error.status_code
        if status in (401, 403):
            raise StudioAuthError(
                f"Label Studio at {url} refused the API key (HTTP {status}{': ' + _detail(error) if _detail(error) else ''}); "
                "set LABEL_STUDIO_API_KEY / --api-key to a valid personal access token, "
                "or unset them to use the embedded server"
            ) from None
        if (
            status == 404
            or status is None
            or (status >= 500 and not isinstance(error.body, Mapping))
        ):
            raise StudioUnavailableError(
                f"{url} did not answer like Label Studio while {doing} (HTTP {status}): "
                f"check the URL; {START_HINT}"
            ) from None
        raise StudioError(
            f"Label Studio at {url} failed while {doing} (HTTP {status}): {_detail(error)}"
        ) from None
    except ValueError as error:
        # A non-JSON answer (another web server on that URL) surfaces as a decode error.
        if error.__class__.__name__ in ("JSONDecodeError", "ValidationError"):
            raise StudioUnavailableError(
                f"{url} did not answer like Label Studio while {doing}: check the URL; {START_HINT}"
            ) from None
        raise


def checked_client(connection: StudioConnection, *, timeout: float = 120.0) -> LabelStudio:
    """A `LabelStudio` client that has answered one authenticated call."""
    with translated(connection.url, "checking the connection"):
        client = LabelStudio(base_url=connection.url, api_key=connection.api_key, timeout=timeout)
        client.users.whoami()
    return client


def connect(
    *, url: str | None, api_key: str | None, home: Path | None = None
) -> tuple[LabelStudio, StudioConnection]:
    connection = resolve_connection(url=url, api_key=api_key, home=home)
    return checked_client(connection), connection


def raw_json(
    client: LabelStudio, url: str, path: str, *, params: Mapping[str, Any], doing: str
) -> Any:
    """GET through the SDK's own HTTP client (auth included) and parse the JSON.

    Used where the SDK's typed pager is the bottleneck: building 10k pydantic
    task models costs more than the request itself.
    """
    with translated(url, doing):
        response = client._client_wrapper.httpx_client.request(
            path, method="GET", params=dict(params)
        )
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise ApiError(status_code=response.status_code, body=body)
        return response.json()
