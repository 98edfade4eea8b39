"""The records stages pass on: paragraph roles, paragraphs, documents and their metadata."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from corpus_tools.segment.markers import Marker


class Role(StrEnum):
    """What a paragraph is, before it becomes units."""

    BODY = "body"
    HEADING = "heading"
    BANNER = "banner"
    DOC_NUMBER = "doc_number"
    TITLE = "title"
    FIELD = "field"
    ADDRESSEE = "addressee"
    ORG = "org"
    DATE = "date"
    NOTE = "note"
    COPY = "copy"
    ATTACHMENT = "attachment"
    URL = "url"
    CONTACT = "contact"
    CONTENTS = "contents"  # a table-of-contents entry: `3.公安系统……方案 ....17`


# Members the per-line and per-paragraph code compares against, as plain names:
# on Python 3.11 `Role.URL` costs ~0.1 µs (EnumType's __getattr__ hook slows every
# lookup on an enum class), over a millisecond per corpus pass.
_ROLE_URL, _ROLE_TITLE, _ROLE_ORG, _ROLE_DATE = Role.URL, Role.TITLE, Role.ORG, Role.DATE
_ROLE_CONTENTS = Role.CONTENTS
_ROLE_BODY, _ROLE_HEADING, _ROLE_FIELD = Role.BODY, Role.HEADING, Role.FIELD
_ROLE_ATTACHMENT, _ROLE_ADDRESSEE = Role.ATTACHMENT, Role.ADDRESSEE

# Roles that open a notice: seen after body text, they start a new document.
_FRONT_ROLES = frozenset({Role.BANNER, Role.DOC_NUMBER, Role.TITLE, Role.FIELD, Role.ADDRESSEE})
_TEXT_ROLES = frozenset({Role.BODY, Role.HEADING})


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    role: Role
    marker: Marker | None = None


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    doc_id: str
    title: str = ""
    issuer: str = ""
    doc_number: str = ""
    date: str | None = None
    addressees: tuple[str, ...] = ()
    source_path: str = ""
    sector: str = ""
    genre: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    meta: DocumentMeta
    paragraphs: tuple[Paragraph, ...]
