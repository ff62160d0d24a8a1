GO ?= go
BIN := bin/msupply-sync

.PHONY: build test demo bench lint clean

build:
	$(GO) build -o $(BIN) .

test:
	$(GO) test ./...

demo: build
	./scripts/demo.sh $(BIN)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin demo
