# ticketdb — the two entry points are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TICKETS ?= 200000
# PORT: the sandbox's TCP port on 127.0.0.1 (default: a free one, remembered); CLIENTS: bench's
# workflow_throughput client levels, e.g. CLIENTS=1,4 (default: 1,4,16)
PORT    ?=
CLIENTS ?=
OUT    ?= benchmarks/out

.PHONY: demo test lint venv deps sandbox redis clean docs bench-readme bench-reference bench-online-alter bench-vip

deps:
	@bash scripts/system-deps.sh

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

venv: $(BIN)/.installed

sandbox: deps venv
	$(BIN)/ticketdb sandbox start $(if $(PORT),--port $(PORT))

## redis: the VIP cache needs one on $(REDIS_URL); start a throwaway one when nothing answers
REDIS_URL ?= redis://127.0.0.1:6379/0
redis: deps venv
	@$(BIN)/python -c "import redis,sys; redis.Redis.from_url('$(REDIS_URL)').ping()" 2>/dev/null \
	  || redis-server --daemonize yes --bind 127.0.0.1 --port $$(echo $(REDIS_URL) | sed -E 's|.*:([0-9]+).*|\1|') --save '' --appendonly no

## demo: sandbox server, migrations, a seeded dataset and a benchmark report (TICKETS=1000000 for the full run,
##       PORT=3307 for the sandbox's port, CLIENTS=1,4 for the workflow client levels)
demo: sandbox redis
	$(BIN)/ticketdb migrate up
	$(BIN)/ticketdb doctor
	$(BIN)/ticketdb lint
	TICKETDB_REDIS_URL=$(REDIS_URL) $(BIN)/ticketdb bench --database ticketdb --tickets $(TICKETS) \
	  --repeat 20 $(if $(CLIENTS),--clients $(CLIENTS)) \
  --json $(OUT)/bench.json --markdown $(OUT)/bench.md --plot $(OUT)/bench.png
	$(BIN)/ticketdb drift
	$(BIN)/ticketdb report overdue
	@echo "report: $(OUT)/bench.md  plot: $(OUT)/bench.png"

lint: venv
	$(BIN)/ruff check ticketdb tests migrations benchmarks
	$(BIN)/ticketdb lint

## test: everything CI runs — system packages, venv, lint, the full pytest suite on sandbox servers;
##       TEST_WORKERS: pytest-xdist workers, each with its own sandbox (most tests wait on timeouts,
##       server starts and fsync rather than compute; 0 runs the suite in one process)
TEST_WORKERS ?= 2
test: deps venv lint
	$(BIN)/python -m pytest -ra -n $(TEST_WORKERS)

## docs: regenerate both generated docs (docs/cli.md and the rule reference in docs/lint.md)
docs: venv
	$(BIN)/python -m ticketdb.cli.reference > docs/cli.md
	$(BIN)/python -m ticketdb.lint.docs

clean:
	-$(BIN)/ticketdb sandbox stop
	rm -rf .ticketdb $(OUT)

## bench-reference: the 1M reference run on both server profiles + README (quiet machine only)
bench-reference: deps venv
	bash scripts/bench-reference.sh

## bench-online-alter: the online_alter scenario alone, 1M tickets, both profiles + README (quiet machine only)
bench-online-alter: deps venv
	SCENARIOS=online_alter NAME=online-alter-1m bash scripts/bench-reference.sh

## bench-vip: the VIP cache scenario (with its follower) alone, 1M tickets, both profiles + README (quiet machine only)
bench-vip: deps venv
	SCENARIOS=vip_open_tickets_cached NAME=vip-1m bash scripts/bench-reference.sh

## bench-readme: benchmarks/README.md from benchmarks/README.template.md and the recorded JSON files
bench-readme: venv
	$(BIN)/python -m ticketdb.bench.readme benchmarks
