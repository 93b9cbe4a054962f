"""Governed tools: a Python function plus pydantic validation built from its type hints.

Arguments are validated (and coerced) before the policy sees them; an invalid call is
never executed (``ToolInputError``). An argument nested more than ``MAX_ARGUMENT_DEPTH``
(32) levels deep is invalid too, found by a walk without recursion before pydantic (or
anything else recursive) sees it. The result is validated against the return
annotation (``ToolOutputError``). A tool that declares an ``idempotency_key`` parameter
receives the key Warden derived for the call, so the system it writes to can apply a
retried write once (as Stripe's and most payment APIs' idempotency keys do).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model
from pydantic_core import to_jsonable_python

from warden.core.calls import MAX_ARGUMENT_DEPTH, too_deep_argument
from warden.errors import ToolInputError, ToolOutputError, ToolRegistrationError

__all__ = ["IDEMPOTENCY_PARAM", "GovernedTool", "ToolRegistry", "check_depth"]

IDEMPOTENCY_PARAM = "idempotency_key"
"""Name of the optional parameter through which a tool receives its idempotency key."""

_TOO_DEEP = f"nested more than {MAX_ARGUMENT_DEPTH} levels deep"
_NOT_RECORDED = f"<{_TOO_DEEP}: not recorded>"


def check_depth(tool: str, arguments: dict[str, Any]) -> None:
    """Refuse arguments nested more than ``MAX_ARGUMENT_DEPTH`` levels deep.

    A walk without recursion (``too_deep_argument``); call it before anything recursive
    (validation, canonical JSON, hashing) sees the arguments.

    Raises:
        ToolInputError: An argument is nested too deep; it names the argument.
    """
    deep = too_deep_argument(arguments)
    if deep is not None:
        raise ToolInputError(
            f"{tool}: invalid arguments: {deep}: {_TOO_DEEP} (lists, objects), "
            "the most a tool argument may be"
        )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "arguments"
    return f"{where}: {err['msg']}"


@dataclass(frozen=True, slots=True)
class GovernedTool:
    """A registered tool.

    Attributes:
        name: Tool name (as in the spec).
        fn: The function that does the work.
        arguments_model: Pydantic model of the arguments (extra arguments forbidden).
        result_adapter: Validator of the return value, or None when not annotated.
        takes_idempotency_key: Whether ``fn`` accepts ``idempotency_key``.
    """

    name: str
    fn: Callable[..., Any]
    arguments_model: type[BaseModel]
    result_adapter: TypeAdapter[Any] | None
    takes_idempotency_key: bool

    @classmethod
    def from_function(cls, fn: Callable[..., Any], name: str | None = None) -> GovernedTool:
        """Build a governed tool from ``fn``'s signature and type hints.

        Raises:
            ToolRegistrationError: ``fn`` takes ``*args``/``**kwargs`` or positional-only
                parameters, or its hints cannot be resolved.
        """
        tool_name = name or getattr(fn, "__name__", "")
        if not tool_name:
            raise ToolRegistrationError("a tool needs a name")
        try:
            hints = typing.get_type_hints(fn)
        except Exception as exc:
            raise ToolRegistrationError(f"{tool_name}: cannot resolve type hints: {exc}") from exc
        fields: dict[str, Any] = {}
        takes_key = False
        for param in inspect.signature(fn).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
                raise ToolRegistrationError(
                    f"{tool_name}: parameter {param.name!r} must be a named parameter "
                    "(no *args, **kwargs or positional-only)"
                )
            if param.name == IDEMPOTENCY_PARAM:
                takes_key = True
                continue
            annotation = hints.get(param.name, Any)
            default = ... if param.default is param.empty else param.default
            fields[param.name] = (annotation, default)
        model = create_model(  # pyright: ignore[reportCallIssue, reportUnknownVariableType]
            f"{tool_name}_arguments",
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **fields,
        )
        returns = hints.get("return")
        adapter = None if returns is None or returns is type(None) else TypeAdapter(returns)
        return cls(tool_name, fn, model, adapter, takes_key)  # pyright: ignore[reportUnknownArgumentType]

    def validate_arguments(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate and coerce ``raw`` arguments.

        Returns:
            The arguments as the function will receive them.

        Raises:
            ToolInputError: Missing, extra or ill-typed arguments, or one nested more than
                ``MAX_ARGUMENT_DEPTH`` levels deep.
        """
        check_depth(self.name, raw)
        try:
            model = self.arguments_model.model_validate(raw)
        except ValidationError as exc:
            raise ToolInputError(f"{self.name}: invalid arguments: {_first_error(exc)}") from exc
        return {k: getattr(model, k) for k in type(model).model_fields}

    def validate_result(self, value: Any) -> Any:
        """Validate the return value against the annotation.

        Raises:
            ToolOutputError: The value does not match the declared return type.
        """
        if self.result_adapter is None:
            return value
        try:
            return self.result_adapter.validate_python(value)
        except ValidationError as exc:
            raise ToolOutputError(f"{self.name}: invalid result: {_first_error(exc)}") from exc

    @staticmethod
    def arguments_as_json(arguments: dict[str, Any]) -> dict[str, Any]:
        """Validated arguments as JSON-able data, for records and approval requests.

        An argument nested too deep to validate is recorded as a note, not walked.
        """
        if too_deep_argument(arguments) is not None:
            arguments = {
                k: _NOT_RECORDED if too_deep_argument({k: v}) is not None else v
                for k, v in arguments.items()
            }
        try:
            return to_jsonable_python(arguments)
        except Exception:  # an argument pydantic cannot serialise is recorded as text
            return {k: repr(v) for k, v in arguments.items()}

    def result_as_json(self, value: Any) -> Any:
        """The result as JSON-able data, for the record."""
        if self.result_adapter is not None:
            try:
                return self.result_adapter.dump_python(value, mode="json")
            except Exception:  # a result the adapter cannot dump is recorded as text
                return repr(value)
        try:
            return to_jsonable_python(value)
        except Exception:
            return repr(value)


class ToolRegistry:
    """The functions registered for an agent's tools, by name."""

    def __init__(self) -> None:
        self._tools: dict[str, GovernedTool] = {}

    def register(self, fn: Callable[..., Any], name: str | None = None) -> GovernedTool:
        """Register ``fn`` (under ``name`` or its ``__name__``).

        Raises:
            ToolRegistrationError: The name is taken or the function cannot be governed.
        """
        tool = GovernedTool.from_function(fn, name)
        if tool.name in self._tools:
            raise ToolRegistrationError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> GovernedTool | None:
        """The tool registered as ``name``, or None."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Registered tool names, sorted."""
        return sorted(self._tools)
