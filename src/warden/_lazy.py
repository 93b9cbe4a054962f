"""Lazy public names for package ``__init__`` modules (PEP 562), in one place.

A package lists where each public name lives; the name is imported on first use, so
importing one module of the package does not import the rest (``bench/startup.py``).
The package keeps plain imports under ``if TYPE_CHECKING:`` for the type checker.

    __getattr__, __dir__ = lazy_exports(__name__, {"Governor": ".governor"}, globals())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Args:
        package: The package's ``__name__``.
        exports: Public name -> module that defines it, absolute (``warden.core``) or
            relative to ``package`` (``.governor``).
        namespace: The package's ``globals()``: a loaded name is cached there, so it is
            imported once.

    Returns:
        ``(__getattr__, __dir__)`` for the package module. ``__getattr__`` raises
        ``AttributeError`` for a name not in ``exports``.
    """

    def load(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def listing() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return load, listing
