#!/usr/bin/env bash
# The README's first command as a new user meets it: a fresh clone of this repository, every
# cache empty (install cache, Go module and build caches, Maven repository, npm cache) under
# /tmp/cold-demo, ports shifted so that a running stack is not disturbed; then `npm ci` and
# `npm run demo`. Prints NPM_CI_SECONDS, DEMO_SECONDS and DEMO_EXIT; the demo's output goes to
# /tmp/cold-demo/demo.log.
set -u
root=/tmp/cold-demo
rm -rf "$root" && mkdir -p "$root"
# shellcheck source=stack/cold-env.sh
. "$(dirname "$0")/cold-env.sh"
git clone -q "$(cd "$(dirname "$0")/.." && pwd)" "$root/clone" && cd "$root/clone" || exit 1
s=$(date +%s); npm ci --no-audit --no-fund >"$root/npm-ci.log" 2>&1; e=$(date +%s); echo "NPM_CI_SECONDS=$((e-s))"
s=$(date +%s); npm run demo >"$root/demo.log" 2>&1; code=$?; e=$(date +%s)
echo "DEMO_SECONDS=$((e-s))"
echo "DEMO_EXIT=$code"
node bin/aiops.js stack down >/dev/null 2>&1
