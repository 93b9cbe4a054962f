"""BANKING77: real customer messages, each routed by a person to one of 77 intents.

Here a message is a support ticket and its human label is the queue a person routed it to
(the human's actual action, against which shadow proposals are compared).

Source: PolyAI-LDN/task-specific-datasets, ``banking_data/``; licence CC-BY-4.0. Cite:
Casanueva et al., 2020, "Efficient Intent Detection with Dual Sentence Encoders",
arXiv:2003.04807. Anything that shows the data keeps this attribution (``ATTRIBUTION``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from warden import ConfigError

__all__ = [
    "ATTRIBUTION",
    "DEFAULT_DATA_DIR",
    "REFUND_INTENTS",
    "Banking77",
    "Ticket",
    "load_banking77",
]

ATTRIBUTION = (
    "BANKING77 (Casanueva et al., 2020, arXiv:2003.04807), PolyAI-LDN/task-specific-datasets, "
    "CC-BY-4.0"
)
"""The attribution every view of the data carries."""

DEFAULT_DATA_DIR = Path("../shared/data/banking77")
"""Where the data lives beside the repository (relative to the repository root)."""

REFUND_INTENTS = frozenset({"request_refund", "Refund_not_showing_up"})
"""Intents whose tickets ask for money back: the over-helpful agent tries ``issue_refund``."""

_FILES = ("train.csv", "test.csv", "categories.json")


@dataclass(frozen=True, slots=True)
class Ticket:
    """One support ticket.

    Attributes:
        id: ``t-<n>``: the ticket id the agent routes.
        customer_id: ``c-<n>``: who wrote it (the canary's routing key).
        text: The customer's message.
        label: The queue a person routed it to (None for red-team tickets).
        attack: For red-team tickets, what the ticket tries to make the agent do.
    """

    id: str
    customer_id: str
    text: str
    label: str | None = None
    attack: str | None = None


@dataclass(frozen=True, slots=True)
class Banking77:
    """The dataset: the training split, the test split (the demo's traffic), the intents."""

    train_texts: list[str]
    train_labels: list[str]
    test: list[Ticket]
    categories: list[str]
    train_sha256: str


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path, categories: set[str]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["text", "category"]:
            raise ConfigError(
                f"{path}: expected the columns text,category, got {reader.fieldnames}"
            )
        for line, row in enumerate(reader, start=2):
            if row["category"] not in categories:
                raise ConfigError(f"{path}:{line}: unknown category {row['category']!r}")
            rows.append((row["text"], row["category"]))
    return rows


def load_banking77(data_dir: Path = DEFAULT_DATA_DIR, *, customers: int = 1200) -> Banking77:
    """Read the BANKING77 files in ``data_dir``.

    Test tickets get ids ``t-1..t-3080`` in file order and a customer id drawn with a fixed
    seed from ``customers`` synthetic customers (the dataset has none), so several tickets
    share a customer, as real traffic does.

    Args:
        data_dir: Directory holding ``train.csv``, ``test.csv`` and ``categories.json``.
        customers: Number of synthetic customers the tickets are spread over.

    Raises:
        ConfigError: A file is missing (named, with what to do) or malformed.
    """
    missing = [name for name in _FILES if not (data_dir / name).is_file()]
    if missing:
        raise ConfigError(
            f"BANKING77 data not found: {', '.join(str(data_dir / m) for m in missing)} "
            "missing. Put the dataset there or pass --data DIR (see ../shared/data/banking77/"
            "README.md)"
        )
    categories = list(json.loads((data_dir / "categories.json").read_text(encoding="utf-8")))
    known = set(categories)
    train = _rows(data_dir / "train.csv", known)
    test_rows = _rows(data_dir / "test.csv", known)
    rng = random.Random(77)
    test = [
        Ticket(id=f"t-{i}", customer_id=f"c-{rng.randrange(customers)}", text=text, label=label)
        for i, (text, label) in enumerate(test_rows, start=1)
    ]
    return Banking77(
        train_texts=[t for t, _ in train],
        train_labels=[c for _, c in train],
        test=test,
        categories=categories,
        train_sha256=_sha256(data_dir / "train.csv"),
    )
