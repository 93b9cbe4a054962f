"""``routers/pagerduty.py``: PagerDuty webhooks v3 acknowledge and resolve the Warden
incident with the PagerDuty incident's key, signed with ``X-PagerDuty-Signature``; nothing
is sent back to PagerDuty; unsigned or wrongly signed requests are 401 and audited."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from tests.conftest import make_incident, make_spec
from tests.pages_server import page_sink
from warden.core.clock import SystemClock
from warden.core.incidents import IncidentStatus
from warden.core.runs import SpecVersion
from warden.server.routers.pagerduty import SECRET_ENV, signature_valid

SECRET = "pd-webhook-s3cret"
URL = "/api/integrations/pagerduty"
KEY = "test-agent:error_rate:1"


def _event(event_type: str, incident_key: str | None = KEY) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "PGR0VU2",
        "type": "incident",
        "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
        "status": event_type.split(".")[1],
        "title": "error rate 30 %",
    }
    if incident_key is not None:
        data["incident_key"] = incident_key
    return {
        "event": {
            "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2026-01-01T00:05:00.000Z",
            "agent": {"id": "PLH1HKV", "summary": "Dana Oncall", "type": "user_reference"},
            "client": {"name": "PagerDuty"},
            "data": data,
        }
    }


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(api, payload: Any, *, signature: str | None = None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    headers["X-PagerDuty-Signature"] = signature if signature is not None else _sign(body)
    return api.client.post(URL, content=body, headers=headers)


@pytest.fixture(autouse=True)
def secret(monkeypatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


def test_the_signature_is_hmac_sha256_of_the_raw_body_any_of_several() -> None:
    body = b'{"event": {}}'
    assert signature_valid(body, _sign(body), SECRET)
    assert signature_valid(body, f"v1={'0' * 64},{_sign(body)}", SECRET)  # secret rotation
    assert not signature_valid(body, _sign(body, "other"), SECRET)
    assert not signature_valid(body + b" ", _sign(body), SECRET)
    assert not signature_valid(body, "v1=é", SECRET)


def test_acknowledged_then_resolved_in_pagerduty_without_echo(api, store) -> None:
    now = SystemClock().now()
    with page_sink() as sink:
        spec = make_spec(
            {}, oncall={"channels": [{"type": "pagerduty", "target": "K", "url": f"{sink.url}/pd"}]}
        )
        store.save_spec_version(SpecVersion.of(spec, now))
        store.open_incident(make_incident(spec_hash=spec.content_hash(), opened_at=now))
        acked = _post(api, _event("incident.acknowledged"))
        assert acked.status_code == 200, acked.text
        assert acked.json() == {
            "event_type": "incident.acknowledged",
            "action": "acknowledged",
            "incident_id": "inc_1",
            "detail": "acknowledged by pagerduty:Dana Oncall",
        }
        incident = store.get_incident("inc_1")
        assert incident.status is IncidentStatus.ACKNOWLEDGED
        assert incident.acked_by == "pagerduty:Dana Oncall"
        again = _post(api, _event("incident.acknowledged"))  # e.g. PagerDuty's own echo
        assert again.status_code == 200 and again.json()["action"] == "ignored"
        resolved = _post(api, _event("incident.resolved"))
        assert resolved.json()["action"] == "resolved"
        assert store.get_incident("inc_1").status is IncidentStatus.RESOLVED
        late = _post(api, _event("incident.resolved"))
        assert late.status_code == 200 and late.json()["action"] == "ignored"
        assert sink.bodies("/pd") == []  # nothing sent back to PagerDuty
    assert store.list_pages(incident_id="inc_1") == []
    actions = [(e.action, e.actor) for e in store.list_audit(agent="test-agent")]
    assert ("incident.acknowledged", "pagerduty:Dana Oncall") in actions
    assert ("incident.resolved", "pagerduty:Dana Oncall") in actions


def test_other_events_and_unknown_keys_are_ignored_with_200(api, store) -> None:
    store.open_incident(make_incident(opened_at=SystemClock().now()))
    for payload in (
        _event("incident.triggered"),
        _event("incident.acknowledged", incident_key="someone-elses-key"),
        _event("incident.resolved", incident_key=None),
    ):
        answer = _post(api, payload)
        assert answer.status_code == 200 and answer.json()["action"] == "ignored"
    assert store.get_incident("inc_1").status is IncidentStatus.OPEN


def test_unsigned_or_wrongly_signed_is_401_and_audited(api, store, monkeypatch) -> None:
    store.open_incident(make_incident(opened_at=SystemClock().now()))
    payload = _event("incident.resolved")
    unsigned = api.client.post(URL, json=payload)
    assert unsigned.status_code == 401
    assert unsigned.json()["error"]["code"] == "auth.required"
    wrong = _post(api, payload, signature=_sign(json.dumps(payload).encode(), "guess"))
    assert wrong.status_code == 401
    monkeypatch.delenv(SECRET_ENV)
    unconfigured = _post(api, payload)  # correctly signed, but the server has no secret
    assert unconfigured.status_code == 401
    assert store.get_incident("inc_1").status is IncidentStatus.OPEN
    denied = [e.reason for e in store.list_audit() if e.action == "api.denied"]
    assert len(denied) == 3
    assert any("no X-PagerDuty-Signature" in r for r in denied)
    assert any("does not match" in r for r in denied)
    assert any(SECRET_ENV in r for r in denied)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"event": {}}', b'{"event": {"event_type": ""}}', b"\xff\xfe"],
)
def test_a_body_that_is_not_a_v3_event_is_400_json(api, raw) -> None:
    answer = _post(api, None, raw=raw)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "request.invalid"
