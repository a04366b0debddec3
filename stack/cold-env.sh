# Sourced by the cold measurements: every cache under "$root" (install cache, Go module and build
# caches, Maven repository, npm cache) and every port shifted, so a running stack is not disturbed.
export AIOPS_CACHE_DIR=$root/cache AIOPS_STACK_HOME=$root/home
export GOMODCACHE=$root/gomod GOCACHE=$root/gocache GOPATH=$root/gopath
export MAVEN_OPTS="-Dmaven.repo.local=$root/m2"
export npm_config_cache=$root/npmcache
for v in KAFKA_BROKER:39092 KAFKA_CONTROLLER:39094 OTELCOL_GRPC:34317 OTELCOL_HTTP:34318 OTELCOL_PROMETHEUS:38889 OTELCOL_HEALTH:33133 OTELCOL_TELEMETRY:38888 JAEGER_QUERY:36686 JAEGER_QUERY_GRPC:36685 JAEGER_OTLP_GRPC:34417 JAEGER_OTLP_HTTP:34418 JAEGER_HEALTH:33134 JAEGER_TELEMETRY:34269 PROMETHEUS_HTTP:39090 ALERTMANAGER_HTTP:39093 INFLUXDB_HTTP:38086 PLATFORM_INGEST:39464 PLATFORM_EVALUATE:39465 PLATFORM_SINKS:39466; do
  export "AIOPS_STACK_${v%%:*}_PORT=${v##*:}"
done
