"""Schemathesis hooks for scripts/fuzz.sh (fuzz.sh loads them through SCHEMATHESIS_HOOKS).

They run just before each request is sent, in every phase (examples, coverage, fuzzing,
stateful). Two things are filled in that the spec cannot express:

* X-PB-TransactionId: every Fulfillment request needs one (1-25 of [A-Za-z0-9_-]). On create
  it is also the idempotency key, so the same id with a different body within 24 h is 409.
  Each request gets a fresh valid id. One fixed header for the whole run would make every
  create after the first an idempotency conflict, and the values generated from the spec are
  mostly invalid: the header's schema has no pattern yet (see scripts/README.md). A value
  schemathesis made invalid on purpose (a negative test of the headers) is left alone, and so
  is a request without the header (the missing-header checks).

* clientId: a body or query `clientId` must be the token's client (OMS_CLIENT_ID), or the
  answer is 403. Whenever a generated clientId is a string, it is replaced with the token's
  client, so the tests get past the tenancy check. The spec's own examples ("1234", "NGST")
  would otherwise make every examples-phase and coverage-phase request a 403. Wrong-type values
  (negative tests) are left as they are.
"""

from __future__ import annotations

import os
import re
import secrets

import schemathesis

try:  # where the enum lives in schemathesis 4.x
    from schemathesis.core.parameters import ParameterLocation
except ImportError:  # pragma: no cover - other layouts
    ParameterLocation = None  # type: ignore[assignment]

HEADER = "X-PB-TransactionId"
VALID = re.compile(r"^[A-Za-z0-9_-]{1,25}$")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
CLIENT_ID = os.environ.get("OMS_CLIENT_ID", "")


def fresh_transaction_id() -> str:
    return "st-" + "".join(secrets.choice(ALPHABET) for _ in range(20))


def _negative_at(case, location_name: str) -> bool:
    meta = getattr(case, "_meta", None)
    if meta is None or ParameterLocation is None:
        return False
    try:
        return bool(meta.is_negative_at(ParameterLocation[location_name]))
    except Exception:  # pragma: no cover - defensive across versions
        return False


def _set_transaction_id(case) -> None:
    headers = case.headers
    if not headers or HEADER not in headers:
        return
    value = headers[HEADER]
    if _negative_at(case, "HEADER") and not (isinstance(value, str) and VALID.match(value)):
        return  # a deliberately invalid value: let the server reject it
    headers[HEADER] = fresh_transaction_id()


def _pin_client_id(case) -> None:
    if not CLIENT_ID:
        return
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("clientId"), str):
        body["clientId"] = CLIENT_ID
    query = case.query
    if query and isinstance(query.get("clientId"), str):
        query["clientId"] = CLIENT_ID


@schemathesis.hook
def before_call(context, case, kwargs):
    _set_transaction_id(case)
    _pin_client_id(case)
