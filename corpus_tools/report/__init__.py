"""`corpus-tools report`: what the notices demand, at a glance.

An offline HTML page with charts over `prelabel` output or an exported
dataset — measure types per notice and group, an issuer's years, responsible
bodies, deadlines, frequencies, what changed between two notices — and every
table behind a chart beside it as CSV and Parquet.

One job a module: `loading` (inputs → units frame), `tables`, `changes`
("what changed" matching), `charts` (Altair → SVG), `page` (HTML), `build`.
"""

from corpus_tools.report.build import DEFAULT_TITLE, ReportResult, build_report
from corpus_tools.report.tables import GroupBy

__all__ = ["DEFAULT_TITLE", "GroupBy", "ReportResult", "build_report"]
