"""Adapters that govern calls made through third-party model SDKs.

Each adapter lives in its own module and imports its SDK there, so importing
``warden.integrations`` never requires an optional dependency:

- ``warden.integrations.openai``: ``GovernedOpenAI`` for the official ``openai`` SDK
  (Chat Completions, structured output with bounded re-asks). Install ``warden[openai]``.

Adapters sit beside ``store`` and ``telemetry`` in the layers (DESIGN.md): they may import
``runtime``, ``core`` and ``errors``, never ``sdk`` or ``cli``.
"""

__all__: list[str] = []
