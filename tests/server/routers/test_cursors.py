"""``routers/cursors.py``: list endpoints page with ``limit`` and ``cursor`` as
``/api/runs`` does; a cursor that is not one is a 400, a limit out of bounds a 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import make_incident
from warden.core.events import RunRecorded, ToolCallRecorded
from warden.core.runs import RunRecord, ToolCallRecord, ToolCallStatus
from warden.server.routers.cursors import decode_cursor, encode_cursor
from warden.store import SqlStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _all_pages(api: Any, path: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(100):
        sep = "&" if "?" in path else "?"
        body = api.get(f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")).json()
        assert len(body["items"]) <= limit
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        cursor = body["next_cursor"]
    raise AssertionError("no last page")


def test_tool_calls_and_incidents_page_through_every_item_once(api, store: SqlStore) -> None:
    events: list[Any] = [
        RunRecorded(run=RunRecord(id="r1", agent="test-agent", spec_hash="h", started_at=T0))
    ]
    for seq in range(1, 8):
        at = T0 + timedelta(seconds=seq // 3)  # ties on the start time
        call = ToolCallRecord(
            run_id="r1", seq=seq, tool="t", status=ToolCallStatus.SUCCEEDED, started_at=at
        )
        events.append(ToolCallRecorded(call=call))
    store.apply(events)
    whole = api.get("/api/tool-calls?agent=test-agent").json()
    assert whole["next_cursor"] is None and len(whole["items"]) == 7
    for limit in (1, 2, 3):
        paged = _all_pages(api, "/api/tool-calls?agent=test-agent", limit)
        assert [c["seq"] for c in paged] == [c["seq"] for c in whole["items"]]
    for i in range(5):
        store.open_incident(make_incident(id=f"inc_{i}", dedup_key=f"k{i}", opened_at=T0))
    paged = _all_pages(api, "/api/incidents", 2)
    assert [i["id"] for i in paged] == [f"inc_{i}" for i in range(5)]


def test_a_bad_cursor_is_a_400_and_a_limit_out_of_bounds_a_422(api) -> None:
    for path in ("/api/tool-calls", "/api/handoffs", "/api/approvals", "/api/incidents"):
        assert api.get(f"{path}?cursor=nonsense").status_code == 400
        wrong_shape = encode_cursor(T0, "a", "b", "c")
        assert api.get(f"{path}?cursor={wrong_shape}").status_code == 400
        assert api.get(f"{path}?limit=0").status_code == 422
        assert api.get(f"{path}?limit=1001").status_code == 422


def test_a_cursor_round_trips_and_checks_its_shape() -> None:
    cursor = encode_cursor(T0, "run-1", 3)
    assert decode_cursor(cursor, str, int) == (T0, "run-1", 3)
    from warden.errors import ConfigError

    with pytest.raises(ConfigError):
        decode_cursor(cursor, str, str)
    with pytest.raises(ConfigError):
        decode_cursor(encode_cursor(T0.replace(tzinfo=None), "x"), str)
