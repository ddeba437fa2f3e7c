# Conveniences for developers; .ci/test is the one command that sets a fresh
# machine up and runs everything.

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build test test-short bench fuzz vet

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/patchbay ./cmd/patchbay

test:
	bash .ci/test

test-short:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

fuzz:
	PATCHBAY_FUZZTIME=30s bash .ci/test
