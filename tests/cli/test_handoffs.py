"""``warden handoffs list``: the human queue."""

from __future__ import annotations

import json


def test_handoffs_list_shows_the_human_queue(cli, make_governor, spec_factory) -> None:
    gov = make_governor(spec_factory({}))
    with gov.run(input="odd ticket") as run:
        run.escalate("not sure which queue")
    gov.flush()
    rows = json.loads(cli("handoffs", "list", "--json", "--queue", "tier1-humans").stdout)
    assert [(h["run_id"], h["trigger"]) for h in rows] == [(run.id, "manual")]
