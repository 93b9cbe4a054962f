"""The API's routers, one module per resource; ``server.app`` includes each of them.

Shared by the routers of what operators and reviewers do (kill switch, approvals, human
queue, outcomes, incidents, rollout, scope changes): ``OPERATIONS_TAG``.
"""

OPERATIONS_TAG = "operations"
"""The OpenAPI tag every operator and reviewer act carries besides its resource's own tag
(they were served by one ``operations`` router; clients may group operations by it)."""
