#!/bin/sh
# Runs every sweep of the paper's study in sim (experiments/paper/<name>.yaml → results/paper/<name>/, resumable: run it again to go on), then draws each sweep's report and figures.
# Usage: sh experiments/paper/run-all.sh [extra splitnet sweep flags, e.g. --jobs 2]   (or: npm run paper)
# Writes results/paper/<name>/report.html and results/paper/<name>/figures/<figure id>.svg, and refreshes the
# figures EXPERIMENTS.md embeds (experiments/paper/figures/<name>.<figure id>.svg) from this run's output.
set -e
here=$(dirname "$0")
root=$(cd "$here/../.." && pwd)
out="${PAPER_OUT:-results/paper}"
splitnet="$root/packages/cli/dist/src/main.js"
start=$(date +%s)
for file in "$here"/*.yaml; do
  name=$(basename "$file" .yaml)
  node "$splitnet" sweep "$file" --out "$out/$name" "$@"
done
swept=$(date +%s)
for file in "$here"/*.yaml; do
  name=$(basename "$file" .yaml)
  rm -rf "$out/$name/figures"
  # The report lists the plots it leaves out (no drops anywhere, say) on stderr: expected, not worth the noise here.
  node "$splitnet" report "$out/$name" --figures "$out/$name/figures" 2>/dev/null
done
# The committed figures are copies of this run's: refreshing them makes a changed result show in git diff.
refreshed=0
for fig in "$here"/figures/*.svg; do
  [ -e "$fig" ] || continue
  base=$(basename "$fig" .svg)
  source="$out/${base%%.*}/figures/${base#*.}.svg"
  if [ ! -e "$source" ]; then
    echo "paper: $fig: no figure ${base#*.} in $out/${base%%.*}/figures/ (renamed or no longer drawn?)" >&2
    exit 1
  fi
  cp "$source" "$fig"
  refreshed=$((refreshed + 1))
done
end=$(date +%s)
echo "paper: every sweep done in $((swept - start)) s, reports in $((end - swept)) s; tables in $out/*/table.csv, reports in $out/*/report.html, figures in $out/*/figures/ ($refreshed embedded in EXPERIMENTS.md refreshed under $here/figures/)"
