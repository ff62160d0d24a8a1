GO ?= go
BIN := bin/msupply-sync

.PHONY: build test demo bench chaos lint docs clean

build:
	$(GO) build -o $(BIN) .

test:
	$(GO) test ./...

demo: build
	./scripts/demo.sh $(BIN)

# The performance benchmark of issues 5 and 14: about twenty minutes at full size (-budget, 24 minutes by
# default, bounds the plan; a misjudged one is stopped at 25); go run ./bench -scale 0.01 for a quick check.
bench:
	$(GO) run ./bench -out BENCHMARKS.md

docs:
	$(GO) test ./commands -run TestReferenceIsCurrent -update

# Many seeded fault-injection trials: make chaos TRIALS=1000 (a failing trial prints its CHAOS_SEED).
# A long run taken up again where it stopped, on the same code: CHAOS_SEED_BASE=N CHAOS_LOG=chaos.log
# CHAOS_RESUME=1 make chaos TRIALS=1000 passes over the seeds chaos.log has passed.
TRIALS ?= 100
chaos:
	CHAOS_TRIALS=$(TRIALS) $(GO) test -count=1 -timeout 0 -parallel 2 -run TestChaos ./chaos

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin demo
