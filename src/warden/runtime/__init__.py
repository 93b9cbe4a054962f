"""Enforcement: the governor, runs, and the interceptors every tool call goes through.

The names below are imported on first use (PEP 562): importing one runtime module does not
import the whole runtime.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warden.runtime.chain.interceptor import CallContext, Interceptor, Proceed
    from warden.runtime.governor import Governor
    from warden.runtime.recorder import Recorder, Spool
    from warden.runtime.run import Run
    from warden.runtime.shadow import Proposal
    from warden.runtime.tools import GovernedTool, ToolRegistry

__all__ = [
    "CallContext",
    "GovernedTool",
    "Governor",
    "Interceptor",
    "Proceed",
    "Proposal",
    "Recorder",
    "Run",
    "Spool",
    "ToolRegistry",
]

# The module that defines each name.
_LAZY = {
    **dict.fromkeys(["CallContext", "Interceptor", "Proceed"], "chain.interceptor"),
    "Governor": "governor",
    **dict.fromkeys(["Recorder", "Spool"], "recorder"),
    "Run": "run",
    "Proposal": "shadow",
    **dict.fromkeys(["GovernedTool", "ToolRegistry"], "tools"),
}

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error

    def __getattr__(name: str) -> object:
        """Import a public name on first use (PEP 562)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
