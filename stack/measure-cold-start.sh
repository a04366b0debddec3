#!/usr/bin/env bash
# Measures a cold and a warm `aiops stack up` with every cache empty (install cache, Go module
# and build caches, Maven repository, npm cache) under /tmp/cold, on shifted ports so that a
# running stack is not disturbed. Prints COLD_UP_SECONDS, WARM_UP_SECONDS, COLD_NPM_CI_SECONDS.
set -u
root=/tmp/cold
rm -rf "$root" && mkdir -p "$root"
# shellcheck source=stack/cold-env.sh
. "$(dirname "$0")/cold-env.sh"
cd "$(dirname "$0")/.."
s=$(date +%s); node bin/aiops.js stack up; e=$(date +%s); echo "COLD_UP_SECONDS=$((e-s))"
node bin/aiops.js stack down
s=$(date +%s); node bin/aiops.js stack up | tail -1; e=$(date +%s); echo "WARM_UP_SECONDS=$((e-s))"
node bin/aiops.js stack down
rm -rf /tmp/cold/npmtest && mkdir -p /tmp/cold/npmtest && cp package.json package-lock.json /tmp/cold/npmtest/ && cd /tmp/cold/npmtest
s=$(date +%s); npm ci --cache /tmp/cold/npmcache --no-audit --no-fund >/dev/null 2>&1; e=$(date +%s); echo "COLD_NPM_CI_SECONDS=$((e-s))"
