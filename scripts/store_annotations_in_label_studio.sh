#!/usr/bin/env bash
# Store the annotation sets the way annotators' work arrives: push the units to
# a fresh embedded Label Studio, load each pass under its annotator account,
# pull the Label Studio JSON, and export the training corpus.
#   data/annotations/label-studio/*.json   the final sets: the training data (seed.jsonl
#                                          + review.jsonl; more/first_pass.jsonl + more/review.jsonl)
#   data/annotations/agreement/*.json      both passes of each set (agreement only)
#   exports/corpus                         the dataset every model here is trained on
# Re-runnable; uses a throw-away Label Studio home so nothing else is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
export XDG_DATA_HOME="$work/data"
trap 'uv run corpus-tools studio stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
final=data/annotations/label-studio
passes=data/annotations/agreement
mkdir -p "$final" "$passes"

uv run corpus-tools studio start

store() {  # name units-source first-pass second-pass final-set
  local name=$1 source=$2 first=$3 second=$4 final_set=$5
  uv run corpus-tools segment $source -o "$work/$name-units.jsonl"
  # Both passes in one project, one annotator account each (agreement is measured on it).
  uv run corpus-tools push "$work/$name-units.jsonl" --project "$name: two passes" --annotations "$first"
  uv run corpus-tools push-annotations "$second" --project "$name: two passes"
  uv run corpus-tools pull --project "$name: two passes" -o "$passes/$name-passes.json"
  # The final set in a project of its own: the training data.
  uv run corpus-tools push "$work/$name-units.jsonl" --project "$name: final" --annotations "$final_set"
  uv run corpus-tools pull --project "$name: final" -o "$final/$name.json"
  uv run corpus-tools export "$passes/$name-passes.json" -o "$work/$name-passes-export" --policy latest
}

# Each set's final labels: its final JSON Lines with the consistency review's decisions
# (review.jsonl, by unit id) in place where the review re-judged a unit.
uv run python scripts/merge_review.py data/annotations/seed.jsonl \
  data/annotations/review.jsonl > "$work/seed-final.jsonl"
uv run python scripts/merge_review.py data/annotations/more/first_pass.jsonl \
  data/annotations/more/review.jsonl > "$work/more-final.jsonl"
store seed data/notices data/annotations/first_pass.jsonl data/annotations/second_pass.jsonl \
  "$work/seed-final.jsonl"
store more "$(ls data/more-notices/*.txt | tr '\n' ' ')" data/annotations/more/first_pass.jsonl \
  data/annotations/more/second_pass.jsonl "$work/more-final.jsonl"

# A document keeps the split the committed export gave it: corrections and new
# documents do not reshuffle the test split (`export --keep-splits`).
keep=()
if [ -d exports/corpus/data ]; then
  keep=(--keep-splits exports/corpus)
else
  echo "note: no earlier exports/corpus: documents are split afresh" >&2
fi
uv run corpus-tools export "$final"/*.json -o exports/corpus "${keep[@]}"
