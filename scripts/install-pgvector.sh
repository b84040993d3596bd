#!/usr/bin/env bash
# Make `CREATE EXTENSION vector` work in the local PostgreSQL (Debian 12).
#
# Debian 12 (bookworm) ships no pgvector package, so this script builds the
# pgvector source package from Debian 13 (trixie) against the local server:
#
#   1. fast path: exit 0 if the `vector` extension is already available;
#   2. make sure the local cluster is running (pg_ctlcluster);
#   3. add a trixie *deb-src only* entry (own file in /etc/apt/sources.list.d/,
#      same mirror as the existing Debian sources) -- no trixie binaries can
#      ever be installed through it;
#   4. install build deps (postgresql-server-dev-<major>, gcc, make, dpkg-dev);
#   5. `apt-get source pgvector/trixie`, `make && make install` with the
#      server's own pg_config;
#   6. verify: CREATE EXTENSION, a distance query, an HNSW index and
#      `SET hnsw.iterative_scan` in a scratch database.
#
# Idempotent, non-interactive, safe to call from `make test` every time.
#
# Environment overrides (all optional):
#   PGHOST (127.0.0.1)  PGPORT (5432)  PGUSER (postgres)
#   PGVECTOR_SOURCE_SUITE (trixie)   Debian suite to take the source from
#   PGVECTOR_FORCE=1                 skip the fast path, rebuild + reinstall
set -euo pipefail

export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}"
SUITE="${PGVECTOR_SOURCE_SUITE:-trixie}"
SRC_FILE="/etc/apt/sources.list.d/mnemo-pgvector-${SUITE}-src.sources"
LOCK_FILE="${TMPDIR:-/tmp}/mnemo-install-pgvector.lock"

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

log() { printf '[install-pgvector] %s\n' "$*" >&2; }
die() { printf '[install-pgvector] ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else via non-interactive sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n --preserve-env=DEBIAN_FRONTEND "$@" \
            || die "'sudo -n $1 ...' failed (root or passwordless sudo required)"
    else
        die "need root for '$1' but not root and sudo is not installed"
    fi
}

q() { psql -X -q -v ON_ERROR_STOP=1 -d "${1}" -tAc "${2}"; }

vector_available() {
    [ "$(q postgres "select 1 from pg_available_extensions where name='vector'" 2>/dev/null)" = "1" ]
}

# ---------------------------------------------------------------- 1. fast path
command -v psql >/dev/null 2>&1 || die "psql not found (install postgresql-client)"
if [ "${PGVECTOR_FORCE:-0}" != "1" ] && vector_available; then
    log "pgvector already available -- nothing to do"
    exit 0
fi

# Serialise concurrent runs (e.g. parallel make targets); re-check afterwards.
if command -v flock >/dev/null 2>&1 && { exec 9>>"$LOCK_FILE"; } 2>/dev/null; then
    flock -w 1800 9 || die "timed out waiting for lock $LOCK_FILE"
    if [ "${PGVECTOR_FORCE:-0}" != "1" ] && vector_available; then
        log "pgvector became available while waiting for the lock -- done"
        exit 0
    fi
fi

START_TS=$(date +%s)

# ------------------------------------------------ 2. PostgreSQL must be running
ensure_running() {
    pg_isready -q -h "$PGHOST" -p "$PGPORT" && return 0
    command -v pg_lsclusters >/dev/null 2>&1 \
        || die "PostgreSQL is not accepting connections on $PGHOST:$PGPORT and pg_lsclusters is missing"
    # Prefer the cluster configured for $PGPORT, else the newest version's 'main'.
    local ver name
    read -r ver name < <(pg_lsclusters -h | awk -v p="$PGPORT" '$3==p {print $1, $2; exit}') || true
    if [ -z "${ver:-}" ]; then
        ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
        name=main
    fi
    [ -n "${ver:-}" ] || die "no PostgreSQL cluster found in /etc/postgresql"
    log "starting PostgreSQL cluster $ver/$name"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start \
        || die "pg_ctlcluster $ver $name start failed"
    for _ in $(seq 1 30); do
        pg_isready -q -h "$PGHOST" -p "$PGPORT" && return 0
        sleep 1
    done
    die "PostgreSQL $ver/$name did not become ready on $PGHOST:$PGPORT"
}
ensure_running

