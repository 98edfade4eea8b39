"""Loading a trained model directory and checking its labels against the schema."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language

from corpus_tools.errors import ModelError
from corpus_tools.model.crf_spans import SPAN_COMPONENT
from corpus_tools.schema import MEASURE_TYPES, NER_TAGS, SPAN_LABELS

TEXTCAT_COMPONENT = "textcat"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    version: str
    measure_types: tuple[str, ...]
    span_labels: tuple[str, ...]

    @property
    def model_version(self) -> str:
        return f"{self.name}-{self.version}"


def model_version_of(model_dir: Path) -> str:
    """`name-version+hash`: the hash of the model's files, so a model retrained on
    other data differs and one retrained on the same data (training is seeded) does
    not. meta.json is hashed without the training speed it records, which differs
    on every run: a re-run of `quickstart` then keeps the backend it started."""
    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "meta.json").read_bytes())
    digest = hashlib.sha256(json.dumps(_without_speed(meta), sort_keys=True).encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name != "meta.json"):
        digest.update(path.relative_to(model_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{meta.get('name', 'model')}-{meta.get('version', '0')}+{digest.hexdigest()[:8]}"


def _without_speed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_speed(v) for k, v in value.items() if k != "speed"}
    return value


def model_info(nlp: Language) -> ModelInfo:
    return ModelInfo(
        name=str(nlp.meta.get("name", "")),
        version=str(nlp.meta.get("version", "")),
        measure_types=tuple(nlp.get_pipe(TEXTCAT_COMPONENT).labels),
        span_labels=_span_labels(nlp),
    )


def _span_labels(nlp: Language) -> tuple[str, ...]:
    if SPAN_COMPONENT in nlp.pipe_names:
        tags = nlp.get_pipe(SPAN_COMPONENT).labels
        return tuple(sorted({t.partition("-")[2] for t in tags if t != "O"}))
    if "ner" in nlp.pipe_names:
        return tuple(sorted(nlp.get_pipe("ner").labels))
    return ()


def check_labels(nlp: Language, *, source: str) -> None:
    """Refuse a model whose labels are not exactly the schema's."""
    if TEXTCAT_COMPONENT not in nlp.component_names:  # a disabled textcat still has labels
        raise ModelError(
            f"{source}: the model has no '{TEXTCAT_COMPONENT}' component; "
            "train one with `corpus-tools train EXPORT_DIR -o MODEL_DIR`"
        )
    cats = set(nlp.get_pipe(TEXTCAT_COMPONENT).labels)
    spans = set(_span_labels(nlp))
    if SPAN_COMPONENT in nlp.pipe_names:
        tags = set(nlp.get_pipe(SPAN_COMPONENT).labels)
        spans_ok = tags == set(NER_TAGS)
    else:
        spans_ok = spans == set(SPAN_LABELS)
    problems = []
    if cats != set(MEASURE_TYPES):
        problems.append(_diff("measure types", cats, set(MEASURE_TYPES)))
    if not spans_ok:
        problems.append(_diff("span labels", spans, set(SPAN_LABELS)))
    if problems:
        raise ModelError(
            f"{source}: model labels differ from the schema ({'; '.join(problems)}); "
            "retrain it on an export of the current schema"
        )


def _diff(what: str, got: set[str], want: set[str]) -> str:
    parts = []
    if want - got:
        parts.append(f"missing {', '.join(sorted(want - got))}")
    if got - want:
        parts.append(f"unknown {', '.join(sorted(got - want))}")
    return f"{what}: {'; '.join(parts) or 'tag set differs'}"


def load_model(model_dir: Path | str) -> Language:
    """Load a trained model directory and check its labels against the schema."""
    path = Path(model_dir)
    hint = "train one with `corpus-tools train EXPORT_DIR -o MODEL_DIR` or give the path of one"
    if not path.is_dir():
        raise ModelError(f"{path}: no such model directory; {hint}")
    if not (path / "config.cfg").is_file() or not (path / "meta.json").is_file():
        raise ModelError(f"{path}: not a spaCy model directory (no config.cfg/meta.json); {hint}")
    import spacy

    try:
        nlp = spacy.load(path)
    except Exception as error:  # spaCy raises many kinds for a broken model dir
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise ModelError(f"{path}: cannot be loaded as a spaCy model ({reason}); {hint}") from None
    check_labels(nlp, source=str(path))
    return nlp


def read_meta(model_dir: Path | str) -> dict:
    return json.loads((Path(model_dir) / "meta.json").read_text(encoding="utf-8"))
