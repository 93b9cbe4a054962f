"""The dashboard's pages: one module per page (``fleet``, ``agent``, ``runs``, ``queue``,
``audit``, ``auth``), sharing ``common`` (sign-in, roles, CSRF, rendering), ``wording``
(records and numbers in plain words) and ``charts`` (inline SVG)."""
