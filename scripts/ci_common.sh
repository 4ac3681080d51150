# Shared helpers for scripts/client_flow.sh and scripts/fuzz.sh. Source it; do not run it.
#
# Provides: log, die, ci_setup_tmp, ci_setup_venv, ci_build_oms, ci_start_oms, ci_token,
# ci_endpoint_token, ci_cleanup (registered as the EXIT trap by ci_setup_tmp).
#
# Environment honoured (all optional):
#   OMS_CI_VENV   reuse (or create once) the Python venv at this path instead of a throwaway one
#   OMS_CI_KEEP   1 = keep the temp dir (server log, database, generated client, reports)
#   OMS_BIN       the oms binary to run (default: target/debug/oms, built with `cargo build` if missing)
#   OMS_CI_BUILD  1 = always run `cargo build` first, even when the binary exists
#   PYTHON        interpreter used to create the venv (default: python3; needs >= 3.11)

# shellcheck shell=bash

CI_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CI_REPO_ROOT="$(cd "$CI_SCRIPTS_DIR/.." && pwd)"
CI_REQUIREMENTS="$CI_SCRIPTS_DIR/requirements-ci.txt"
export PYTHONDONTWRITEBYTECODE=1

CI_TMP=""
CI_VENV=""
OMS_PID=""
OMS_PORT=""
OMS_BASE_URL=""
OMS_LOG=""
# Extra cleanup commands (e.g. dropping a PostgreSQL database), run after the server is stopped.
CI_CLEANUP_HOOKS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf '[%s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&2
    exit 1
}

ci_stop_oms() {
    [ -n "$OMS_PID" ] || return 0
    if kill -0 "$OMS_PID" 2>/dev/null; then
        kill -TERM "$OMS_PID" 2>/dev/null || true
        local i
        for i in $(seq 1 50); do
            kill -0 "$OMS_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$OMS_PID" 2>/dev/null; then
            log "oms (pid $OMS_PID) did not stop on SIGTERM within 5s; sending SIGKILL"
            kill -KILL "$OMS_PID" 2>/dev/null || true
        fi
    fi
    wait "$OMS_PID" 2>/dev/null || true
    OMS_PID=""
}

ci_cleanup() {
    local rc=$?
    ci_stop_oms
    local hook
    for hook in "${CI_CLEANUP_HOOKS[@]}"; do
        eval "$hook" || log "cleanup step failed: $hook"
    done
    if [ -n "$CI_TMP" ] && [ -d "$CI_TMP" ]; then
        if [ "${OMS_CI_KEEP:-0}" = "1" ] || { [ "$rc" -ne 0 ] && [ "${OMS_CI_KEEP_ON_FAILURE:-1}" = "1" ]; }; then
            # The throwaway venv is large and says nothing about the failure.
            [ "$CI_VENV" != "$CI_TMP/venv" ] || rm -rf "$CI_VENV"
            log "kept $CI_TMP (server log: $CI_TMP/oms.log)"
        else
            rm -rf "$CI_TMP"
        fi
    fi
    exit "$rc"
}

