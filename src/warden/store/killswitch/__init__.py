"""The kill switch in the store: its rows, and how a change reaches every process at once.

- ``switch``: ``KillSwitchSql``, the rows. Engage at once (idempotent), release only with
  a second person, every change audited; ``watch_kill_switches``.
- ``signal_files``: ``KillSignals``, kill signal files on SQLite. A kill takes effect
  before its row can be written.
- ``write_gate``: ``WriteGate``, the turnstile in front of SQLite's write lock. Batches of
  run records let a waiting state change (a kill, a release) go first.
- ``pg_listener``: ``KillSwitchListener``, ``LISTEN``/``NOTIFY`` on PostgreSQL. A change
  reaches other processes without waiting for their cached read's TTL.

This ``__init__`` imports none of them: ``store.base`` imports the write gate, and
``switch`` subclasses ``SqlBase`` from ``store.base``, so importing ``switch`` here would
be a cycle. Import each module by its own name.
"""
