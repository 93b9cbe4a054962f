"""The kill-switch interceptor: no call proceeds while the kill switch is on."""

from __future__ import annotations

from warden.runtime.chain.interceptor import CallContext, Proceed
from warden.runtime.killswitch import KillSwitch

__all__ = ["KillSwitchGate"]


class KillSwitchGate:
    """Interceptor: check the agent's kill switch (cached, ``ttl_s``) before every call.

    Args:
        kill_switch: The governor's cached view of the switch.
    """

    def __init__(self, kill_switch: KillSwitch) -> None:
        self.kill_switch = kill_switch

    def __call__(self, ctx: CallContext, proceed: Proceed) -> object:
        """Check the switch, then proceed.

        Raises:
            KillSwitchEngaged: The switch is on.
            StoreUnavailable: The switch cannot be read (see ``KillSwitch.state``).
        """
        self.kill_switch.check()
        return proceed(ctx)
