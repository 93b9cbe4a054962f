"""Enforcement: the governor, runs, and the interceptors every tool call goes through."""

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
