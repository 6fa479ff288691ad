#!/bin/sh
# Runs two builds of float_bits and fails unless their outputs are identical, line for line.
# Usage: compare.sh OUT_DIR REFERENCE_BINARY OTHER_BINARY [EMULATOR ARGS...]
# On a difference it prints the first differing line with its case and both values, then the
# cases that differ (the first 40) and how many of their lines do. Both outputs stay in OUT_DIR.
set -eu
out=$1 ref=$2 other=$3
shift 3
mkdir -p "$out"
"$@" "$ref" >"$out/reference.txt"
"$@" "$other" >"$out/other.txt"
awk -v other="$out/other.txt" -v refname="$(basename "$ref")" -v othername="$(basename "$other")" '
  {
    if ((getline o < other) <= 0) o = "<end of output>"
    if ($0 ~ /^case /) { c = $0; i = -1 } else i++
    if ($0 != o) {
      if (!bad) {
        printf "FAILED: first difference at line %d, %s, value index %d\n", NR, c, i
        printf "  %-24s %s\n  %-24s %s\n", refname ":", $0, othername ":", o
      }
      bad++
      if (!(c in count)) order[++cases] = c
      count[c]++
    }
  }
  END {
    if ((getline o < other) > 0) {
      if (!bad) printf "FAILED: %s prints more lines than %s\n", othername, refname
      bad++
    }
    if (!bad) { printf "float_bits: %d lines identical\n", NR; exit 0 }
    printf "%d differing lines in %d cases:\n", bad, cases
    for (k = 1; k <= cases && k <= 40; k++) printf "  %6d  %s\n", count[order[k]], order[k]
    if (cases > 40) printf "  ... and %d more cases\n", cases - 40
    exit 1
  }' "$out/reference.txt"
