"""OTLP/JSON traces (an ``ExportTraceServiceRequest`` per file or per line) with the
OpenTelemetry GenAI conventions: one trace is one run; its ``execute_tool`` spans, in start
order, are the calls (``gen_ai.tool.name``, ``gen_ai.tool.call.arguments`` as JSON text,
``gen_ai.tool.call.result``); trusted input is ``gen_ai.system_instructions`` and the
user's messages in ``gen_ai.input.messages`` of the earliest span that has them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from warden.backtest.records import RecordedCall, RecordedRun, RunLabels
from warden.errors import ConfigError

__all__ = ["load_otlp_json", "runs_from_request"]


def _value(v: dict[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [_value(x) for x in cast(dict[str, Any], v["arrayValue"]).get("values", [])]
    if "kvlistValue" in v:
        return {
            kv["key"]: _value(kv["value"])
            for kv in cast(dict[str, Any], v["kvlistValue"]).get("values", [])
        }
    return None


def _attrs(span: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: _value(a.get("value", {})) for a in span.get("attributes", [])}


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _user_text(messages: Any) -> list[str]:
    out: list[str] = []
    for raw in cast(list[Any], _json_or_text(messages) or []):
        if not isinstance(raw, dict):
            continue
        m = cast(dict[str, Any], raw)
        if m.get("role") in ("user", "system"):
            out.append(json.dumps(m.get("parts", m.get("content"))))
    return out


def _span_error(span: dict[str, Any]) -> str | None:
    """The span's error message when its status is ERROR (code 2), else None."""
    status = cast(dict[str, Any], span.get("status") or {})
    if status.get("code") not in (2, "STATUS_CODE_ERROR"):
        return None
    return str(status.get("message") or "error")


def runs_from_request(request: dict[str, Any]) -> list[RecordedRun]:
    """The runs (one per trace) in one OTLP/JSON ``ExportTraceServiceRequest``."""
    spans: defaultdict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for rs in request.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                spans[str(span.get("traceId", ""))].append((span, _attrs(span)))
    runs: list[RecordedRun] = []
    for trace_id, items in spans.items():
        items.sort(key=lambda it: int(it[0].get("startTimeUnixNano", 0)))
        trusted: list[str] = []
        agent = ""
        calls: list[RecordedCall] = []
        for span, attrs in items:
            agent = agent or str(attrs.get("gen_ai.agent.name", ""))
            if not trusted:
                if "gen_ai.system_instructions" in attrs:
                    trusted.append(str(attrs["gen_ai.system_instructions"]))
                trusted += _user_text(attrs.get("gen_ai.input.messages"))
            if attrs.get("gen_ai.operation.name") == "execute_tool" and "gen_ai.tool.name" in attrs:
                args: Any = _json_or_text(attrs.get("gen_ai.tool.call.arguments")) or {}
                calls.append(
                    RecordedCall(
                        tool=str(attrs["gen_ai.tool.name"]),
                        arguments=cast(dict[str, Any], args)
                        if isinstance(args, dict)
                        else {"value": args},
                        result=_json_or_text(attrs.get("gen_ai.tool.call.result")),
                        error=_span_error(span),
                    )
                )
        runs.append(
            RecordedRun(
                id=trace_id,
                agent=agent,
                input="\n".join(trusted),
                calls=calls,
                labels=RunLabels(suite=agent),
            )
        )
    return runs


def load_otlp_json(path: str | Path) -> Iterator[RecordedRun]:
    """Runs from an OTLP/JSON file (one request, or one request per line) or a directory.

    Raises:
        ConfigError: Missing path or invalid JSON (names the file and line).
    """
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"no such file or directory: {root}")
    files = sorted(p for p in root.rglob("*.json*")) if root.is_dir() else [root]
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            docs: list[Any] = [json.loads(text)]
        except json.JSONDecodeError:
            docs = list[Any]()
            for lineno, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        docs.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise ConfigError(f"{file}:{lineno}: not JSON: {exc.msg}") from None
        for doc in docs:
            yield from runs_from_request(cast(dict[str, Any], doc))
