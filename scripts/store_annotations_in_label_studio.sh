#!/usr/bin/env bash
# Store the seed annotation set the way annotators' work arrives: push the
# units to a fresh embedded Label Studio, load each pass under its annotator
# account, pull the Label Studio JSON, and export the final set to exports/seed.
# Re-runnable; uses a throw-away Label Studio home so nothing else is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
export XDG_DATA_HOME="$work/data"
trap 'uv run corpus-tools studio stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
out=data/annotations/label-studio
mkdir -p "$out"

uv run corpus-tools studio start
uv run corpus-tools segment data/notices -o "$work/units.jsonl"
# Both passes in one project, one annotator account each (agreement is measured on it).
uv run corpus-tools push "$work/units.jsonl" --project "seed: two passes" --annotations data/annotations/first_pass.jsonl
uv run corpus-tools push-annotations data/annotations/second_pass.jsonl --project "seed: two passes"
uv run corpus-tools pull --project "seed: two passes" -o "$out/passes.json"
# The adjudicated final set in a project of its own: the training data.
uv run corpus-tools push "$work/units.jsonl" --project "seed: final" --annotations data/annotations/seed.jsonl
uv run corpus-tools pull --project "seed: final" -o "$out/seed.json"
uv run corpus-tools export "$out/seed.json" -o exports/seed
uv run corpus-tools export "$out/passes.json" -o "$work/passes-export" --policy latest
