"""Control: what operators, the server and the monitor do around an agent.

One module per concept, each a set of functions over the store (``core.ports.Store``):
``rollout`` (stage changes, status), ``gates`` (gate checks, readiness), ``killcriteria``
(evaluation and its actions), ``killswitch`` (the two-person release), ``paging``,
``monitor``, ``drill``, ``outcomes`` (what people did, against shadow proposals),
``scope`` (apply and approve spec versions) and ``fleet`` (summaries for the dashboard).
Nothing here runs on an agent's hot path; ``warden.runtime`` never imports it.
"""
