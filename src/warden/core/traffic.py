"""The traffic split: which routing keys the canary handles, sticky per key.

A key's bucket is a hash of the agent name and the key into ``BUCKETS`` (10,000) buckets,
as feature-flag systems bucket users (LaunchDarkly and Unleash hash the flag key with the
user key; Argo Rollouts and Flagger split by weight). A key is in the slice when its bucket
is below ``share * BUCKETS``, so:

- the same key always gets the same answer for a given share (sticky, across processes
  and restarts: the hash is SHA-256, not Python's salted ``hash``);
- raising the share only adds keys; lowering it only removes keys;
- hashing the agent name with the key gives each agent its own independent slice, so the
  same customers are not the guinea pigs of every canary.

The share has a resolution of 0.01 % (one bucket).
"""

from __future__ import annotations

import hashlib

__all__ = ["BUCKETS", "bucket", "in_slice"]

BUCKETS = 10_000
"""Number of buckets: shares are resolved to 1/10,000."""


def bucket(agent: str, routing_key: str) -> int:
    """The bucket of ``routing_key`` for ``agent``, in ``[0, BUCKETS)``.

    The first 8 bytes of SHA-256 of ``agent``, a NUL byte and the key, as an unsigned
    big-endian integer, modulo ``BUCKETS`` (the modulo bias is below 1e-15).
    """
    digest = hashlib.sha256(f"{agent}\x00{routing_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_slice(agent: str, routing_key: str, share: float) -> bool:
    """Whether ``routing_key`` falls in the first ``share`` (0 to 1) of ``agent``'s buckets."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, not {share}")
    return bucket(agent, routing_key) < round(share * BUCKETS)
