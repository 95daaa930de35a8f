# Hookline: `make run` serves the dashboard, `make test` runs every test.
# Both install what is missing first and skip what is already there.
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
export PATH := $(HOME)/.cargo/bin:$(or $(HOOKLINE_TOOLS_DIR),$(HOME)/.cache/hookline-tools)/node_modules/.bin:$(PATH)

.PHONY: run dev test chaos tools test-deps site site-release build build-release unit e2e lint fmt clean

## run: build in release mode and serve on http://127.0.0.1:3000 (SQLite under ./data/)
run: tools site-release build-release
	cd $(ROOT) && exec $(TARGET_DIR)/release/hookline serve

## dev: the same with a debug build (faster to compile)
dev: tools site build
	cd $(ROOT) && exec $(TARGET_DIR)/debug/hookline serve

## test: unit and integration tests on SQLite and Postgres, then Playwright in Chromium
test: tools test-deps site build
	scripts/with-postgres.sh cargo test -p app --features ssr
	scripts/with-postgres.sh cargo test -p server
	scripts/schemathesis.sh
	scripts/generated-client.sh
	scripts/with-postgres.sh scripts/compose-check.sh
	scripts/with-postgres.sh scripts/e2e.sh

## chaos: the fault-and-abuse suite at full size, on SQLite and Postgres, with its table
chaos: tools test-deps build
	scripts/chaos.sh

tools:
	@scripts/install-tools.sh

test-deps:
	@scripts/install-test-deps.sh

site:
	scripts/build-site.sh debug

site-release:
	scripts/build-site.sh release

build:
	cargo build -p server

build-release:
	cargo build -p server --release

## lint: rustfmt and clippy for the server (ssr) and the browser (wasm32) builds
lint:
	cargo fmt --all -- --check
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p server --all-targets -- -D warnings
	cargo clippy -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all

clean:
	rm -rf target/site
