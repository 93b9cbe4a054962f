"""The README's quickstart runs as written, against the database under test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from warden.core.runs import RunFilter, RunStatus, ToolCallStatus

ROOT = Path(__file__).resolve().parents[2]


def test_readme_quickstart_runs_and_records_the_run(tmp_path, database_url, store) -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has no python quickstart"
    script = tmp_path / "quickstart.py"
    script.write_text(blocks[0])
    env = {
        **os.environ,
        "WARDEN_DATABASE_URL": database_url,
        "WARDEN_HOME": str(tmp_path / ".warden"),
    }
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "denied: issue_refund is blocked" in out.stdout
    assert "\nshadow resolved run_" in out.stdout  # the example spec starts in shadow
    (run,) = store.list_runs(RunFilter(agent="ticket-router"))
    assert run.status is RunStatus.RESOLVED
    detail = store.get_run(run.id)
    assert [(c.tool, c.status) for c in detail.tool_calls] == [
        ("lookup_customer", ToolCallStatus.SUCCEEDED),
        ("issue_refund", ToolCallStatus.DENIED),
        ("route_ticket", ToolCallStatus.PROPOSED),
    ]
    assert detail.model_calls[0].input_tokens == 420
