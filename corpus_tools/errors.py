"""The toolkit's exceptions. Each message names the thing, what was expected
and how to fix it; the CLI prints it as one line and exits non-zero."""

from __future__ import annotations


class CorpusToolsError(Exception):
    """Base of every error the CLI turns into one clear line."""


class InputFileError(CorpusToolsError):
    """A file that cannot be read as a notice (missing, empty, binary, corrupt)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class OutputPathError(CorpusToolsError):
    """An output path that cannot be written (a file where a folder is needed,
    no permission, an unknown suffix)."""


class StudioError(CorpusToolsError):
    """Label Studio is unreachable, refuses the token, or the project is unclear."""


class StudioUnavailableError(StudioError):
    pass


class StudioAuthError(StudioError):
    pass


class TokenExistsError(StudioAuthError):
    """The admin user has a personal access token already (Label Studio mints one a user)."""


class ProjectLookupError(StudioError):
    pass


class PostgresError(StudioError):
    """The studio's PostgreSQL cannot be set up, started or reached (one clear line)."""


class ExportError(CorpusToolsError):
    """Annotations that cannot be turned into a dataset as asked."""


class ModelError(CorpusToolsError):
    """A model directory that is missing, not a model, or off-schema."""


class ReportError(CorpusToolsError):
    """Inputs a report cannot be made of (none readable, no units, a bad alias table)."""


class ModelBackendError(CorpusToolsError):
    """The ML backend is not reachable or not an ML backend."""
