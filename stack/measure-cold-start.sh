#!/usr/bin/env bash
# Measures a cold and a warm `aiops stack up` with every cache empty (install cache, Go module
# and build caches, Maven repository, npm cache) under /tmp/cold, on shifted ports so that a
# running stack is not disturbed. Prints COLD_UP_SECONDS, WARM_UP_SECONDS, COLD_NPM_CI_SECONDS.
set -u
rm -rf /tmp/cold && mkdir -p /tmp/cold
export AIOPS_CACHE_DIR=/tmp/cold/cache AIOPS_STACK_HOME=/tmp/cold/home
export GOMODCACHE=/tmp/cold/gomod GOCACHE=/tmp/cold/gocache GOPATH=/tmp/cold/gopath
export MAVEN_OPTS="-Dmaven.repo.local=/tmp/cold/m2"
for v in KAFKA_BROKER:39092 KAFKA_CONTROLLER:39094 OTELCOL_GRPC:34317 OTELCOL_HTTP:34318 OTELCOL_PROMETHEUS:38889 OTELCOL_HEALTH:33133 OTELCOL_TELEMETRY:38888 JAEGER_QUERY:36686 JAEGER_QUERY_GRPC:36685 JAEGER_OTLP_GRPC:34417 JAEGER_OTLP_HTTP:34418 JAEGER_HEALTH:33134 JAEGER_TELEMETRY:34269 PROMETHEUS_HTTP:39090 ALERTMANAGER_HTTP:39093 INFLUXDB_HTTP:38086 PLATFORM_INGEST:39464 PLATFORM_EVALUATE:39465 PLATFORM_SINKS:39466; do
  export "AIOPS_STACK_${v%%:*}_PORT=${v##*:}"
done
cd "$(dirname "$0")/.."
s=$(date +%s); node bin/aiops.js stack up; e=$(date +%s); echo "COLD_UP_SECONDS=$((e-s))"
node bin/aiops.js stack down
s=$(date +%s); node bin/aiops.js stack up | tail -1; e=$(date +%s); echo "WARM_UP_SECONDS=$((e-s))"
node bin/aiops.js stack down
rm -rf /tmp/cold/npmtest && mkdir -p /tmp/cold/npmtest && cp package.json package-lock.json /tmp/cold/npmtest/ && cd /tmp/cold/npmtest
s=$(date +%s); npm ci --cache /tmp/cold/npmcache --no-audit --no-fund >/dev/null 2>&1; e=$(date +%s); echo "COLD_NPM_CI_SECONDS=$((e-s))"
