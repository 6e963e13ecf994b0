#!/usr/bin/env bash
# Runs the fuzz targets (see Fuzz/README.md).
#   Fuzz/run.sh fuzz SECONDS [target …]   build, then fuzz each target for SECONDS
#   Fuzz/run.sh regressions [target …]    run every input under Fuzz/regressions/<target>/ once
#   Fuzz/run.sh smoke [target …]          fuzz 20 s each, then the regressions
#
# Each target fuzzes into its scratch corpus .build-fuzz/corpus/<target>/ (kept between runs; FUZZ_FRESH=1
# starts it over), reading the committed seeds in Fuzz/seeds/<target>/ without writing there. libFuzzer
# runs in fork mode (-fork=1 -ignore_crashes=1): a crash is saved under .build-fuzz/findings/<target>/<time>/
# and fuzzing goes on for the rest of the time. Each crash input is then run again alone and its output
# compared with Fuzz/KNOWN.md: a crash whose output contains a known entry's `match:` text is a known
# finding (reported, expected); any other crash, timeout or out-of-memory is new and fails the run.
# A regression input fails the run when it crashes and is not listed in Fuzz/KNOWN.md, and also when
# it is listed there but no longer crashes (then its entry should go: the bug is fixed).
# Exit status: 0 when nothing new was found, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no   # libFuzzer and ASan report crashes; Swift's backtracer would hang on to the pipe
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
ALL="jsonl csv rules safetensors wordpiece"
OUT=.build-fuzz
mode=${1:-}
shift || true
failed=0
declare -a summary=()

usage() { echo "usage: Fuzz/run.sh fuzz SECONDS [target …] | regressions [target …] | smoke [target …]" >&2; exit 2; }

# The `match:` texts of Fuzz/KNOWN.md, one a line.
known_matches() { sed -n 's/^ *- *match: *`\(.*\)` *$/\1/p' Fuzz/KNOWN.md 2>/dev/null; }
known_inputs() { sed -n 's/^ *- *input: *`\(.*\)` *$/\1/p' Fuzz/KNOWN.md 2>/dev/null; }

# classify TARGET FILE: runs the input once; prints "pass", "known: MATCH" or "new: SUMMARY LINE".
classify() {
  local target=$1 file=$2 log rc
  log=$(timeout 120 "$OUT/$target" -timeout=30 -rss_limit_mb=2048 "$file" 2>&1)
  rc=$?
  [ $rc = 0 ] && { echo pass; return; }
  local m
  while IFS= read -r m; do
    [ -n "$m" ] && grep -qF -- "$m" <<<"$log" && { echo "known: $m"; return; }
  done < <(known_matches)
  local why
  why=$(grep -m1 -E 'Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY:' <<<"$log" || echo "exit $rc")
  echo "new: $why"
}

fuzz_target() {
  local target=$1 seconds=$2
  local corpus=$OUT/corpus/$target findings=$OUT/findings/$target/$(date +%Y%m%d-%H%M%S) log=$OUT/logs/$target.log
  [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$corpus"
  mkdir -p "$corpus" "$findings" "$OUT/logs"
  local dict=()
  [ -f "Fuzz/dict/$target.dict" ] && dict=(-dict="Fuzz/dict/$target.dict")
  echo "== fuzz $target for ${seconds}s (log: $log)"
  "$OUT/$target" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" "${dict[@]}" "$corpus" "Fuzz/seeds/$target" \
    </dev/null >"$log" 2>&1
  local rc=$?
  local last
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
  echo "   $last"
  [ -n "$last" ] || { echo "   libFuzzer did not run (exit $rc); see $log"; tail -5 "$log" | sed 's/^/   /'; failed=1; summary+=("$target: did not run"); return; }
  local new=0 known=0 f verdict
  for f in "$findings"/*; do
    [ -e "$f" ] || continue
    verdict=$(classify "$target" "$f")
    case $verdict in
      pass) echo "   flaky (does not crash alone): $f" ;;
      known:*) known=$((known + 1)); echo "   KNOWN finding ($verdict): $f" ;;
      *) new=$((new + 1)); echo "   NEW FINDING: $f — ${verdict#new: }" ;;
    esac
  done
  [ $new -gt 0 ] && failed=1
  summary+=("$target: $last | new findings: $new, known: $known, scratch corpus: $(ls "$corpus" | wc -l) files")
}

regressions() {
  local target=$1 dir=Fuzz/regressions/$1 f verdict listed
  local -a files=()
  for f in "$dir"/*; do [ -f "$f" ] && [[ $f != *.md ]] && files+=("$f"); done
  [ ${#files[@]} = 0 ] && { summary+=("$target regressions: none"); return; }
  echo "== regressions $target (${#files[@]} inputs)"
  local bad=0 still=0
  for f in "${files[@]}"; do
    verdict=$(classify "$target" "$f")
    listed=no
    known_inputs | grep -qxF -- "$f" && listed=yes
    case $verdict,$listed in
      pass,no) echo "   ok: $f" ;;
      pass,yes) bad=$((bad + 1)); echo "   NOW PASSES (fixed? take its entry out of Fuzz/KNOWN.md): $f" ;;
      known:*,yes) still=$((still + 1)); echo "   STILL CRASHES (known, Fuzz/KNOWN.md): $f" ;;
      *) bad=$((bad + 1)); echo "   CRASHES, NOT IN Fuzz/KNOWN.md: $f — ${verdict#*: }" ;;
    esac
  done
  [ $bad -gt 0 ] && failed=1
  summary+=("$target regressions: ${#files[@]} inputs, $still still crash (known), $bad unexpected")
}

case $mode in
  fuzz)
    seconds=${1:-}; shift || true
    [[ $seconds =~ ^[0-9]+$ ]] || usage
    targets=${*:-$ALL}
    Fuzz/build.sh $targets || exit 1
    for t in $targets; do fuzz_target "$t" "$seconds"; done ;;
  regressions)
    targets=${*:-$ALL}
    Fuzz/build.sh $targets || exit 1
    for t in $targets; do regressions "$t"; done ;;
  smoke)
    targets=${*:-$ALL}
    Fuzz/build.sh $targets || exit 1
    for t in $targets; do fuzz_target "$t" "${FUZZ_SMOKE_SECONDS:-20}"; done
    for t in $targets; do regressions "$t"; done ;;
  *) usage ;;
esac

echo
echo "== summary"
for line in "${summary[@]}"; do echo "   $line"; done
if [ $failed = 0 ]; then echo "   nothing new"; else echo "   FAILED: new findings or unexpected regression results (above)"; fi
exit $failed
