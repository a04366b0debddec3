#!/usr/bin/env bash
# Smoke test of a Helm release of the platform: every workload rolled out, every platform
# process ready, and records flowing (evaluate has processed input). Used by the release
# workflow after a staging or production deploy; exits non-zero on the first failure.
#   .github/scripts/smoke.sh <namespace> <release> [timeout-seconds]
set -euo pipefail
ns=${1:?namespace}
release=${2:?release}
timeout=${3:-300}

echo "== rollouts of release $release in $ns"
for deploy in $(kubectl -n "$ns" get deploy -l "app.kubernetes.io/instance=$release" -o name); do
  kubectl -n "$ns" rollout status "$deploy" --timeout "${timeout}s"
done

# The image has no shell tools beyond node: probe from inside each platform pod.
probe() { # component port path
  kubectl -n "$ns" exec "deploy/$release-$1" -- node -e "fetch('http://127.0.0.1:$2$3').then(async r => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1) }, e => { console.error(String(e)); process.exit(1) })"
}
for pair in ingest:9464 evaluate:9465 sinks:9466; do
  echo "== $pair /ready"
  probe "${pair%%:*}" "${pair##*:}" /ready >/dev/null
done

echo "== records flow: evaluate has processed input"
deadline=$((SECONDS + timeout))
until probe evaluate 9465 /metrics | grep -E '^aiops_process_events_total\{[^}]*kind="records"[^}]*\} [1-9]' >/dev/null; do
  if (( SECONDS > deadline )); then
    echo "evaluate processed no record within ${timeout}s" >&2
    probe evaluate 9465 /metrics | grep '^aiops_process' >&2 || true
    exit 1
  fi
  sleep 10
done
echo "smoke test passed"
