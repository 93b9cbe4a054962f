"""The dashboard's pages: one module per area, sharing ``common`` (sign-in, roles, CSRF,
rendering), ``plain`` (plain words) and ``charts`` (inline SVG)."""
