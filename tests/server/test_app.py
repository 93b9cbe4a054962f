"""The app (``server/app.py``): every router is published in the OpenAPI schema, with the
documented error responses."""

from __future__ import annotations


def test_openapi_schema_is_published(api) -> None:
    schema = api.client.get("/openapi.json").json()
    paths = set(schema["paths"])
    for path in (
        "/api/agents",
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/approvals",
        "/api/handoffs",
        "/api/agents/{agent}/kill",
        "/api/agents/{agent}/rollout",
        "/api/agents/{agent}/outcomes",
        "/api/incidents",
        "/api/audit",
        "/api/metrics/summary",
        "/v1/traces",
    ):
        assert path in paths, path
    kill = schema["paths"]["/api/agents/{agent}/kill"]["post"]["responses"]
    for status in ("401", "403", "404", "409", "503"):
        assert kill[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
