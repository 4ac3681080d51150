#!/usr/bin/env python3
"""Summarise a schemathesis NDJSON report: one block per distinct failure, with the check,
the operation, what came back and a curl that reproduces it.

Usage: fuzz_report.py REPORT.ndjson [--baseline BASELINE.json] [--markdown OUT.md]

With --baseline (a schemathesis baseline file), failures it already records are marked "known".

The token is never printed: requests show `Authorization: Bearer $OMS_TOKEN` instead.
Exit status 0 (it only reports; fuzz.sh exits with schemathesis's own status).
"""

from __future__ import annotations

import argparse
import base64
import json
import shlex
import sys
from collections import OrderedDict
from typing import Any

MAX_BODY = 600


def decode(blob: Any) -> str:
    if blob is None:
        return ""
    if isinstance(blob, dict) and "$base64" in blob:
        raw = base64.b64decode(blob["$base64"])
        return raw.decode("utf-8", "replace")
    if isinstance(blob, (dict, list)):
        return json.dumps(blob)
    return str(blob)


def curl_for(request: dict) -> str:
    parts = ["curl", "-sS", "-i", "-X", request.get("method", "GET")]
    for name, values in (request.get("headers") or {}).items():
        if name.lower() in ("authorization",):
            parts.append("-H")
            parts.append("__AUTH__")
            continue
        if name.lower() in (
            "user-agent",
            "accept-encoding",
            "accept",
            "connection",
            "content-length",
            "x-schemathesis-testcaseid",
        ):
            continue
        for v in values if isinstance(values, list) else [values]:
            parts += ["-H", f"{name}: {v}"]
    body = request.get("body")
    if body is not None:
        parts += ["--data-binary", decode(body)]
    parts.append(request.get("uri", ""))
    cmd = " ".join(shlex.quote(p) for p in parts)
    return cmd.replace("__AUTH__", '"Authorization: Bearer $OMS_TOKEN"')


def first_line(s: str) -> str:
    return (s or "").strip().splitlines()[0] if (s or "").strip() else ""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("ndjson")
    ap.add_argument("--markdown", help="also write the summary here")
    ap.add_argument("--baseline", help="schemathesis baseline file: mark the failures it records")
    args = ap.parse_args()

    known: dict[tuple, str] = {}
    if args.baseline:
        try:
            with open(args.baseline, encoding="utf-8") as fh:
                for entry in json.load(fh).get("entries", []):
                    key = (entry.get("operation"), entry.get("check"), entry.get("failure"))
                    known[key] = entry.get("id", "?")
                    known[key + (str(entry.get("signature")),)] = entry.get("id", "?")
        except (OSError, ValueError) as e:
            print(f"(could not read baseline {args.baseline}: {e})")

    findings: "OrderedDict[tuple, dict]" = OrderedDict()
    errors: list[str] = []
    with open(args.ndjson, encoding="utf-8") as fh:
        for line in fh:
            event = json.loads(line)
            ((kind, data),) = event.items()
            if kind == "NonFatalError":
                label = data.get("label") or data.get("related_to_operation") or ""
                info = data.get("info") or {}
                msg = info.get("message") or data.get("value", {}).get("message") or json.dumps(data)[:300]
                errors.append(f"{label}: {first_line(str(msg))}")
                continue
            if kind != "ScenarioFinished":
                continue
            rec = data.get("recorder") or {}
            phase = data.get("phase")
            for case_id, checks in (rec.get("checks") or {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    inter = (rec.get("interactions") or {}).get(case_id) or {}
                    req = inter.get("request") or {}
                    resp = inter.get("response") or {}
                    case = ((rec.get("cases") or {}).get(case_id) or {}).get("value") or {}
                    meta = case.get("meta") or {}
                    status = resp.get("status_code")
                    body = decode(resp.get("content"))
                    operation = failure.get("operation") or rec.get("label") or ""
                    title = failure.get("title") or check.get("name")
                    message = failure.get("message") or ""
                    key = (check.get("name"), operation, title, status, first_line(message)[:120])
                    if key in findings:
                        findings[key]["count"] += 1
                        continue
                    ftype = failure.get("type")
                    baseline_id = known.get((operation, check.get("name"), ftype, str(status))) or (
                        known.get((operation, check.get("name"), ftype))
                    )
                    findings[key] = {
                        "baseline": baseline_id,
                        "count": 1,
                        "check": check.get("name"),
                        "code": failure.get("code") or "",
                        "title": title,
                        "operation": operation,
                        "phase": phase,
                        "mode": (meta.get("generation") or {}).get("mode"),
                        "description": ((meta.get("phase") or {}).get("data") or {}).get("description"),
                        "message": message.strip(),
                        "status": status,
                        "body": body,
                        "curl": curl_for(req) if req else "(no request recorded)",
                    }

    out: list[str] = []
    n_known = sum(1 for f in findings.values() if f["baseline"])
    summary = f"schemathesis: {len(findings)} distinct failure(s), {len(errors)} error(s)"
    if args.baseline:
        summary += f"; {n_known} of the failures are in the baseline, {len(findings) - n_known} new"
    out.append(summary)
    for i, f in enumerate(findings.values(), 1):
        body = f["body"]
        if len(body) > MAX_BODY:
            body = body[:MAX_BODY] + f"... ({len(f['body'])} chars)"
        out.append("")
        mark = f"  (known: baseline {f['baseline']})" if f["baseline"] else ""
        out.append(f"{i}. [{f['code']} {f['check']}] {f['operation']}  — {f['title']}{mark}")
        out.append(
            f"   phase={f['phase']} mode={f['mode']} seen={f['count']}x"
            + (f"  ({f['description']})" if f["description"] else "")
        )
        for ln in f["message"].splitlines():
            out.append(f"   | {ln}")
        out.append(f"   got: HTTP {f['status']} {body}")
        out.append(f"   repro: {f['curl']}")
    if errors:
        out.append("")
        out.append("Errors:")
        for e in errors:
            out.append(f"  - {e}")
    text = "\n".join(out)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write("```\n" + text + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
