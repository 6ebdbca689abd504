#!/usr/bin/env bash
# test-durations.sh [FILE...] — refresh tests/durations.tsv, the per-test
# seconds scripts/run-tests.sh starts the tests by (longest first), from the
# times of a run: FILE is a run's times.tsv (default build/test-logs/times.tsv,
# what the last `make test` wrote) or a saved log of `make test` / .ci/run
# (its "PASS plain/test  NNs" lines). `make test-durations` runs it.
#
# A test that passed in FILE gets FILE's time; one that did not run there (a
# filtered run) or failed keeps its old line; a line whose integration test
# is gone is dropped. Times of a run on a quiet machine order best; the
# order is all they decide (a wrong time makes the run longer, never
# weaker: every test still runs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/durations.tsv
[ $# -gt 0 ] || set -- build/test-logs/times.tsv
for f in "$@"; do [ -r "$f" ] || { echo "test-durations: cannot read $f (run make test first)" >&2; exit 2; }; done
new=$(mktemp); trap 'rm -f "$new"' EXIT
awk -v out="$out" '
  FNR == 1 { nf++ }
  # a times.tsv line: pass/test wall cpu pass|fail
  NF == 4 && $4 == "pass" && $1 ~ /\// { t[$1] = $2 "\t" $3; next }
  # a log line: PASS pass/test NNs
  $1 == "PASS" && $2 ~ /^[a-z]+\/[^ ]+$/ && $3 ~ /^[0-9]+s$/ { sub(/s$/, "", $3); t[$2] = $3 "\t-"; next }
  END {
    while ((getline line < out) > 0) {
      if (line ~ /^#/ || line == "") continue
      split(line, f, "\t")
      if (!(f[1] in t)) t[f[1]] = f[2] "\t" (f[3] == "" ? "-" : f[3])
    }
    for (k in t) print k "\t" t[k]
  }' "$@" | while IFS=$'\t' read -r key wall cpu; do
    name=${key#*/}
    case $name in
      *.py|*.sh) [ -e "tests/integration/$name" ] || continue ;;
    esac
    printf '%s\t%s\t%s\n' "$key" "$wall" "$cpu"
  done | sort -t$'\t' -k2,2nr -k1,1 >"$new"
{
  echo "# pass/test	wall seconds	CPU seconds (- = not measured): the order scripts/run-tests.sh"
  echo "# starts tests in (longest first). Refresh from a whole make test run: make test-durations."
  cat "$new"
} >"$out"
echo "test-durations: $(grep -vc '^#' "$out") tests in $out (from $*)"