if [ "${PGVECTOR_FORCE:-0}" != "1" ] && vector_available; then
    log "pgvector available (server was just started) -- done"
    exit 0
fi

# The extension must match the *running* server's major version.
SERVER_NUM=$(q postgres "show server_version_num") \
    || die "cannot connect as $PGUSER@$PGHOST:$PGPORT (trust auth expected)"
PG_MAJOR=$((SERVER_NUM / 10000))
[ "$PG_MAJOR" -ge 13 ] || die "PostgreSQL $PG_MAJOR is too old for pgvector 0.8 (need >= 13)"
log "installing pgvector for PostgreSQL $PG_MAJOR (server_version_num=$SERVER_NUM)"

# ------------------------------------------------------- 3. trixie deb-src entry
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian only"

# Print "URI<TAB>SUITE<TAB>SIGNED-BY" for every enabled binary ('deb') source,
# from both one-line .list files and deb822 .sources files.
list_deb_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '
            { sub(/#.*/, "") }
            $1 != "deb" { next }
            {
                line = $0; sb = ""
                if (match(line, /\[[^]]*\]/)) {
                    opts = substr(line, RSTART + 1, RLENGTH - 2)
                    line = substr(line, 1, RSTART - 1) " " substr(line, RSTART + RLENGTH)
                    n = split(opts, o, /[ \t]+/)
                    for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=/) { sb = o[i]; sub(/^signed-by=/, "", sb) }
                }
                split(line, w, /[ \t]+/)
                # w[1]="deb", w[2]=URI, w[3]=suite (leading blank can shift indices)
                k = 0; for (i = 1; i in w; i++) if (w[i] != "") a[++k] = w[i]
                if (k >= 3) printf "%s\t%s\t%s\n", a[2], a[3], sb
                delete a
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        [ "$f" = "$SRC_FILE" ] && continue
        awk '
            function flush(   i, j, nu, ns, u, s, t) {
                if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
                    nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
                    for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
                        if (u[i] != "" && s[j] != "") printf "%s\t%s\t%s\n", u[i], s[j], signed
                }
                types = uris = suites = enabled = signed = ""; last = ""
            }
            /^#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { if (last == "signed-by") signed = ""; next }   # inline key block / continuation
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
                last = key
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "enabled") enabled = val
                else if (key == "signed-by") signed = val
            }
            END { flush() }' "$f"
    done
}

CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$CODENAME" ] || die "cannot determine the Debian codename from /etc/os-release"
SOURCES=$(list_deb_sources || true)
# The main archive entry is the one whose suite is exactly the codename
# (not -security / -updates / -backports); fall back to -updates, then any
# URI that looks like a Debian archive (…/debian).
pick() { awk -F'\t' "$1" <<<"$SOURCES" | head -n1; }
ENTRY=$(pick "\$2 == \"$CODENAME\" && \$1 !~ /security/")
[ -n "$ENTRY" ] || ENTRY=$(pick "\$2 == \"$CODENAME-updates\"")
[ -n "$ENTRY" ] || ENTRY=$(pick '$1 ~ /\/debian\/?$/')
[ -n "$ENTRY" ] || die "no Debian mirror for '$CODENAME' found in /etc/apt/sources.list{,.d/*}"
MIRROR=$(cut -f1 <<<"$ENTRY")
SIGNED_BY=$(cut -f3 <<<"$ENTRY")
if [ -z "$SIGNED_BY" ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    SIGNED_BY=/usr/share/keyrings/debian-archive-keyring.gpg
fi
log "using mirror $MIRROR (from the existing '$CODENAME' apt source)"

WANT_SRC="# Managed by mnemo scripts/install-pgvector.sh: Debian $SUITE *source* packages
# only (for 'apt-get source pgvector'). deb-src only, so no $SUITE binary
# package can be installed through this entry.
Types: deb-src
URIs: $MIRROR
Suites: $SUITE
Components: main"
[ -n "$SIGNED_BY" ] && WANT_SRC="$WANT_SRC
Signed-By: $SIGNED_BY"

if [ -f "$SRC_FILE" ] && [ "$(cat "$SRC_FILE")" = "$WANT_SRC" ]; then
    log "deb-src entry already present: $SRC_FILE"
else
    log "writing deb-src entry $SRC_FILE"
    printf '%s\n' "$WANT_SRC" | as_root tee "$SRC_FILE" >/dev/null
    as_root chmod 0644 "$SRC_FILE"
fi

log "apt-get update"
APT_LOG=$(mktemp "${TMPDIR:-/tmp}/pgvector-apt.XXXXXX")
as_root apt-get update -qq -o=Dpkg::Use-Pty=0 >"$APT_LOG" 2>&1 \
    || { tail -n 30 "$APT_LOG" >&2; rm -f "$APT_LOG"; die "apt-get update failed"; }
grep -E '^(W|E):' "$APT_LOG" | sed 's/^/[install-pgvector]   apt: /' >&2 || true
rm -f "$APT_LOG"

# Safety net: the entry must not have exposed any binary package from $SUITE.
if apt-cache policy 2>/dev/null | grep -Eq "^ +[0-9-]+ .* ${SUITE}/[a-z-]+ [a-z0-9]+ Packages"; then
    die "apt now lists $SUITE *binary* packages -- refusing to continue (check /etc/apt/sources.list*)"
fi

# ------------------------------------------------------------ 4. build deps
DEPS=(postgresql-server-dev-"$PG_MAJOR" gcc make libc6-dev dpkg-dev)
MISSING=()
for p in "${DEPS[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || MISSING+=("$p")
done
if [ "${#MISSING[@]}" -gt 0 ]; then
    log "installing build deps: ${MISSING[*]}"
    APT_LOG=$(mktemp "${TMPDIR:-/tmp}/pgvector-apt.XXXXXX")
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends -o=Dpkg::Use-Pty=0 "${MISSING[@]}" >"$APT_LOG" 2>&1 \
        || { tail -n 30 "$APT_LOG" >&2; rm -f "$APT_LOG"; die "apt-get install ${MISSING[*]} failed"; }
    rm -f "$APT_LOG"
else
    log "build deps already installed"
fi

PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
[ -x "$PG_CONFIG" ] || die "$PG_CONFIG not found (postgresql-server-dev-$PG_MAJOR broken?)"
PGXS_GLOBAL="$(dirname "$("$PG_CONFIG" --pgxs)")/../Makefile.global"
[ -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ] \
    || die "server headers missing for PostgreSQL $PG_MAJOR"

# JIT bitcode needs the exact clang PostgreSQL was built with (Debian pulls it
# in as a dependency of postgresql-server-dev-*). Without it, skip the bitcode:
# the extension works the same, only JIT inlining of its functions is lost.
MAKE_ARGS=(PG_CONFIG="$PG_CONFIG" OPTFLAGS="")
CLANG_BIN=$(awk -F'=' '/^CLANG[ \t]*=/ {gsub(/[ \t]/, "", $2); print $2}' "$PGXS_GLOBAL" 2>/dev/null || true)
if grep -Eq '^with_llvm[ \t]*=[ \t]*yes' "$PGXS_GLOBAL" 2>/dev/null \
        && ! { [ -n "$CLANG_BIN" ] && command -v "$CLANG_BIN" >/dev/null 2>&1; }; then
    log "clang (${CLANG_BIN:-?}) not available: building without JIT bitcode (with_llvm=no)"
    MAKE_ARGS+=(with_llvm=no)
fi

# -------------------------------------------------------- 5. fetch + build
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgvector-build.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
# apt's download sandbox user must be able to write into the target dir.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chmod 0755 "$WORK"; chown _apt "$WORK"
fi

log "apt-get source pgvector/$SUITE"
( cd "$WORK" && apt-get source -qq -o=Dpkg::Use-Pty=0 "pgvector/$SUITE" ) >"$WORK/source.log" 2>&1 \
    || { cat "$WORK/source.log" >&2; die "apt-get source pgvector/$SUITE failed"; }
SRC_DIR=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
[ -n "$SRC_DIR" ] && [ -f "$SRC_DIR/Makefile" ] || { cat "$WORK/source.log" >&2; die "unpacked pgvector source not found"; }
log "building $(basename "$SRC_DIR") (${MAKE_ARGS[*]})"

# OPTFLAGS="" (as Debian's own package does) avoids upstream's -march=native,
# so the result also runs on a different CPU if this machine is imaged.
make -C "$SRC_DIR" -j"$(nproc 2>/dev/null || echo 2)" "${MAKE_ARGS[@]}" >"$WORK/build.log" 2>&1 \
    || { tail -n 40 "$WORK/build.log" >&2; die "make failed"; }
as_root make -C "$SRC_DIR" "${MAKE_ARGS[@]}" install >"$WORK/install.log" 2>&1 \
    || { tail -n 40 "$WORK/install.log" >&2; die "make install failed"; }
log "installed into $("$PG_CONFIG" --pkglibdir) and $("$PG_CONFIG" --sharedir)/extension"

# ------------------------------------------------------------- 6. verify
CHECK_DB="mnemo_pgvector_check_$$"
drop_check_db() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $CHECK_DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap 'drop_check_db; cleanup' EXIT

vector_available || die "installed, but PostgreSQL does not list 'vector' in pg_available_extensions"
q postgres "CREATE DATABASE $CHECK_DB" >/dev/null || die "cannot create scratch database $CHECK_DB"
OUT=$(psql -X -q -v ON_ERROR_STOP=1 -d "$CHECK_DB" -tA <<'SQL' 2>&1
CREATE EXTENSION IF NOT EXISTS vector;
SELECT 'version=' || extversion FROM pg_extension WHERE extname = 'vector';
SELECT 'cosine_distance=' || round(('[1,2,3]'::vector <=> '[1,2,4]'::vector)::numeric, 6);
CREATE TABLE t (id int PRIMARY KEY, embedding vector(3));
INSERT INTO t SELECT i, ARRAY[i, i % 7, i % 3 + 1]::real[]::vector FROM generate_series(1, 200) i;
CREATE INDEX t_hnsw ON t USING hnsw (embedding vector_cosine_ops);
SET hnsw.iterative_scan = relaxed_order;
SELECT 'iterative_scan=' || current_setting('hnsw.iterative_scan');
SET enable_seqscan = off;
SELECT 'hnsw_nearest_id=' || id FROM t ORDER BY embedding <=> '[1,1,2]' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY embedding <=> '[1,1,2]' LIMIT 1;
SQL
) || { printf '%s\n' "$OUT" >&2; die "verification SQL failed"; }
printf '%s\n' "$OUT" | sed 's/^/[install-pgvector]   /' >&2
grep -q '^cosine_distance=0\.0' <<<"$OUT" || die "unexpected cosine distance result"
grep -q 'Index Scan using t_hnsw' <<<"$OUT" || die "HNSW index was not created / not used"
grep -q '^iterative_scan=relaxed_order' <<<"$OUT" || die "hnsw.iterative_scan not accepted"

log "OK: pgvector $(sed -n 's/^version=//p' <<<"$OUT") works (took $(( $(date +%s) - START_TS ))s)"
