"""The whole stage: files → documents → units → one units file, with a report."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus_tools.errors import InputFileError
from corpus_tools.ingest import iter_input_files, read_source
from corpus_tools.outputs import check_writable_file, replaced_on_success
from corpus_tools.schema import Unit
from corpus_tools.segment.cleaning import clean_lines
from corpus_tools.segment.documents import split_documents
from corpus_tools.segment.line_roles import _is_attachment_label
from corpus_tools.segment.metadata import _document_year, document_meta
from corpus_tools.segment.paragraphs import join_paragraphs
from corpus_tools.segment.records import _ROLE_DATE, Document, DocumentMeta
from corpus_tools.segment.unit_files import UNIT_FILE_SUFFIXES, output_format, write_units
from corpus_tools.segment.units import document_units
from corpus_tools.sources import source_row_for, with_source_metadata


@dataclass(frozen=True, slots=True)
class SegmentReport:
    """What `segment_files` did: counts for the summary, failures by file."""

    output: Path
    files_read: int
    documents: int
    units_by_kind: dict[str, int]
    failures: tuple[InputFileError, ...] = field(default_factory=tuple)

    @property
    def units(self) -> int:
        return sum(self.units_by_kind.values())


def segment_text(text: str, *, stem: str, source_path: str = "") -> list[Document]:
    """All notices in one source text, each with metadata and paragraphs."""
    paragraphs = join_paragraphs(clean_lines(text))
    groups = split_documents(paragraphs)
    documents = []
    used: Counter[str] = Counter()
    year = signed_year = ""  # an attachment takes the year of the signed notice it follows
    previous_signed = False
    signed: DocumentMeta | None = None
    for group in groups:
        meta = document_meta(group, stem=stem, source_path=source_path)
        doc_id = stem
        if len(groups) > 1:
            attached = previous_signed or _is_attachment_label(group[0].text)
            year = _document_year(meta, group, attached_to=signed_year if attached else "") or "doc"
            used[year] += 1
            doc_id = f"{stem}#{year}" + (f"-{used[year]}" if used[year] > 1 else "")
            if attached and signed is not None and not _dated_itself(meta):
                # an attachment (a plan, a findings list) is issued with its notice:
                # what it does not say of itself, the notice says for it. (A notice
                # of a compilation, with a 文号 or year of its own, is no attachment.)
                meta = replace(
                    meta, issuer=meta.issuer or signed.issuer, date=meta.date or signed.date
                )
        documents.append(Document(replace(meta, doc_id=doc_id), tuple(group)))
        previous_signed = any(p.role is _ROLE_DATE for p in group)
        if previous_signed:
            signed_year, signed = year, meta
    return documents


def _dated_itself(meta: DocumentMeta) -> bool:
    return bool(meta.date or re.search(r"(?:19|20)\d{2}", meta.doc_number + meta.title))


def iter_documents(paths: Iterable[Path | str]) -> Iterator[Document | InputFileError]:
    """Documents of every readable file; unreadable files come in-stream as errors."""
    for path in iter_input_files(list(paths)):
        try:
            source = read_source(path)
        except InputFileError as error:
            yield error
            continue
        try:
            row = source_row_for(path)
        except InputFileError as error:
            yield error
            continue
        documents = segment_text(source.text, stem=path.stem, source_path=str(path))
        if not documents:
            yield InputFileError(str(path), "no notice text found")
        for document in documents:
            yield replace(document, meta=with_source_metadata(document.meta, row))


def iter_units(paths: Iterable[Path | str]) -> Iterator[Unit | InputFileError]:
    """Units of every readable file, in order; failures come in-stream so a batch goes on."""
    for item in iter_documents(paths):
        if isinstance(item, InputFileError):
            yield item
        else:
            yield from document_units(item)


def segment_files(
    paths: Iterable[Path | str],
    *,
    output: Path,
    on_file: Callable[[Path], None] | None = None,
) -> SegmentReport:
    """Segment files and directories into one units file; report counts and failures.

    `output` is replaced only when the run ends and read something: a batch in
    which every file failed leaves the previous units file as it was."""
    check_writable_file(output, suffixes=UNIT_FILE_SUFFIXES)
    files = list(iter_input_files(list(paths)))
    failures: list[InputFileError] = []
    kinds: Counter[str] = Counter()
    doc_ids: set[str] = set()

    def units() -> Iterator[Unit]:
        for path in files:
            for item in iter_units([path]):
                if isinstance(item, InputFileError):
                    failures.append(item)
                    continue
                kinds[item.kind] += 1
                doc_ids.add(item.doc_id)
                yield item
            if on_file is not None:
                on_file(path)

    with replaced_on_success(output) as partial:
        written = write_units(units(), partial, fmt=output_format(output))
        if written == 0 and failures:
            partial.unlink()
    return SegmentReport(
        output=output,
        files_read=len(files) - len({f.path for f in failures}),
        documents=len(doc_ids),
        units_by_kind=dict(kinds),
        failures=tuple(failures),
    )
