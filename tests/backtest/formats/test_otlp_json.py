"""OTLP/JSON traces with the GenAI conventions become recorded runs."""

from __future__ import annotations

import json

from warden.backtest import load_runs
from warden.backtest.formats.otlp_json import runs_from_request


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def test_otlp_json_traces_become_runs(tmp_path) -> None:
    spans = [
        {
            "traceId": "t1",
            "spanId": "a",
            "name": "invoke_agent bank",
            "startTimeUnixNano": "1",
            "attributes": [
                _attr("gen_ai.operation.name", "invoke_agent"),
                _attr("gen_ai.agent.name", "bank"),
                _attr(
                    "gen_ai.input.messages",
                    json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "pay GB00RENT"}]}]
                    ),
                ),
            ],
        },
        {
            "traceId": "t1",
            "spanId": "c",
            "name": "execute_tool send_money",
            "startTimeUnixNano": "3",
            "attributes": [
                _attr("gen_ai.operation.name", "execute_tool"),
                _attr("gen_ai.tool.name", "send_money"),
                _attr(
                    "gen_ai.tool.call.arguments", json.dumps({"recipient": "GB00RENT", "amount": 9})
                ),
            ],
        },
        {
            "traceId": "t1",
            "spanId": "b",
            "name": "execute_tool read_file",
            "startTimeUnixNano": "2",
            "attributes": [
                _attr("gen_ai.operation.name", "execute_tool"),
                _attr("gen_ai.tool.name", "read_file"),
                _attr("gen_ai.tool.call.arguments", "{}"),
                _attr("gen_ai.tool.call.result", "hello"),
            ],
        },
    ]
    request = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    (run,) = runs_from_request(request)
    assert run.agent == "bank"
    assert "GB00RENT" in run.input
    assert [c.tool for c in run.calls] == ["read_file", "send_money"]  # start order
    assert run.calls[1].arguments == {"recipient": "GB00RENT", "amount": 9}
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(request))
    assert [r.id for r in load_runs(path, "otlp-json")] == ["t1"]
