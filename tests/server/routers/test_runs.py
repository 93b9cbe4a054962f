"""``routers/runs.py``: one run with its story, and the run list's filters and cursor."""

from __future__ import annotations


def test_a_run_and_its_story(api, seeded) -> None:
    ids = seeded()
    blocked = ids[-2]
    story = api.get(f"/api/runs/{blocked}").json()
    assert story["detail"]["run"]["status"] == "blocked"
    assert any("issue_refund is blocked for this agent" in line for line in story["story"])
    assert api.get("/api/runs/run_missing").status_code == 404


def test_run_list_filters_and_cursor_pagination(api, seeded) -> None:
    ids = seeded(resolved=7)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        url = "/api/runs?agent=test-agent&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == len(seen)  # no run twice across pages
    denied = api.get("/api/runs?denied_only=true").json()["items"]
    assert [r["id"] for r in denied] == [ids[-2]]
    assert [r["status"] for r in api.get("/api/runs?status=escalated").json()["items"]] == [
        "escalated"
    ]
    bad = api.get("/api/runs?cursor=not-a-cursor")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "config.invalid"
    assert api.get("/api/runs?limit=0").status_code == 422
