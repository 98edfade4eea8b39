"""Cut notices into documents and units by `annotation-guidelines.md` §1.

Pipeline: source text → cleaned lines → paragraphs → documents (a file may
hold several notices) → units with metadata and structure. Every stage is a
plain function over immutable records so each can be tested on its own.

One job a file, in pipeline order:

- `marks`: punctuation, brackets and quotes; `markers`: item numbers (`一、`, `（一）`)
- `records`: `Role`, `Paragraph`, `Document`, `DocumentMeta`
- `cleaning`: source text → clean lines (markup, entities, page numbers)
- `line_roles`: what a line is on its own (文号, title, date, banner, field, …)
- `paragraphs`: broken lines re-joined into paragraphs with roles
- `documents`: a file's paragraphs split into notices; `metadata`: title, issuer, date, year
- `sentences`: body paragraphs cut into sentences; `responsibility`: `（责任单位：…）`
- `units`: a document → `Unit`s with section paths; `unit_files`: units files read/written
- `pipeline`: files → documents → units → one units file (`segment_files`)
"""

from corpus_tools.segment.cleaning import clean_lines
from corpus_tools.segment.documents import split_documents
from corpus_tools.segment.markers import Marker, marker_of, strip_item_marker
from corpus_tools.segment.metadata import document_meta
from corpus_tools.segment.paragraphs import join_paragraphs
from corpus_tools.segment.pipeline import (
    SegmentReport,
    iter_documents,
    iter_units,
    segment_files,
    segment_text,
)
from corpus_tools.segment.records import Document, DocumentMeta, Paragraph, Role
from corpus_tools.segment.responsibility import responsible_bodies
from corpus_tools.segment.sentences import cut_sentences, split_run_in_title
from corpus_tools.segment.unit_files import OutputFormat, output_format, read_units, write_units
from corpus_tools.segment.units import document_units, make_unit_id

__all__ = [
    "Document",
    "DocumentMeta",
    "Marker",
    "OutputFormat",
    "Paragraph",
    "Role",
    "SegmentReport",
    "clean_lines",
    "cut_sentences",
    "document_meta",
    "document_units",
    "iter_documents",
    "iter_units",
    "join_paragraphs",
    "make_unit_id",
    "marker_of",
    "output_format",
    "read_units",
    "responsible_bodies",
    "segment_files",
    "segment_text",
    "split_documents",
    "split_run_in_title",
    "strip_item_marker",
    "write_units",
]
