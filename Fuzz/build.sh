#!/usr/bin/env bash
# Builds the libFuzzer targets into .build-fuzz/<target>: Fuzz/build.sh [target …] (all by default).
#
# swiftc straight from the sources, outside SwiftPM (Package.swift stays as it is): the library
# modules a target imports (DiscernRules, DiscernEncoder) are compiled once into .build-fuzz/obj and
# .build-fuzz/modules, each with -sanitize=fuzzer,address so that their code is covered and checked;
# the fuzz file then imports them and uses their public API only. The audit's record readers
# (JSONObjectLine, the CSV record reader) live in DiscernAudit, whose module needs Discern and its C++
# language detector: rather than build all of that under the sanitizers, their source is compiled
# into the fuzz binary itself (internal declarations included), from the working tree at build time.
#   FUZZ_OPT   Swift optimization (default -O: bounds and overflow checks stay on; -Onone is ~10× slower)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build-fuzz
SAN=-sanitize=fuzzer,address
OPT=${FUZZ_OPT:--O}
ALL="jsonl csv rules safetensors wordpiece"
TARGETS=${*:-$ALL}
mkdir -p "$OUT/obj/kernels" "$OUT/modules" "$OUT/gen"

say() { echo "fuzz-build: $*" >&2; }

# True when $1 is missing or older than any of the other files.
stale() {
  local target=$1; shift
  [ -e "$target" ] || return 0
  local f
  for f in "$@"; do [ "$f" -nt "$target" ] && return 0; done
  return 1
}

kernels() {
  local lib=$OUT/obj/libCDiscernKernels.a srcs
  srcs=$(ls Sources/CDiscernKernels/*.c Sources/CDiscernKernels/include/*.h)
  stale "$lib" $srcs Fuzz/build.sh || return 0
  say "CDiscernKernels (C, -O2, ASan)"
  rm -f "$OUT"/obj/kernels/*.o
  local c
  for c in Sources/CDiscernKernels/*.c; do
    clang -O2 -g -fsanitize=address,fuzzer-no-link -I Sources/CDiscernKernels/include -c "$c" -o "$OUT/obj/kernels/$(basename "$c" .c).o"
  done
  rm -f "$lib"
  ar rcs "$lib" "$OUT"/obj/kernels/*.o
}

# module NAME SOURCE-DIR [swiftc flags…]: one whole-module object and its .swiftmodule.
module() {
  local name=$1 dir=$2; shift 2
  local srcs
  srcs=$(find "$dir" -name '*.swift' | LC_ALL=C sort)
  stale "$OUT/obj/$name.o" $srcs Fuzz/build.sh || return 0
  say "$name (Swift $OPT, fuzzer coverage, ASan)"
  swiftc -parse-as-library -wmo $OPT -g $SAN -module-name "$name" -I "$OUT/modules" "$@" \
    -emit-module -emit-module-path "$OUT/modules/$name.swiftmodule" -c -o "$OUT/obj/$name.o" $srcs
}

# The declarations the CSV target needs, cut out of DiscernAudit's sources (Fuzz/extract.sh).
extract_csv() {
  local gen=$OUT/gen/CSVRecords.swift
  Fuzz/extract.sh AuditInput AuditInputReader CSVRecordReader CSVQuotes CSV CSVDelimiter RecordKeys AuditError > "$gen.tmp" \
    || { say "cannot cut the CSV reader out of Sources/DiscernAudit"; exit 1; }
  if cmp -s "$gen.tmp" "$gen"; then rm "$gen.tmp"; else mv "$gen.tmp" "$gen"; fi
}

# binary TARGET SOURCES… [flags…]: the fuzz binary.
binary() {
  local target=$1; shift
  say "$target -> $OUT/$target"
  swiftc -parse-as-library -wmo $OPT -g $SAN -use-ld=lld -module-name "Fuzz_$target" -I "$OUT/modules" "$@" -o "$OUT/$target"
  # swiftc leaves the executable's module files in the working directory (the checkout's root).
  rm -f "Fuzz_$target"-*.swiftdoc "Fuzz_$target"-*.swiftmodule "Fuzz_$target"-*.swiftsourceinfo
}

for t in $TARGETS; do
  case $t in
    jsonl)
      stale "$OUT/jsonl" Fuzz/jsonl.swift Sources/DiscernAudit/JSONObjectLine.swift Fuzz/build.sh || continue
      binary jsonl Fuzz/jsonl.swift Sources/DiscernAudit/JSONObjectLine.swift ;;
    csv)
      kernels
      module DiscernEncoder Sources/DiscernEncoder -I Fuzz/modulemap/CDiscernKernels
      # DiscernRules for the did-you-mean of a missing column (Suggestions).
      module DiscernRules Sources/DiscernRules -I Sources/CPCRE2 -I Sources/CYAML
      extract_csv
      stale "$OUT/csv" Fuzz/csv.swift Fuzz/extract.sh "$OUT/gen/CSVRecords.swift" Sources/DiscernAudit/LineReader.swift "$OUT/obj/DiscernEncoder.o" "$OUT/obj/DiscernRules.o" "$OUT/obj/libCDiscernKernels.a" Fuzz/build.sh || continue
      binary csv Fuzz/csv.swift "$OUT/gen/CSVRecords.swift" Sources/DiscernAudit/LineReader.swift \
        -I Fuzz/modulemap/CDiscernKernels -I Sources/CPCRE2 -I Sources/CYAML "$OUT/obj/DiscernEncoder.o" "$OUT/obj/DiscernRules.o" \
        "$OUT/obj/libCDiscernKernels.a" -ldl -lpcre2-8 -lyaml ;;
    rules)
      module DiscernRules Sources/DiscernRules -I Sources/CPCRE2 -I Sources/CYAML
      stale "$OUT/rules" Fuzz/rules.swift "$OUT/obj/DiscernRules.o" Fuzz/build.sh || continue
      binary rules Fuzz/rules.swift -I Sources/CPCRE2 -I Sources/CYAML "$OUT/obj/DiscernRules.o" -lpcre2-8 -lyaml ;;
    safetensors|wordpiece)
      kernels
      module DiscernEncoder Sources/DiscernEncoder -I Fuzz/modulemap/CDiscernKernels
      stale "$OUT/$t" "Fuzz/$t.swift" "$OUT/obj/DiscernEncoder.o" "$OUT/obj/libCDiscernKernels.a" Fuzz/build.sh || continue
      binary "$t" "Fuzz/$t.swift" -I Fuzz/modulemap/CDiscernKernels "$OUT/obj/DiscernEncoder.o" "$OUT/obj/libCDiscernKernels.a" -ldl ;;
    *) say "unknown target '$t' (targets: $ALL)"; exit 2 ;;
  esac
done
