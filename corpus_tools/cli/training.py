"""`train` and `evaluate` (one split, gold files or grouped cross-validation)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from corpus_tools.cli._common import (
    app,
    clean_errors,
    console,
)
from corpus_tools.outputs import check_writable_file
from corpus_tools.schema import SPAN_LABELS


@app.command("train")
@clean_errors
def train_command(
    export_dir: Annotated[
        Path, typer.Argument(help="Export directory (`corpus-tools export -o DIR`).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")],
    config: Annotated[
        Path | None, typer.Option(help="spaCy training config (default: the project's).")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Config override section.key=value (repeatable), e.g. --set training.dropout=0.2",
        ),
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option(
            help="Stop after this many updates (the n-gram classifier and the span CRF are "
            "fitted whole at the start, so fewer steps shorten training little)."
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Stop after this many epochs (0: no limit).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    name: Annotated[
        str, typer.Option(help="Model name (model_version = name-version).")
    ] = "zh_worksafety_prelabel",
    version: Annotated[str, typer.Option(help="Model version.")] = "0.1.0",
    select_rules: Annotated[
        bool,
        typer.Option(
            help="Choose rule spans per label where they beat the learned model on validation."
        ),
    ] = True,
    whole_corpus: Annotated[
        bool,
        typer.Option(
            help="Train on every split, keeping the config's measure-type mix and rule "
            "options (chosen by `evaluate --group-by`), as the shipped model is trained."
        ),
    ] = False,
) -> None:
    """Train the pre-labeling model (measure type + spans) on an export's train split.

    Keeps the best checkpoint on the validation split. Example:
    corpus-tools train exports/corpus -o models/prelabel --whole-corpus
    """
    from corpus_tools.model import parse_overrides, train_model

    # the first step line comes after the classifiers are fitted (~1 min on the
    # corpus): a spinner says the run is alive until then
    with console.status("Fitting the measure-type classifier and the span CRF…") as status:

        def show(p) -> None:
            status.update("Training…")
            losses = " ".join(f"{k}={v:.1f}" for k, v in p.losses.items())
            mark = " *" if p.is_best else ""
            console.print(
                f"step {p.step:>5}/{p.max_steps or '∞'} epoch {p.epoch:>3}  {losses}  "
                f"measure macro-F1 {p.cats_macro_f or 0:.3f}  span F1 {p.ents_f or 0:.3f}  "
                f"score {p.score:.3f}{mark}",
                highlight=False,
            )

        result = train_model(
            export_dir,
            output,
            config_path=config,
            overrides=parse_overrides(overrides or []),
            max_steps=max_steps,
            max_epochs=epochs,
            seed=seed,
            name=name,
            version=version,
            select_rules=select_rules,
            whole_corpus=whole_corpus,
            progress=show,
        )
    for rule in result.rules:
        f1 = "  ".join(f"{k} {v:.3f}" for k, v in rule.f1.items())
        console.print(f"rules {rule.label}: {f1} -> {rule.chosen}", highlight=False)
    if result.misaligned_spans:
        console.print(f"spans not on token boundaries (left out): {result.misaligned_spans}")
    typer.echo(
        f"wrote {result.model_dir} ({result.model_version}): best score {result.best_score:.3f} "
        f"at step {result.best_step}, {result.n_train} train / {result.n_validation} validation "
        f"units, {result.seconds:.0f} s"
    )


def _prf_cells(s) -> list[str]:
    return [f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}"] if s else ["", "", ""]


@app.command("evaluate")
@clean_errors
def evaluate_command(
    model_dir: Annotated[Path, typer.Argument(help="Model directory (`corpus-tools train`).")],
    export_dir: Annotated[Path, typer.Argument(help="Export directory to score on.")],
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    gold: Annotated[
        list[Path] | None,
        typer.Option(
            help="Score on the annotated units of this JSON Lines file (seed-set format) "
            "instead of a split; repeat to score several files together, e.g. "
            "--gold data/external-eval/new-notices-02-04.jsonl."
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option(help="Also write the scores as JSON here.")
    ] = None,
    baseline: Annotated[
        bool, typer.Option(help="Train and score the TF-IDF baseline on the train split.")
    ] = True,
    group_by: Annotated[
        GroupByOption | None,
        typer.Option(
            help="Grouped cross-validation instead of one split: hold out each issuer, "
            "sector or genre whole, fit the model's config on the rest of the export "
            "(every split), and print per-group figures beside the baseline fitted on "
            "the same folds."
        ),
    ] = None,
    folds: Annotated[
        int,
        typer.Option(min=2, help="With --group-by: at most this many folds (groups are packed)."),
    ] = 10,
) -> None:
    """Score a model on an export split beside a char TF-IDF + linear baseline.

    Prints per-label P/R/F1, macro-F1, accuracy, the confusion matrix and
    exact-span P/R/F1 per label (with the span rules alone for comparison).
    With --group-by, scores by grouped cross-validation over issuers, sectors or
    genres the model has not seen.
    Example: corpus-tools evaluate models/prelabel exports/corpus --group-by sector
    """
    import json

    from corpus_tools.model import evaluate_model

    if json_out is not None:  # before minutes of scoring, not after them
        check_writable_file(json_out)
    if group_by is not None:
        _print_cross_validation(model_dir, export_dir, group_by.value, folds, json_out)
        return

    with console.status(f"Scoring on {', '.join(map(str, gold or [])) or split}…"):
        result = evaluate_model(
            model_dir, export_dir, split=split, gold_files=gold or (), baseline=baseline
        )
    split = result.split
    out = Console()
    seen_warning = (
        f"warning: {model_dir} was trained on the {split} split (its meta.json: trained_on "
        f"{', '.join(result.baseline_trained_on)}); these figures say how well it learned "
        "them, not how it does on notices it has not seen: use --group-by sector, or "
        "--gold with notices kept out of the export"
    )
    if result.seen_in_training:
        console.print(seen_warning, style="bold yellow", highlight=False)
    m, b = result.measure_type, result.baseline_measure_type
    table = _figures_table(
        f"measure type — {result.model_version} on {split} ({result.n_units} units)",
        ("label", "P", "R", "F1", "baseline\nP", "baseline\nR", "baseline\nF1", "support"),
    )
    for label in m.labels:
        s = m.per_label[label]
        table.add_row(label, *_prf_cells(s), *_prf_cells(b.per_label.get(label)), str(s.support))
    table.add_section()
    table.add_row("macro-F1", "", "", f"{m.macro_f1:.3f}", "", "", f"{b.macro_f1:.3f}", "")
    table.add_row("accuracy", "", "", f"{m.accuracy:.3f}", "", "", f"{b.accuracy:.3f}", "")
    out.print(table)
    if baseline:
        out.print(f"baseline: {result.baseline_name}", highlight=False)
    # four letters a column, so ten labels fit beside the gold label in 80 columns
    confusion = _figures_table(
        "confusion matrix (rows gold, columns predicted)",
        ("gold \\ predicted", *(label[:4] for label in m.labels)),
    )
    for label, row in zip(m.labels, m.confusion, strict=True):
        confusion.add_row(label, *(str(n) if n else "·" for n in row))
    out.print(confusion)
    spans = _figures_table(
        "spans (exact match)",
        ("label", "P", "R", "F1", "rules\nP", "rules\nR", "rules\nF1", "support"),
    )
    for label, s in result.spans.per_label.items():
        r = result.rules_only_spans.per_label[label]
        spans.add_row(label, *_prf_cells(s), *_prf_cells(r), str(s.support))
    spans.add_section()
    spans.add_row(
        "micro",
        *_prf_cells(result.spans.micro),
        *_prf_cells(result.rules_only_spans.micro),
        str(result.spans.micro.support),
    )
    out.print(spans)
    if result.per_notice:
        for table in _group_tables("per notice", "notice", result.per_notice):
            out.print(table)
    out.print(_coverage_table(result.coverage, result.baseline_coverage))
    if baseline:
        out.print(f"baseline fitted on: {', '.join(result.baseline_trained_on)}", highlight=False)
    if result.seen_in_training:  # again under the tables, where a reader ends up
        console.print(seen_warning, style="bold yellow", highlight=False)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        console.print(f"wrote {json_out}")


class _FiguresTable:
    """A table whose first column names a thing and whose other columns hold
    figures. Figures are never cut (`0.7…`) or wrapped; the name column gets the
    width left and gives way with an ellipsis, so the tables read in an
    80-column terminal as in a wide one."""

    def __init__(self, title: str, columns: tuple[str, ...]) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[tuple[str, ...] | None] = []  # None: a line between sections

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)

    def add_section(self) -> None:
        self.rows.append(None)

    def __rich_console__(self, console, options):
        from rich import box
        from rich.cells import cell_len
        from rich.table import Table

        rows = [row for row in self.rows if row is not None]

        def width(index: int) -> int:
            cells = [self.columns[index], *(row[index] for row in rows)]
            return max(cell_len(line) for cell in cells for line in cell.split("\n"))

        figures = range(1, len(self.columns))
        # each column after the first costs its figures and the two spaces
        # between it and the one before; the table's two edges one space each
        room = options.max_width - sum(width(i) + 2 for i in figures) - 2
        table = Table(title=self.title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        table.add_column(self.columns[0], no_wrap=True, overflow="ellipsis", max_width=max(room, 6))
        for index in figures:
            table.add_column(self.columns[index], justify="right", no_wrap=True)
        for row in self.rows:
            if row is None:
                table.add_section()
            else:
                table.add_row(*row)
        yield table


def _figures_table(title: str, columns: tuple[str, ...]) -> _FiguresTable:
    return _FiguresTable(title, columns)


def _group_tables(
    title: str,
    name: str,
    groups,
    *,
    measure_summary: tuple[tuple[str, ...], ...] = (),
    span_summary: tuple[tuple[str, ...], ...] = (),
) -> tuple[Any, Any]:
    """Model beside baseline for each group (`GroupScores`): measure-type macro-F1
    in one table, accuracy and span F1 in a second (– where F1 is undefined), each
    narrow enough for a terminal; the summaries are rows added under a line."""
    measure = _figures_table(
        f"{title}: measure-type macro-F1",
        (name, "units", "docs", "model", "baseline", "difference (95% CI)"),
    )
    spans = _figures_table(
        f"{title}: accuracy and span F1",
        (name, "accuracy", "baseline", *SPAN_LABELS),
    )
    for g in groups:
        measure.add_row(
            g.group,
            str(g.units),
            str(g.documents),
            f"{g.macro_f1:.3f}",
            f"{g.baseline_macro_f1:.3f}",
            _difference_cell(g.macro_f1 - g.baseline_macro_f1, g.difference_interval),
        )
        spans.add_row(
            g.group,
            f"{g.accuracy:.3f}",
            f"{g.baseline_accuracy:.3f}",
            *(f"{g.span_f1[label]:.2f}" if label in g.span_f1 else "–" for label in SPAN_LABELS),
        )
    for table, summary in ((measure, measure_summary), (spans, span_summary)):
        if summary:
            table.add_section()
        for row in summary:
            table.add_row(*row)
    return measure, spans


def _coverage_table(coverage, baseline_coverage) -> Any:
    """How often the surest measure-type predictions are right, beside the baseline's
    surest (each system ranks the units by its own score)."""
    from rich.table import Table

    table = Table(title="measure type: accuracy of the surest predictions")
    columns = ("surest", "units", "score ≥", "accuracy", "baseline accuracy")
    for column in columns if baseline_coverage else columns[:-1]:
        table.add_column(column, justify="right")
    baseline_by_share = {p.coverage: p for p in baseline_coverage}
    for point in coverage:
        base = baseline_by_share.get(point.coverage)
        cells = [
            f"{point.coverage:.0%}",
            str(point.units),
            f"{point.min_score:.2f}",
            f"{point.accuracy:.3f}",
        ]
        if baseline_coverage:
            cells.append(f"{base.accuracy:.3f}" if base else "")
        table.add_row(*cells)
    return table


def _difference_cell(difference: float, interval: tuple[float, ...]) -> str:
    """`+0.020 (+0.002…+0.039)`; the interval left out when none was computed."""
    if not interval:
        return f"{difference:+.3f}"
    low, high = interval
    return f"{difference:+.3f} ({low:+.3f}…{high:+.3f})"


class GroupByOption(StrEnum):
    issuer = "issuer"
    sector = "sector"
    genre = "genre"


def _print_cross_validation(
    model_dir: Path, export_dir: Path, group_by: str, folds: int, json_out: Path | None
) -> None:
    import json

    from rich.progress import Progress

    from corpus_tools.model import cross_validate_export

    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(f"cross-validating by {group_by}", total=None)

        def advance(p) -> None:
            bar.update(task, total=p.folds, completed=p.fold)

        result = cross_validate_export(
            model_dir, export_dir, group_by=group_by, folds=folds, progress=advance
        )
    out = Console()
    m, b = result.measure_type, result.baseline_measure_type
    mean_difference = result.mean_group_macro_f1 - result.mean_group_baseline_macro_f1
    tables = _group_tables(
        f"grouped cross-validation by {group_by} ({result.n_groups} groups, "
        f"{result.folds} folds, {result.n_units} units)",
        "group",
        result.groups,
        measure_summary=(
            (
                "mean over groups",
                "",
                "",
                f"{result.mean_group_macro_f1:.3f}",
                f"{result.mean_group_baseline_macro_f1:.3f}",
                _difference_cell(mean_difference, result.mean_group_difference_interval),
            ),
            (
                "pooled",
                str(result.n_units),
                "",
                f"{m.macro_f1:.3f}",
                f"{b.macro_f1:.3f}",
                f"{m.macro_f1 - b.macro_f1:+.3f}",
            ),
        ),
        span_summary=(
            (
                "pooled",
                f"{m.accuracy:.3f}",
                f"{b.accuracy:.3f}",
                *(f"{result.spans.per_label[label].f1:.2f}" for label in SPAN_LABELS),
            ),
        ),
    )
    for table in tables:
        out.print(table)
    out.print(
        f"baseline: {result.baseline_name}; spans pooled, rules alone: "
        + ", ".join(
            f"{label} {result.rules_only_spans.per_label[label].f1:.2f}" for label in SPAN_LABELS
        )
        + f"; measure-type calibration error (ECE, {10} bins): {result.calibration_error:.3f}"
        + f" ({result.calibration_error_at_temperature:.3f} at temperature"
        + f" {result.temperature:g}, the best fit to the held-out scores)",
        highlight=False,
    )
    out.print(_coverage_table(result.coverage, result.baseline_coverage))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        console.print(f"wrote {json_out}")
