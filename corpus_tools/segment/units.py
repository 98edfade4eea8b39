"""A document's paragraphs to `Unit`s, with section paths and item responsibility."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass
from hashlib import sha1

from corpus_tools.schema import Unit, UnitKind
from corpus_tools.segment.markers import _MARKER_BOLD, Marker
from corpus_tools.segment.records import _ROLE_HEADING, _TEXT_ROLES, Document, Paragraph
from corpus_tools.segment.responsibility import _closing_parenthetical, responsible_bodies
from corpus_tools.segment.sentences import cut_sentences, split_run_in_title


@dataclass(slots=True)
class _Outline:
    """Numbering stack of one document: section path and current item."""

    stack: list[tuple[Marker, str | None]] = field(default_factory=list)
    headings: tuple[str, ...] = ()  # the headings in `stack`, kept in step: read per unit

    def enter(self, marker: Marker, heading: str | None) -> tuple[str, ...]:
        """Open a numbered item; return the headings above it (siblings closed)."""
        for position, (kind, _) in enumerate(self.stack):
            if kind is marker:
                del self.stack[position:]
                self.headings = tuple(h for _, h in self.stack if h)
                break
        above = self.headings
        self.stack.append((marker, heading))
        if heading:
            self.headings = above + (heading,)
        return above

    def path(self) -> tuple[str, ...]:
        return self.headings


# Kinds as plain strings: `str(UnitKind.X)` per unit is measurable in the hot loop.
_LAW_DIVISIONS = frozenset({Marker.ARTICLE, Marker.CHAPTER})
_META, _HEADING, _BODY = str(UnitKind.META), str(UnitKind.HEADING), str(UnitKind.BODY)
_UNIT_FIELD_ORDER = (
    ("unit_id", "doc_id", "unit_index", "kind", "text", "section_path")
    + ("item_responsible_bodies", "item_parenthetical")
    + ("title", "issuer", "doc_number", "date", "addressees", "source_path")
    + ("sector", "genre")
)
if tuple(f.name for f in fields(Unit)) != _UNIT_FIELD_ORDER:
    raise ImportError("schema.Unit fields changed order: update document_units, which builds it")

# A frozen dataclass's __init__ sets each field through object.__setattr__ (about
# 1.5 µs per Unit, a tenth of the whole unit stage). This non-frozen twin has the
# very same slots, so a twin built with plain stores (0.2 µs) becomes a real,
# frozen `Unit` when its class is switched (`document_units`).
_UnitDraft = make_dataclass("_UnitDraft", [(f.name, f.type) for f in fields(Unit)], slots=True)


def document_units(doc: Document) -> list[Unit]:
    """Units of one document, with section paths and item responsibility."""
    drafts: list[tuple[str, str, tuple[str, ...]]] = []  # kind, text, section_path
    outline = _Outline()
    item_start = None
    responsibility: dict[int, tuple[int, str]] = {}  # last unit index → (item start, parenthetical)
    paragraphs = doc.paragraphs
    for position, para in enumerate(paragraphs):
        if para.role not in _TEXT_ROLES:
            drafts.append((_META, para.text, outline.path()))
            continue
        if para.role is _ROLE_HEADING:
            path = outline.enter(para.marker, para.text) if para.marker else outline.path()
            item_start = len(drafts)
            drafts.append((_HEADING, para.text, path))
            continue
        title, text = split_run_in_title(para.text, para.marker)
        if title and not text and _heads_nothing(paragraphs, position):
            # A heading heads something: a short numbered sentence followed by the
            # next item of its list (`6．值班人员未持证上岗。` / `7．…`) is a list item,
            # and so is a short unnumbered one a heading follows (`相关方的投诉。`).
            title, text = "", para.text
        if para.marker is not None or title:
            path = outline.enter(para.marker or _MARKER_BOLD, title or None)
            item_start = len(drafts)
            if title:
                drafts.append((_HEADING, title, path))
        path = outline.path()  # the same for every sentence of the paragraph
        for sentence in cut_sentences(text):
            drafts.append((_BODY, sentence, path))
            parenthetical = _closing_parenthetical(sentence)
            if parenthetical and item_start is not None:
                responsibility[len(drafts) - 1] = (item_start, parenthetical)
    bodies_at = _item_bodies(responsibility, drafts)
    meta = doc.meta
    doc_id = meta.doc_id
    same_in_document = (
        meta.title,
        meta.issuer,
        meta.doc_number,
        meta.date,
        meta.addressees,
        meta.source_path,
        meta.sector,
        meta.genre,
    )
    no_bodies = ((), "")
    # Positional (order checked by `_UNIT_FIELD_ORDER`): keywords cost ~30% more per unit.
    units = [
        _UnitDraft(
            make_unit_id(doc_id, index, text),
            doc_id,
            index,
            kind,
            text,
            path,
            *bodies_at.get(index, no_bodies),
            *same_in_document,
        )
        for index, (kind, text, path) in enumerate(drafts)
    ]
    for unit in units:
        unit.__class__ = Unit  # now a real, frozen Unit: see `_UnitDraft`
    return units


def _heads_nothing(paragraphs: tuple[Paragraph, ...], position: int) -> bool:
    """The paragraphs around this title-like one show it heads nothing.

    After a numbered one, the next item of the same list (the one before may be a
    sibling whose title ran into its text: no evidence). An unnumbered one heads
    nothing at the end, after a list entry closed by `；` (the list's last entry,
    `相关方的投诉。`), or before an unnumbered heading (a finding before the next
    shop's name); before a numbered heading it is a sub-title (`煤矿。` / `（一）…`)."""
    marker = paragraphs[position].marker
    following = paragraphs[position + 1] if position + 1 < len(paragraphs) else None
    if marker is not None:
        # the last item of an article's list comes before the next article or chapter
        return following is not None and (
            following.marker is marker or following.marker in _LAW_DIVISIONS
        )
    if following is None:
        return True
    before = paragraphs[position - 1] if position else None
    last_entry = (
        before is not None
        and before.role is not _ROLE_HEADING
        and before.text.rstrip().endswith(("；", ";"))
    )
    return last_entry or (
        following.role is _ROLE_HEADING and following.marker in (None, _MARKER_BOLD)
    )


def _item_bodies(
    responsibility: dict[int, tuple[int, str]], drafts: list[tuple[str, str, tuple[str, ...]]]
) -> dict[int, tuple[tuple[str, ...], str]]:
    """Unit index → (bodies, parenthetical) for every non-meta unit of an item that names them."""
    bodies_at: dict[int, tuple[tuple[str, ...], str]] = {}
    named: dict[str, tuple[str, ...]] = {}  # a document's items often repeat one parenthetical
    for end, (start, parenthetical) in responsibility.items():
        bodies = named.get(parenthetical)
        if bodies is None:
            bodies = named[parenthetical] = responsible_bodies(parenthetical)
        for index in range(start, end + 1):
            if drafts[index][0] != _META:
                bodies_at.setdefault(index, (bodies, parenthetical))
    return bodies_at


def make_unit_id(doc_id: str, unit_index: int, text: str) -> str:
    return f"{doc_id}:{unit_index:04d}:{sha1(text.encode()).hexdigest()[:8]}"
