# Frontdesk. `make run` serves on the embedded defaults; `make test` runs every test (CI calls it).
GO      ?= go
TAGS    := sqlite_fts5
BIN     := bin/frontdesk
PKGS    := ./...

# go-sqlite3 needs cgo; without it the build succeeds and every query panics.
export CGO_ENABLED := 1
# Build with the Go installed on this machine; go.mod pins modules this Go can build.
export GOTOOLCHAIN := local

.PHONY: build run test test-short test-postgres bench fuzz lint fmt clean screenshots

build:
	$(GO) build -tags $(TAGS) -trimpath -o $(BIN) ./cmd/frontdesk

run: build
	./$(BIN) serve

# axe-core, for the browser tests' accessibility checks (web/pages_test.go), from the npm registry at the
# version package-lock.json pins; node_modules is not committed.
AXE := web/testdata/axe/node_modules/axe-core/axe.min.js
$(AXE): web/testdata/axe/package.json web/testdata/axe/package-lock.json
	npm ci --prefix web/testdata/axe --no-audit --no-fund --loglevel=error
	@touch $@

# Litestream, for the test of the continuous-backup recipe (cmd/frontdesk/litestream_test.go, docs/litestream.yml):
# built from source by go install at the version the recipe is tested with, into bin/ (not committed).
LITESTREAM_VERSION := v0.5.18
LITESTREAM := bin/litestream-$(LITESTREAM_VERSION)/litestream
$(LITESTREAM):
	GOBIN=$(CURDIR)/$(dir $(LITESTREAM)) $(GO) install github.com/benbjohnson/litestream/cmd/litestream@$(LITESTREAM_VERSION)

# A full-page screenshot of every page of the tour, on a phone (390 px) and a laptop (1366 px), for a reviewer
# to look at: docs/screenshots/PAGE-phone.png and PAGE-desktop.png (not committed).
screenshots: $(AXE)
	FRONTDESK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -tags $(TAGS) -count=1 -run '^TestEveryPageFitsBothWidthsAndPassesAxe$$' ./web/
	@echo "screenshots in docs/screenshots/"

# The store tests (./db) run twice: on SQLite, and on PostgreSQL (FRONTDESK_TEST_ENGINE=postgres), which
# skips without FRONTDESK_TEST_POSTGRES on a laptop and fails without it in CI. The PostgreSQL run goes beside
# the main one, its output printed after it: the web package, the longest, leaves the second core mostly idle,
# and each test makes a database of its own on the server.
test: SHELL := /bin/bash
test: export FRONTDESK_TEST_LITESTREAM := $(CURDIR)/$(LITESTREAM)
test: $(AXE) $(LITESTREAM)
	$(GO) vet -tags $(TAGS) $(PKGS)
	@log=$$(mktemp); \
	FRONTDESK_TEST_ENGINE=postgres $(GO) test -tags $(TAGS) -count=1 -timeout 5m ./db/ >"$$log" 2>&1 & pg=$$!; \
	echo "$(GO) test -tags $(TAGS) -race -count=1 -timeout 9m $(PKGS)"; \
	$(GO) test -tags $(TAGS) -race -count=1 -timeout 9m $(PKGS); rc=$$?; \
	wait $$pg; pgrc=$$?; \
	echo "FRONTDESK_TEST_ENGINE=postgres $(GO) test -tags $(TAGS) -count=1 -timeout 5m ./db/"; cat "$$log"; rm -f "$$log"; \
	[ $$rc -eq 0 ] && [ $$pgrc -eq 0 ]

# `make test` runs the PostgreSQL tests too when FRONTDESK_TEST_POSTGRES names a server (`eval
# "$(.ci/postgres-start)"` starts a throwaway one; .ci/run does); without it they skip. This runs only those: the
# store tests on PostgreSQL and every test named *Postgres*, on a throwaway cluster started and deleted here
# unless FRONTDESK_TEST_POSTGRES is set.
PG_RUN ?= Postgres
test-postgres: SHELL := /bin/bash
test-postgres:
	@if [ -z "$$FRONTDESK_TEST_POSTGRES" ]; then \
		pg_env=$$(.ci/postgres-start) || exit 1; eval "$$pg_env"; trap '.ci/postgres-stop' EXIT; \
	fi; \
	FRONTDESK_TEST_ENGINE=postgres $(GO) test -tags $(TAGS) -count=1 ./db/ && \
	$(GO) test -tags $(TAGS) -count=1 -run '$(PG_RUN)' $(PKGS)

# Quicker feedback while working: no race detector, no browser.
test-short:
	$(GO) test -tags $(TAGS) -short -count=1 $(PKGS)

# The Go micro-benchmarks, then bench/run: intake under load beside the minimal ceiling server, memory,
# start-up, staff reads and exports at BENCH_N enquiries, and the mail drain (docs/performance.md). The first
# run makes data/bench-$(BENCH_N).db with bench/gen and keeps it for later runs. Intake and the large database
# are measured on PostgreSQL too: on BENCH_POSTGRES (a superuser's URL) when set, else on a throwaway cluster
# started here when PostgreSQL's server binaries are installed (BENCH_POSTGRES=off skips it). A quick run:
#   make bench BENCH_N=100000 BENCH_SECONDS=10
BENCH_N       ?= 1000000
BENCH_SECONDS ?= 30
bench: SHELL := /bin/bash
bench: .SHELLFLAGS := -o pipefail -c
bench:
	@mkdir -p bench/out
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./intake/ ./crm/... ./db/ ./web/ ./bench/ | tee bench/out/micro.txt
	@if [ "$$BENCH_POSTGRES" = off ]; then export BENCH_POSTGRES=; \
	elif [ -z "$$BENCH_POSTGRES" ] && pg_env=$$(.ci/postgres-start 2>/dev/null); then \
		eval "$$pg_env"; trap '.ci/postgres-stop' EXIT; export BENCH_POSTGRES=$$FRONTDESK_TEST_POSTGRES; \
	fi; \
	$(GO) run -tags $(TAGS) ./bench/run -n $(BENCH_N) -seconds $(BENCH_SECONDS)

# A longer fuzz run of each target (the seeds run in every `make test`).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME) ./intake/
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzFromForm$$' -fuzztime $(FUZZTIME) ./intake/
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) ./intake/
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzNormalise$$' -fuzztime $(FUZZTIME) ./intake/
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzRiskLanguage$$' -fuzztime $(FUZZTIME) ./intake/screening/
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzIntakeEndpoints$$' -fuzztime $(FUZZTIME) ./web/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
