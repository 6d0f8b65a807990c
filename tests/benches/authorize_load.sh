#!/usr/bin/env bash
# Runs the AuthorizeReturn benchmark on both stores, as recorded in BENCHMARKS.md. Extra arguments
# go to every run (e.g. --duration-secs 20). Results land in target/bench/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-target/bench}
mkdir -p "$out"
command -v pgbench >/dev/null || { echo "pgbench missing: apt-get install postgresql-client" >&2; exit 1; }
cargo bench --no-run -p returnbridge-tests --bench authorize-load
# Numbers taken while the 2-core box compiles something else are noise: wait up to 10 minutes for
# a 1-minute load average under 1.
for _ in $(seq 60); do
    awk '{ exit !($1 < 1.0) }' /proc/loadavg && break
    sleep 10
done
{ date -u; echo "nproc: $(nproc)"; free -h; uptime; } | tee "$out/machine.txt"
for db in sqlite postgres; do
    cargo bench -q -p returnbridge-tests --bench authorize-load -- --database "$db" --diagnostics "$@" \
        2> >(tee "$out/$db.progress" >&2) | tee "$out/$db.md"
done
