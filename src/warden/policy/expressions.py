"""Conditional approval expressions in CEL (Common Expression Language).

CEL is the safe, side-effect-free expression language of Kubernetes admission policies and
Google IAM conditions; it cannot call Python, loop forever or touch the file system. We use
the ``common-expression-language`` package (Rust ``cel`` crate); expressions are compiled
once and cached. Never ``eval``.

When a spec loads, ``warden.core.spec`` checks each ``approval_when`` is a condition (it runs
it on synthetic arguments: the CEL library has no type checker); here, at run time, a
result that is not a boolean is still an error, and the policy fails closed on it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import cel  # pyright: ignore[reportMissingTypeStubs]

from warden.core.calls import MAX_ARGUMENT_DEPTH, canonical_json, too_deep_argument

__all__ = ["ExpressionError", "evaluate"]


class ExpressionError(ValueError):
    """The expression could not be evaluated for these arguments (e.g. a missing argument)."""


@lru_cache(maxsize=1024)
def _program(source: str) -> Any:
    return cel.compile(source)  # pyright: ignore[reportUnknownMemberType]


def evaluate(source: str, arguments: dict[str, Any]) -> bool:
    """Evaluate a CEL expression over a call's arguments.

    Args:
        source: CEL source, e.g. ``amount > 100 && currency == "USD"``. Each argument is a
            variable; ``args`` is also bound to the whole argument map
            (``has(args.note)``).
        arguments: The call's arguments (JSON-able after canonicalisation).

    Returns:
        The expression's truth value.

    Raises:
        ExpressionError: It does not compile, references a missing argument, does not
            return a boolean, or an argument is nested more than ``MAX_ARGUMENT_DEPTH``
            levels deep (canonical JSON would recurse that deep).
    """
    deep = too_deep_argument(arguments)
    if deep is not None:
        raise ExpressionError(
            f"the argument {deep} is nested more than {MAX_ARGUMENT_DEPTH} levels deep"
        )
    plain: dict[str, Any] = json.loads(canonical_json(arguments))
    try:
        result = _program(source).execute({**plain, "args": plain})
    except Exception as exc:
        raise ExpressionError(str(exc).splitlines()[0]) from exc
    if not isinstance(result, bool):
        raise ExpressionError(f"expression returned {type(result).__name__}, not a boolean")
    return result
