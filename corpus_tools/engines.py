"""Where pre-labeling runs. Its own module so the CLI can offer the choice
without importing spaCy at start-up."""

from __future__ import annotations

from enum import StrEnum


class Engine(StrEnum):
    """local: this machine's processes (`prelabel`); ray: Ray Data (`prelabel_ray`)."""

    LOCAL = "local"
    RAY = "ray"
