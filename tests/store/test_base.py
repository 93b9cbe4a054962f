"""``SqlBase``: the URLs the store opens, and the ones it refuses."""

from __future__ import annotations

import pytest

from warden.errors import StoreConfigError
from warden.store import SqlStore


def test_unsupported_url_is_a_config_error() -> None:
    with pytest.raises(StoreConfigError):
        SqlStore("mysql://root@localhost/test")
    with pytest.raises(StoreConfigError):
        SqlStore("not a url")
