# spark-ts: thin targets over scripts/setup.sh and the `spark-ts` command (bin/spark-ts).
SHELL := /bin/bash
SPARK_TS := ./bin/spark-ts
MOCHA := node_modules/.bin/mocha
TSC := node_modules/.bin/tsc

.PHONY: preprocess stream dashboard cdc cache-bench bench performance-doc setup up down status spark-up spark-down kafka-up kafka-down postgres-up postgres-down connect-up connect-down typecheck test test-unit test-integration lint format-check test-check run clean cluster-up cluster-down test-cluster

setup:
	@bash scripts/setup.sh

up: setup
	@$(SPARK_TS) up
down:
	@$(SPARK_TS) down
status:
	@$(SPARK_TS) status
spark-up: setup
	@$(SPARK_TS) up spark
spark-down:
	@$(SPARK_TS) down spark
kafka-up: setup
	@$(SPARK_TS) up kafka
kafka-down:
	@$(SPARK_TS) down kafka
# The CDC source (lib/cdc/README.md): PostgreSQL and Kafka Connect with Debezium.
postgres-up: setup
	@$(SPARK_TS) up postgres
postgres-down:
	@$(SPARK_TS) down postgres
connect-up: setup
	@$(SPARK_TS) up connect
connect-down:
	@$(SPARK_TS) down connect
# A local rehearsal of a cluster (docs/cluster.md): Spark standalone master + WORKERS workers with the Connect
# server as driver, and BROKERS replicated Kafka brokers. Jobs then run with --master spark://127.0.0.1:7077.
cluster-up: setup
	@$(SPARK_TS) up --workers $(or $(WORKERS),2) --brokers $(or $(BROKERS),3)
cluster-down:
	@$(SPARK_TS) down

typecheck: setup
	@$(TSC) --noEmit -p .

# The whole suite against real servers: it starts what is not running and stops what it started.
# First the checks that need no server: types, lint (with the layer rules), formatting (prettier), and that no
# test script runs zero tests. The test selection lives in package.json: test = test/unit + test/integration,
# test:unit, test:integration.
test: setup typecheck lint format-check test-check
	@npm run -s test

test-unit: setup
	@npm run -s test:unit

test-integration: setup
	@npm run -s test:integration

lint: setup
	@npm run -s lint

format-check: setup
	@npm run -s format:check

test-check: setup
	@npm run -s test:check

# The cluster acceptance alone (a 2-worker Spark cluster and 3 Kafka brokers; make test runs it too unless
# SPARK_TS_SKIP_CLUSTER_TESTS=1).
test-cluster: setup
	@$(MOCHA) test/integration/cluster.test.ts

# Challenge 1: clean, impute, de-duplicate, scale (ARGS='--input PATH --output DIR').
preprocess: setup
	@$(SPARK_TS) submit preprocess $(ARGS)

# make cdc, cache-bench and bench are each a `spark-ts submit` of their job (ARGS='--help' lists a job's options);
# make stream is not: it runs the streaming demonstration below.
# Challenge 2 demo: producer + streaming job + live view for DURATION (default 60s, RATE, SENSORS), then all
# stop. The job alone: ./bin/spark-ts submit stream -- --help
stream: setup
	@node -r ts-node/register/transpile-only lib/dashboard/running.ts
	@node -r ts-node/register/transpile-only scripts/stream-demo.ts $(ARGS)
# Live dashboard in the browser on http://127.0.0.1:4050/ (ARGS='--port 4051 --history 10m'); see lib/dashboard/README.md.
dashboard: setup
	@$(SPARK_TS) dashboard $(ARGS)
# Challenge 3: PostgreSQL → Debezium → the exact incremental model (ARGS='--updates 5000'; ARGS=--simulated: the simulated producer).
cdc: setup
	@$(SPARK_TS) submit cdc $(ARGS)
# Challenge 4: caching measured; reports/cache-bench.{json,csv,svg} (ARGS='--rows 1000000 --iterations 3 --modes none,MEMORY_ONLY,parquet').
cache-bench: setup
	@$(SPARK_TS) submit cache-bench $(ARGS)
# The suite, then docs/performance.md rewritten from its results (make performance-doc: from the newest run).
bench: setup
	@$(SPARK_TS) submit bench $(ARGS)
	@node -r ts-node/register/transpile-only scripts/performance-doc.ts
performance-doc: setup
	@node -r ts-node/register/transpile-only scripts/performance-doc.ts

run: setup
	@bash scripts/run.sh

clean:
	-@$(SPARK_TS) down 2>/dev/null
	rm -rf .run data/processed/customers data/processed/*.json data/processed/*.csv data/processed/quarantine data/checkpoints reports models
