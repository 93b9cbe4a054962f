"""The control plane: HTTP API, OTLP ingest and the dashboard."""

from warden.server.app import create_app

__all__ = ["create_app"]
