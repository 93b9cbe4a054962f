"""Enforcement: the governor, runs, and the interceptors every tool call goes through.

The names below are imported on first use (PEP 562): importing one runtime module does not
import the whole runtime.
"""

from typing import TYPE_CHECKING

from warden._lazy import lazy_exports

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
    **dict.fromkeys(["CallContext", "Interceptor", "Proceed"], ".chain.interceptor"),
    "Governor": ".governor",
    **dict.fromkeys(["Recorder", "Spool"], ".recorder"),
    "Run": ".run",
    "Proposal": ".shadow",
    **dict.fromkeys(["GovernedTool", "ToolRegistry"], ".tools"),
}

if not TYPE_CHECKING:  # the type checker sees the imports above; an unknown name stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
