#!/bin/sh
# Runs every sweep of the paper's study in sim: experiments/paper/<name>.yaml → results/paper/<name>/ (resumable: run it again to go on).
# Usage: sh experiments/paper/run-all.sh [extra splitnet sweep flags, e.g. --jobs 2]   (or: npm run paper)
set -e
here=$(dirname "$0")
root=$(cd "$here/../.." && pwd)
start=$(date +%s)
for file in "$here"/*.yaml; do
  name=$(basename "$file" .yaml)
  node "$root/packages/cli/dist/src/main.js" sweep "$file" --out "${PAPER_OUT:-results/paper}/$name" "$@"
done
echo "paper: every sweep done in $(( $(date +%s) - start )) s; tables in ${PAPER_OUT:-results/paper}/*/table.csv"
