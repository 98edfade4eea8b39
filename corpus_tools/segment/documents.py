"""One file's paragraphs split into notices (a file may hold several)."""

from __future__ import annotations

import re
from dataclasses import replace

from corpus_tools.segment.line_roles import (
    _ADDRESSEE_VERBS,
    _ATTACHMENT_ENTRY,
    _ATTACHMENT_LIST_HEAD,
    _ORG_END,
    _is_attachment_label,
)
from corpus_tools.segment.markers import _MARKER_CN_DUN
from corpus_tools.segment.records import (
    _FRONT_ROLES,
    _ROLE_ADDRESSEE,
    _ROLE_ATTACHMENT,
    _ROLE_BODY,
    _ROLE_CONTENTS,
    _ROLE_DATE,
    _ROLE_HEADING,
    _ROLE_TITLE,
    _TEXT_ROLES,
    Paragraph,
    Role,
)


def split_documents(paragraphs: list[Paragraph]) -> list[list[Paragraph]]:
    """Split one file's paragraphs into notices.

    A notice starts where front matter (banner, 文号, title, metadata table,
    addressee line) follows body text; where a second `一、` restarts the
    numbering; or where text follows a signature date. An attachment label
    (`附件3`) just before the start goes with the document it labels: a cover
    notice's attached plans each come out whole.
    """
    documents: list[list[Paragraph]] = []
    current: list[Paragraph] = []
    has_text = seen_first_item = signed = False
    previous: Paragraph | None = None
    for para in paragraphs:
        role = _contextual_role(para, has_text, previous)
        para = replace(para, role=role) if role is not para.role else para
        before, previous = previous, para
        restarts = role is _ROLE_HEADING and para.marker is _MARKER_CN_DUN and para.text[0] == "一"
        starts_new = (
            has_text
            and (
                role in _FRONT_ROLES
                or (restarts and seen_first_item)
                or (signed and role in _TEXT_ROLES)
            )
        ) or (role is _ROLE_TITLE and before is not None and before.role is _ROLE_CONTENTS)
        if starts_new:
            label = [current.pop()] if _is_attachment_label(current[-1].text) else []
            documents.append(current)
            current, has_text, seen_first_item, signed = label, False, False, False
        current.append(para)
        if role in _TEXT_ROLES:
            has_text = True
        if restarts or (
            role is _ROLE_BODY and para.marker is _MARKER_CN_DUN and para.text[0] == "一"
        ):
            seen_first_item = True
        if role is _ROLE_DATE and has_text:
            signed = True
    if current:
        documents.append(current)
    return [doc for doc in documents if any(p.role in _TEXT_ROLES for p in doc)] or documents


def _contextual_role(para: Paragraph, has_text: bool, previous: Paragraph | None) -> Role:
    """Roles that depend on position: addressee lines, entries of an attachment list."""
    if para.role is _ROLE_BODY and _is_addressee(para.text, has_text):
        return _ROLE_ADDRESSEE
    if (
        para.role in _TEXT_ROLES
        and previous is not None
        and previous.role is _ROLE_ATTACHMENT
        and _is_next_attachment_entry(previous.text, para.text)
    ):
        return _ROLE_ATTACHMENT
    return para.role


def _is_next_attachment_entry(previous: str, text: str) -> bool:
    """`2．…方案` after `附件：1．…方案` (or `1．…` after a bare `附件：`): a list entry, meta.

    The numbers must run on, so a notice that starts with `1.` right after an
    attachment line is not swallowed into the list.
    """
    entry = _ATTACHMENT_ENTRY.match(text)
    if entry is None:
        return False
    before = _ATTACHMENT_ENTRY.match(previous)
    if before is not None:
        return int(entry.group(1)) == int(before.group(1)) + 1
    return int(entry.group(1)) == 1 and bool(_ATTACHMENT_LIST_HEAD.match(previous))


def _is_addressee(text: str, has_text: bool) -> bool:
    if not text.endswith(("：", ":")) or len(text) > 160 or _ADDRESSEE_VERBS.search(text):
        return False
    if not re.search(r"[，,、]", text) and not _ORG_END.search(text[:-1]):
        return False
    # After body text, only a line that is an addressee on its own counts (`_meta_role`).
    return not has_text
