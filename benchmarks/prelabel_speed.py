"""Pre-labelling speed: units/s on the sample corpus repeated to ≥ 20,000 units.

Measures, in one run:
- model load time (in a fresh process: import + `load_model`, and load alone);
- `prelabel_units` → JSONL (the whole stage after segmentation: model, records,
  deadline normalisation, writing) with 1 and 2 processes;
- the named baseline: spaCy's default `textcat` (ensemble) + `ner` on char
  tokens, initialised (untrained weights cost the same), `nlp.pipe` with 1 and
  2 processes on the same texts.

Target (issue 7): ≥ 2,000 units/s on 2 cores, load ≤ 3 s.

    uv run python benchmarks/prelabel_speed.py [--model models/prelabel] [--units 20000]

Without --model (and no `models/prelabel`), a model is first trained for a few
hundred steps on an export built from the seed annotations (`data/annotations`),
which costs the same to run as a fully trained one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_tools.model import load_model  # noqa: E402
from corpus_tools.prelabel import DEFAULT_MODEL_DIR, prelabel_units  # noqa: E402
from corpus_tools.segment import iter_units  # noqa: E402


def sample_units(n: int) -> list:
    units = [u for u in iter_units([ROOT / "data" / "notices"]) if not isinstance(u, Exception)]
    body = [u for u in units if u.kind == "body"]
    repeated = (body * (n // len(body) + 1))[:n]
    return repeated


def quick_model(tmp: Path) -> Path:
    from corpus_tools.model import train_model

    print("training a stand-in model on exports/corpus (300 steps)…", flush=True)
    return train_model(ROOT / "exports" / "corpus", tmp / "model", max_steps=300).model_dir


def load_seconds(model_dir: Path) -> tuple[float, float]:
    """(import + load, load alone) in a fresh interpreter."""
    code = (
        "import time; t0 = time.perf_counter();"
        "from corpus_tools.model import load_model; t1 = time.perf_counter();"
        f"load_model({str(model_dir)!r}); t2 = time.perf_counter();"
        "print(t2 - t0, t2 - t1)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    return float(out[0]), float(out[1])


def prelabel_rate(nlp, model_dir: Path, units: list, n_process: int, out: Path) -> float:
    started = time.perf_counter()
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for records in prelabel_units(units, nlp, model_dir=model_dir, n_process=n_process):
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            count += len(records)
    return count / (time.perf_counter() - started)


def baseline_nlp():
    """spaCy's default textcat (TextCatEnsemble) + ner, char tokens, initialised."""
    import spacy

    from corpus_tools.schema import MEASURE_TYPES, SPAN_LABELS

    nlp = spacy.blank("zh")
    textcat = nlp.add_pipe("textcat")
    for label in MEASURE_TYPES:
        textcat.add_label(label)
    ner = nlp.add_pipe("ner")
    for label in SPAN_LABELS:
        ner.add_label(label)
    nlp.initialize()
    return nlp


def pipe_rate(nlp, texts: list[str], n_process: int) -> float:
    started = time.perf_counter()
    count = sum(1 for _ in nlp.pipe(texts, batch_size=256, n_process=n_process))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--baseline-units", type=int, default=4_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="prelabel-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model_dir = args.model or (DEFAULT_MODEL_DIR if DEFAULT_MODEL_DIR.is_dir() else None)
        model_dir = model_dir or quick_model(tmp)
        units = sample_units(args.units)
        texts = [u.text for u in units]
        mean_len = sum(map(len, texts)) / len(texts)
        cold, warm = load_seconds(model_dir)
        nlp = load_model(model_dir)
        size_mb = sum(f.stat().st_size for f in Path(model_dir).rglob("*") if f.is_file()) / 1e6
        print(f"model {model_dir} ({size_mb:.1f} MB), pipeline {nlp.pipe_names}")
        print(
            f"{len(units):,} body units of the sample corpus, {mean_len:.0f} characters on average"
        )
        print(f"load: {warm:.2f} s (with imports, fresh process: {cold:.2f} s)  target ≤ 3 s")
        rows = []
        for n in (1, 2):
            rate = prelabel_rate(nlp, Path(model_dir), units, n, tmp / f"out{n}.jsonl")
            rows.append(
                (f"prelabel (this model) → JSONL, {n} process{'es' if n > 1 else ''}", rate)
            )
        base = baseline_nlp()
        sample = texts[: args.baseline_units]
        for n in (1, 2):
            rate = pipe_rate(base, sample, n)
            rows.append((f"baseline: spaCy default textcat+ner, nlp.pipe, {n} proc", rate))
        width = max(len(name) for name, _ in rows)
        for name, rate in rows:
            print(f"{name:<{width}}  {rate:8,.0f} units/s")
        best = max(rate for name, rate in rows if name.startswith("prelabel"))
        print(
            f"target ≥ 2,000 units/s on 2 cores: {'met' if best >= 2000 else 'NOT met'} ({best:,.0f})"
        )


if __name__ == "__main__":
    main()
