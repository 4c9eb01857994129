# Dossier — the two commands a new user types are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: all deps build release demo test bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## Build in release mode and run the whole story on a throwaway vault.
demo: release
	@scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)/dossier"

## Run every test (unit, vectors, end to end through the built binary).
test: deps
	$(SWIFT) build
	$(SWIFT) test

## Benchmarks (release build; not part of `make test`).
bench:
	@DOSSIER_BENCH_DEPS=1 scripts/install-deps.sh
	$(SWIFT) build -c release
	@scripts/bench.sh "$$($(SWIFT) build -c release --show-bin-path)/dossier"

clean:
	rm -rf .build
