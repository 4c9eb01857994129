# Dossier — the two commands a new user types are `make demo` and `make test`.
SWIFT ?= swift
## Release builds carry the Swift runtime and Foundation inside the binary: it starts faster (no
## dynamic linking of the Swift libraries) and runs on a machine with only Debian's libsodium,
## SQLite and libcurl, without a Swift toolchain.
RELEASE = -c release --static-swift-stdlib

.PHONY: all deps build release demo demo-postgres test crash-test bench load-test clean
.PHONY: install uninstall

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE)

## Build in release mode and run the whole story on a throwaway vault.
demo: release
	@scripts/demo.sh "$$($(SWIFT) build $(RELEASE) --show-bin-path)/dossier"

## The same story on a throwaway PostgreSQL cluster (scripts/pg-cluster.sh run: a free loopback
## port, a temporary directory, stopped afterwards), the vault in its database, with the roles
## of docs/deployment.md, section 2: an owner, and Alice, Bob and the service each as their own.
demo-postgres: release
	@scripts/pg-cluster.sh run sh -c 'DOSSIER_DEMO_VAULT="$$DOSSIER_TEST_POSTGRES" DOSSIER_DEMO_ROLES=1 scripts/demo.sh "$$1"' sh \
		"$$($(SWIFT) build $(RELEASE) --show-bin-path)/dossier"

## Run every test: the concurrency test, a short crash test (5 SIGKILLs), the attack suite
## (rows edited with sqlite3 are refused at use and reported), the translated counsel guides
## checked against the English one (headings, code blocks, commands), the failover drill (a
## primary and its synchronous standby, the primary SIGKILLed under load, the standby promoted;
## about 35 s; docs/deployment.md, section 5), then, on a throwaway PostgreSQL
## cluster (scripts/pg-cluster.sh run: a free loopback port, a temporary directory, stopped
## afterwards), the PostgreSQL end-to-end tests, a short crash test on PostgreSQL (5 SIGKILLs)
## and the unit, vector and end-to-end tests of both backends (last, so that their summary
## closes the output).
test: deps
	$(SWIFT) build
	scripts/concurrency-test.sh "$$($(SWIFT) build --show-bin-path)/dossier"
	scripts/crash-test.sh 5 "$$($(SWIFT) build --show-bin-path)/dossier"
	scripts/attack-test.sh "$$($(SWIFT) build --show-bin-path)/dossier"
	scripts/check-guides.sh
	scripts/failover-test.sh "$$($(SWIFT) build --show-bin-path)/dossier"
	scripts/pg-cluster.sh run sh -c 'scripts/postgres-test.sh "$$1" && scripts/crash-test.sh --postgres 5 "$$1" && \
		$(SWIFT) test --disable-swift-testing' sh "$$($(SWIFT) build --show-bin-path)/dossier"

## The full crash test: 200 SIGKILLs, each inside a running dossier operation, on a folder, then
## 50 on a vault in a throwaway PostgreSQL cluster (not part of `make test`; their durations
## are in docs/threat-model.md, promise 7).
crash-test: build
	scripts/crash-test.sh 200 "$$($(SWIFT) build --show-bin-path)/dossier"
	scripts/pg-cluster.sh run scripts/crash-test.sh --postgres 50 "$$($(SWIFT) build --show-bin-path)/dossier"

## Benchmarks (release build; not part of `make test`), the folder against age, then the same
## file and a 100,000-document catalogue through PostgreSQL in a throwaway cluster.
bench:
	@DOSSIER_BENCH_DEPS=1 scripts/install-deps.sh
	$(SWIFT) build $(RELEASE)
	@scripts/pg-cluster.sh run scripts/bench.sh "$$($(SWIFT) build $(RELEASE) --show-bin-path)/dossier"

## Load test of the key-release service: 200 concurrent opens on a folder, then through two
## replicas on one database in a throwaway PostgreSQL cluster (release build; not in `make test`).
load-test: deps
	@scripts/load-test.sh 200
	@scripts/load-test.sh --postgres 200

## `make install PREFIX=DIR` (default /usr/local): the release binary in DIR/bin, a manual page
## per command (from its --help) in DIR/share/man/man1, and bash, zsh and fish completions
## (scripts/install.sh lists the paths); `make uninstall PREFIX=DIR` removes exactly them.
## BUILD=debug builds and installs a debug build instead (minutes quicker to build); BIN=DIR
## installs the dossier already built in DIR, building nothing (the install test does: inside
## `swift test` a nested build would wait for the test run's own lock on .build).
PREFIX ?= /usr/local
BUILD ?= release
install:
	@if [ -z "$(BIN)" ]; then $(MAKE) -s deps && $(SWIFT) build $(if $(filter debug,$(BUILD)),,$(RELEASE)) --product dossier; fi
	@scripts/install.sh install "$(PREFIX)" "$(or $(BIN),$$($(SWIFT) build $(if $(filter debug,$(BUILD)),,$(RELEASE)) --show-bin-path))"

uninstall:
	@scripts/install.sh uninstall "$(PREFIX)"

clean:
	rm -rf .build