# Creates $CI_TMP and installs the EXIT/INT/TERM traps. Call first.
ci_setup_tmp() {
    local name=$1
    CI_TMP="$(mktemp -d "${TMPDIR:-/tmp}/oms-$name.XXXXXX")"
    trap ci_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Sets CI_VENV to a venv with scripts/requirements-ci.txt installed and puts its bin first in PATH
# (openapi-python-client runs `ruff` from PATH to format what it generates).
ci_setup_venv() {
    local py="${PYTHON:-python3}"
    if [ -n "${OMS_CI_VENV:-}" ]; then
        CI_VENV="$OMS_CI_VENV"
    else
        CI_VENV="$CI_TMP/venv"
    fi
    if [ ! -x "$CI_VENV/bin/python" ]; then
        log "creating venv $CI_VENV"
        "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' ||
            die "$py is older than 3.11 (the generated client and schemathesis need >= 3.11); set PYTHON"
        "$py" -m venv "$CI_VENV" || die "could not create a venv at $CI_VENV"
    fi
    local stamp="$CI_VENV/.oms-requirements.sha256"
    local want
    want="$(sha256sum "$CI_REQUIREMENTS" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "installing $CI_REQUIREMENTS into $CI_VENV"
        "$CI_VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$CI_REQUIREMENTS" ||
            die "pip install -r $CI_REQUIREMENTS failed"
        echo "$want" >"$stamp"
    else
        log "venv $CI_VENV already has $CI_REQUIREMENTS"
    fi
    export PATH="$CI_VENV/bin:$PATH"
    export VIRTUAL_ENV="$CI_VENV"
}

# Sets OMS_BIN (absolute), building it when missing (or always with OMS_CI_BUILD=1).
ci_build_oms() {
    OMS_BIN="${OMS_BIN:-$CI_REPO_ROOT/target/debug/oms}"
    if [ "${OMS_CI_BUILD:-0}" = "1" ] || [ ! -x "$OMS_BIN" ]; then
        log "cargo build"
        (cd "$CI_REPO_ROOT" && cargo build) || die "cargo build failed"
    fi
    [ -x "$OMS_BIN" ] || die "no oms binary at $OMS_BIN"
}

# Starts `oms serve` on a free port. Uses $DATABASE_URL when set, else a fresh SQLite file in
# $CI_TMP. Exports DATABASE_URL and OMS_JWT_SECRET (so `oms token` signs for this server) and
# sets OMS_PID, OMS_PORT, OMS_BASE_URL, OMS_LOG.
ci_start_oms() {
    export DATABASE_URL="${DATABASE_URL:-sqlite://$CI_TMP/oms.db}"
    export OMS_JWT_SECRET="${OMS_JWT_SECRET:-ci-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
    OMS_LOG="$CI_TMP/oms.log"
    log "starting $OMS_BIN serve (database ${DATABASE_URL%%\?*})"
    OMS_BIND=127.0.0.1:0 OMS_LOG_FORMAT=json OMS_SHUTDOWN_GRACE="${OMS_SHUTDOWN_GRACE:-3}" \
        RUST_LOG="${RUST_LOG:-info}" "$OMS_BIN" serve >"$OMS_LOG" 2>&1 &
    OMS_PID=$!
    local bind="" waited=0
    while [ -z "$bind" ]; do
        if ! kill -0 "$OMS_PID" 2>/dev/null; then
            tail -n 30 "$OMS_LOG" >&2
            OMS_PID=""
            die "oms exited before listening (log above)"
        fi
        if [ "$waited" -ge 600 ]; then
            tail -n 30 "$OMS_LOG" >&2
            die "oms did not log 'oms listening' within 60s"
        fi
        bind="$(grep -m1 'oms listening' "$OMS_LOG" 2>/dev/null |
            sed -n 's/.*"bind":"\([^"]*\)".*/\1/p; s/.*bind=\([^ ]*\).*/\1/p' | head -n1)" || true
        [ -n "$bind" ] || { sleep 0.1; waited=$((waited + 1)); }
    done
    OMS_PORT="${bind##*:}"
    OMS_BASE_URL="http://127.0.0.1:$OMS_PORT"
    waited=0
    until curl -fsS -o /dev/null "$OMS_BASE_URL/healthz"; do
        [ "$waited" -lt 100 ] || die "oms on $OMS_BASE_URL does not answer /healthz"
        sleep 0.1
        waited=$((waited + 1))
    done
    log "oms pid $OMS_PID listening on $OMS_BASE_URL"
}

# ci_endpoint_token CLIENT_ID [SCOPE] [TOKEN_PATH] -> creates an API client for CLIENT_ID in the
# running server's database (`oms clients create`) and prints the token the server's documented
# endpoint gives for it (TOKEN_PATH: /oauth/token, the default, or /auth/api/v1/token), as a
# client written against the vendor documents gets its token.
ci_endpoint_token() {
    local client=$1 scope=${2:-} path=${3:-/oauth/token}
    local args=(clients create --client-id "$client" --json)
    [ -z "$scope" ] || args+=(--scope "$scope")
    local created key secret tok
    created="$("$OMS_BIN" "${args[@]}" 2>>"$CI_TMP/token.err")" ||
        die "oms clients create failed: $(cat "$CI_TMP/token.err")"
    key="$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
    secret="$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
    tok="$(curl -fsS -u "$key:$secret" -d grant_type=client_credentials "$OMS_BASE_URL$path" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" ||
        die "POST $path did not give a token for $client"
    [ -n "$tok" ] || die "POST $path gave an empty token"
    printf '%s' "$tok"
}

# ci_token CLIENT_ID [SCOPE] -> prints a bearer token for the running server's configuration.
ci_token() {
    local client=$1 scope=${2:-}
    local args=(token --client-id "$client" --ttl 3600)
    [ -z "$scope" ] || args+=(--scope "$scope")
    local tok
    tok="$("$OMS_BIN" "${args[@]}" 2>>"$CI_TMP/token.err")" || die "oms token failed: $(cat "$CI_TMP/token.err")"
    tok="$(printf '%s' "$tok" | tail -n1 | tr -d '[:space:]')"
    [ -n "$tok" ] || die "oms token printed nothing"
    printf '%s' "$tok"
}
