#!/usr/bin/env bash
# The README's first command as a new user meets it: a fresh clone of this repository, every
# cache empty (install cache, Go module and build caches, Maven repository, npm cache) under
# /tmp/cold-demo, ports shifted so that a running stack is not disturbed; then `npm ci` and
# `npm run demo`. Prints NPM_CI_SECONDS, DEMO_SECONDS and DEMO_EXIT; the demo's output goes to
# /tmp/cold-demo/demo.log.
set -u
root=/tmp/cold-demo
rm -rf "$root" && mkdir -p "$root"
export AIOPS_CACHE_DIR=$root/cache AIOPS_STACK_HOME=$root/home
export GOMODCACHE=$root/gomod GOCACHE=$root/gocache GOPATH=$root/gopath
export MAVEN_OPTS="-Dmaven.repo.local=$root/m2"
export npm_config_cache=$root/npmcache
for v in KAFKA_BROKER:39092 KAFKA_CONTROLLER:39094 OTELCOL_GRPC:34317 OTELCOL_HTTP:34318 OTELCOL_PROMETHEUS:38889 OTELCOL_HEALTH:33133 OTELCOL_TELEMETRY:38888 JAEGER_QUERY:36686 JAEGER_QUERY_GRPC:36685 JAEGER_OTLP_GRPC:34417 JAEGER_OTLP_HTTP:34418 JAEGER_HEALTH:33134 JAEGER_TELEMETRY:34269 PROMETHEUS_HTTP:39090 ALERTMANAGER_HTTP:39093 INFLUXDB_HTTP:38086 PLATFORM_INGEST:39464 PLATFORM_EVALUATE:39465 PLATFORM_SINKS:39466; do
  export "AIOPS_STACK_${v%%:*}_PORT=${v##*:}"
done
git clone -q "$(cd "$(dirname "$0")/.." && pwd)" "$root/clone" && cd "$root/clone" || exit 1
s=$(date +%s); npm ci --no-audit --no-fund >"$root/npm-ci.log" 2>&1; e=$(date +%s); echo "NPM_CI_SECONDS=$((e-s))"
s=$(date +%s); npm run demo >"$root/demo.log" 2>&1; code=$?; e=$(date +%s)
echo "DEMO_SECONDS=$((e-s))"
echo "DEMO_EXIT=$code"
node bin/aiops.js stack down >/dev/null 2>&1
