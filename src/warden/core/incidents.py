"""Incidents, pages and drills: what kill criteria, alerting and the kill-switch drill record.

An *incident* is opened when a kill criterion trips: which criterion, the value measured
and over how many samples, the action taken (``pause``, ``rollback``, ``page``; nothing in
``advisory`` mode), and its acknowledgement. While an incident for the same criterion and
spec version is open, a new trip does not open another (the PagerDuty ``dedup_key``
``agent:criterion:version`` is the same key). A *page* is one delivery attempt to one
on-call channel. A *drill* is one run of ``warden drill kill-switch`` with its measured
propagation time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from warden.core.decisions import RuleMode

__all__ = ["Drill", "Incident", "IncidentStatus", "PageDelivery"]


class _Record(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class IncidentStatus(StrEnum):
    """Where an incident is."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Incident(_Record):
    """A kill criterion tripped."""

    id: str
    agent: str
    criterion: str
    """The criterion in words, e.g. ``error_rate > 0.1 over 3600 s``; part of the dedup key."""
    metric: str
    threshold: float
    value: float
    """What was measured."""
    samples: int
    window_s: float
    action: str
    """``pause``, ``rollback`` or ``page``."""
    mode: RuleMode
    """``advisory`` records and pages; ``enforce`` also applies the action."""
    applied: str
    """What Warden did, in plain words."""
    spec_hash: str
    spec_version: str = ""
    dedup_key: str
    """``agent:criterion:version`` (PagerDuty Events API v2 ``dedup_key``, <= 255 chars)."""
    status: IncidentStatus = IncidentStatus.OPEN
    opened_at: datetime
    acked_at: datetime | None = None
    acked_by: str | None = None
    escalated_at: datetime | None = None
    """When the backup owner was paged because nobody acknowledged in time."""
    summary: str
    """One line for a pager: what tripped and what was done."""


class PageDelivery(_Record):
    """One attempt to reach one on-call channel."""

    id: str
    agent: str
    incident_id: str | None = None
    """None for a test page."""
    channel: str
    """``webhook``, ``pagerduty``, ``slack`` or ``email``."""
    target: str
    """Where it went (URL, or the PagerDuty routing key masked)."""
    recipient: str = ""
    """``owner`` or ``backup_owner``."""
    event_action: str = "trigger"
    delivered: bool
    status_code: int | None = None
    attempts: int = 1
    error: str | None = None
    test: bool = False
    at: datetime


class Drill(_Record):
    """One kill-switch drill: flip, check runs reroute, restore."""

    id: str
    agent: str
    actor: str
    started_at: datetime
    ended_at: datetime
    passed: bool
    propagation_s: float | None = None
    """Seconds from the flip to the first rerouted run; None when none rerouted."""
    runs: int = 0
    """Test runs attempted while the switch was on."""
    rerouted: int = 0
    """Of those, runs that took the fallback."""
    detail: str = ""
    routing_keys: list[str] = Field(default_factory=list[str])
