"""The store ports: every implementation offers each method of the port it claims, with
the port's own signature, and the runtime port is a strict part of the whole store."""

from __future__ import annotations

import inspect

import pytest

from warden.core.ports import ControlStore, RuntimeStore, Store


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if callable(member) and not name.startswith("_")
    }


def _implementations() -> list[tuple[type, type]]:
    from warden.store import SqlStore
    from warden.store.remote import RemoteStore
    from warden.testing import SwitchableStore

    return [(SqlStore, Store), (RemoteStore, RuntimeStore), (SwitchableStore, RuntimeStore)]


def test_the_runtime_port_is_what_the_hot_path_needs_and_nothing_of_control() -> None:
    runtime, control = _methods(RuntimeStore), _methods(ControlStore)
    assert not set(runtime) & set(control)
    assert RuntimeStore in Store.__mro__ and ControlStore in Store.__mro__
    # Changing a stage, deciding approvals as a person, writing the audit log: control only.
    for name in ("save_rollout", "set_kill_switch", "approve_release", "append_audit"):
        assert name in control and name not in runtime


@pytest.mark.parametrize(("impl", "port"), _implementations())
def test_each_implementation_has_the_ports_signatures(impl: type, port: type) -> None:
    wanted = {**_methods(port)}
    if port is Store:
        wanted |= _methods(RuntimeStore) | _methods(ControlStore)
    for name, signature in wanted.items():
        method = getattr(impl, name, None)
        assert method is not None, f"{impl.__name__} lacks {name}"
        assert list(inspect.signature(method).parameters) == list(signature.parameters), name
