#!/usr/bin/env bash
# Generated-client contract test: generate a Python client from openapi/openapi.json with
# openapi-python-client, start `oms serve` on a throwaway SQLite database and a free port, and
# walk the main flow of both API surfaces through that client (scripts/client_flow.py).
#
# Usage: scripts/client_flow.sh
#   Uses $DATABASE_URL when set (e.g. a fresh PostgreSQL database), else SQLite in a temp dir.
#   Other knobs (OMS_CI_VENV, OMS_CI_KEEP, OMS_BIN, OMS_CI_BUILD, PYTHON): see scripts/ci_common.sh.
# Exit status: 0 when the client generated cleanly and every step passed, non-zero otherwise.
set -euo pipefail

# shellcheck source=scripts/ci_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/ci_common.sh"

started=$(date +%s)
ci_setup_tmp client-flow
ci_setup_venv

spec="$CI_REPO_ROOT/openapi/openapi.json"
[ -f "$spec" ] || die "no $spec"
client_dir="$CI_TMP/client"
mkdir -p "$client_dir"
log "generating the Python client from openapi/openapi.json (openapi-python-client $(openapi-python-client --version | awk '{print $NF}'))"
gen_out="$CI_TMP/generate.log"
if ! openapi-python-client generate --path "$spec" --output-path "$client_dir/oms_client" --meta none \
    >"$gen_out" 2>&1; then
    cat "$gen_out" >&2
    die "openapi-python-client could not generate a client from $spec"
fi
# It exits 0 even when it had to skip parts of the spec; those are spec problems for us.
if grep -qiE 'warning|error|skipp' "$gen_out"; then
    cat "$gen_out" >&2
    die "openapi-python-client reported problems with $spec (see above)"
fi
python -c "import sys; sys.path.insert(0, '$client_dir'); import oms_client.api.order.create_order" ||
    die "the generated client does not import"

ci_build_oms
ci_start_oms

client_id="ci-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
export OMS_BASE_URL OMS_CLIENT_ID="$client_id" OMS_CLIENT_DIR="$client_dir"
# Tokens as a client gets them: an API key and secret, exchanged at both documented endpoints.
OMS_TOKEN="$(ci_endpoint_token "$client_id" "orders:read orders:write" /oauth/token)"
OMS_TOKEN_RO="$(ci_endpoint_token "$client_id" "orders:read" /auth/api/v1/token)"
OMS_TOKEN_OTHER="$(ci_endpoint_token ci-other)"
export OMS_TOKEN OMS_TOKEN_RO OMS_TOKEN_OTHER

log "running scripts/client_flow.py against $OMS_BASE_URL as client $client_id"
rc=0
python "$CI_SCRIPTS_DIR/client_flow.py" || rc=$?

if [ "$rc" -ne 0 ]; then
    log "last server log lines ($OMS_LOG):"
    tail -n 20 "$OMS_LOG" >&2 || true
    die "client flow failed (exit $rc) after $(($(date +%s) - started))s"
fi
if grep -q '"level":"ERROR"' "$OMS_LOG"; then
    grep '"level":"ERROR"' "$OMS_LOG" | tail -n 10 >&2
    die "the server logged errors during the client flow (above)"
fi
log "client flow OK in $(($(date +%s) - started))s"
