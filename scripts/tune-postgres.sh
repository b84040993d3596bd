#!/usr/bin/env bash
# Size the local PostgreSQL's shared_buffers for pgvector (idempotent; restarts the cluster
# only when the setting changes).
#
# PostgreSQL's default shared_buffers is 128MB. At a million memories the HNSW index is
# ~2 GB and the table ~2.6 GB: every namespace-wide search then copies thousands of index
# pages in from the OS cache, and vector search costs ~50 ms instead of ~20 (bench/stores.py,
# docs/postgres.md). pgvector's own advice is to keep the index in shared_buffers; the usual
# rule is a quarter of RAM. This script sets SHARED_BUFFERS (default: a quarter of RAM,
# at most 8GB) with ALTER SYSTEM and restarts the local cluster.
#
#   bash scripts/tune-postgres.sh            # or: make pg-tune
#   SHARED_BUFFERS=2GB bash scripts/tune-postgres.sh
set -euo pipefail

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
log() { printf '[tune-postgres] %s\n' "$*" >&2; }

if [[ -z "${SHARED_BUFFERS:-}" ]]; then
    ram_mb=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
    quarter=$((ram_mb / 4))
    SHARED_BUFFERS="$((quarter < 8192 ? quarter : 8192))MB"
fi

current=$(psql -XAtc "SHOW shared_buffers")
wanted=$(psql -XAtc "SELECT pg_size_pretty(pg_size_bytes('${SHARED_BUFFERS}'))")
have=$(psql -XAtc "SELECT pg_size_pretty(pg_size_bytes('${current}'))")
if [[ "$have" == "$wanted" ]]; then
    log "shared_buffers is already ${current}"
    exit 0
fi
log "shared_buffers ${current} -> ${SHARED_BUFFERS}"
psql -Xqc "ALTER SYSTEM SET shared_buffers = '${SHARED_BUFFERS}'"
version=$(psql -XAtc "SHOW server_version_num")
pg_ctlcluster --skip-systemctl-redirect "$((version / 10000))" main restart
for _ in $(seq 1 30); do
    psql -XAtc "SELECT 1" >/dev/null 2>&1 && break
    sleep 1
done
log "shared_buffers is now $(psql -XAtc 'SHOW shared_buffers')"
