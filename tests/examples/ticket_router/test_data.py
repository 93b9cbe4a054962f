from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.examples.ticket_router.conftest import DATA
from ticket_router.data import Banking77, load_banking77
from warden import ConfigError
from warden.cli.main import app


def test_the_real_data_loads_with_its_77_intents(banking77: Banking77) -> None:
    assert len(banking77.train_texts) == 10_003
    assert len(banking77.test) == 3_080
    assert len(set(banking77.categories)) == 77
    assert {t.label for t in banking77.test} == set(banking77.categories)
    assert banking77.train_sha256.startswith("b06e26ac")


def test_a_missing_file_is_named(banking77: Banking77, tmp_path: Path) -> None:
    for name in ("categories.json", "train.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    with pytest.raises(ConfigError, match=r"test\.csv missing"):
        load_banking77(tmp_path)


def test_the_demo_command_names_the_missing_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "train.csv" in result.output and "--data DIR" in result.output
