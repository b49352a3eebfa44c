# Frontdesk. `make run` serves on the embedded defaults; `make test` runs every test (CI calls it).
GO      ?= go
TAGS    := sqlite_fts5
BIN     := bin/frontdesk
PKGS    := ./...

# go-sqlite3 needs cgo; without it the build succeeds and every query panics.
export CGO_ENABLED := 1
# Build with the Go installed on this machine; go.mod pins modules this Go can build.
export GOTOOLCHAIN := local

.PHONY: build run test test-short bench fuzz lint fmt clean

build:
	$(GO) build -tags $(TAGS) -trimpath -o $(BIN) ./cmd/frontdesk

run: build
	./$(BIN) serve

test:
	$(GO) vet -tags $(TAGS) $(PKGS)
	$(GO) test -tags $(TAGS) -race -count=1 -timeout 9m $(PKGS)

# Quicker feedback while working: no race detector, no browser.
test-short:
	$(GO) test -tags $(TAGS) -short -count=1 $(PKGS)

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./intake/ ./crm/... ./web/ ./bench/
	$(GO) run -tags $(TAGS) ./bench/run

# A longer fuzz run of each target (the seeds run in every `make test`).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME) ./intake/
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) ./intake/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
