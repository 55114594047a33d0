"""A process of `run --parallel`: runs the partitions its parent hands it, one at a time, each as
the sequential CLI does (`run_partition`: its own run in the persistent instance, tagged with this
process's id so that a killed one is found), and answers each with its outcome.

The parent writes a planned run per line on stdin and reads an outcome per line from the stdout
this process started with; anything else printed goes to stderr. Ctrl-C reaches it from the parent
(it is in a session of its own, so that the terminal's Ctrl-C is the parent's to forward once):
Dagster stops the run as interrupted, as it does in the sequential CLI, and the outcome says so.
A parent that dies takes it along (Linux's parent-death signal), leaving its run to be recorded
as abandoned by the next `run`."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from tiktok_virality.cli.runner import PlannedRun, RunOutcome
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.core.phases import Phase
from tiktok_virality.defs.scraping.quality_rules import QualityRule

OFFLINE_FLAG = "--offline"


def planned_to_json(planned: PlannedRun) -> str:
    return json.dumps(
        {
            "dataset": planned.partition.dataset,
            "batch": planned.partition.batch,
            "phases": [phase.value for phase in planned.phases],
        }
    )


def planned_from_json(line: str) -> PlannedRun:
    values = json.loads(line)
    return PlannedRun(
        VideoPartition(values["dataset"], values["batch"]),
        tuple(Phase(phase) for phase in values["phases"]),
    )


def outcome_to_json(outcome: RunOutcome) -> str:
    values: dict[str, Any] = {
        "dataset": outcome.partition.dataset,
        "batch": outcome.partition.batch,
        "phases": [phase.value for phase in outcome.phases],
        "success": outcome.success,
        "seconds": outcome.seconds,
        "rows": {phase.value: rows for phase, rows in outcome.rows.items()},
        "errors": {phase.value: errors for phase, errors in outcome.errors.items()},
        "error": outcome.error,
        "run_id": outcome.run_id,
        "interrupted": outcome.interrupted,
        "rejected_by_rule": {rule.value: n for rule, n in outcome.rejected_by_rule.items()},
    }
    return json.dumps(values)


def outcome_from_json(line: str) -> RunOutcome:
    values = json.loads(line)
    return RunOutcome(
        partition=VideoPartition(values["dataset"], values["batch"]),
        phases=tuple(Phase(phase) for phase in values["phases"]),
        success=values["success"],
        seconds=values["seconds"],
        rows={Phase(phase): rows for phase, rows in values["rows"].items()},
        errors={Phase(phase): errors for phase, errors in values["errors"].items()},
        error=values["error"],
        run_id=values["run_id"],
        interrupted=values["interrupted"],
        rejected_by_rule={QualityRule(r): n for r, n in values["rejected_by_rule"].items()},
    )


def main() -> int:
    # The outcomes' channel is the stdout this process started with; print() and any library's
    # output go to stderr from now on, so that they never garble an outcome.
    outcomes = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        return _serve(outcomes, offline=OFFLINE_FLAG in sys.argv[1:])
    except KeyboardInterrupt:  # between two partitions, or while starting: nothing to say
        return 130


def _serve(outcomes: Any, *, offline: bool) -> int:
    # Imported here: the graph and Dagster take seconds, after the channel is set up.
    from tiktok_virality.cli.runner import run_partition
    from tiktok_virality.cli.session import open_session
    from tiktok_virality.config import load_settings

    with open_session(load_settings(), offline=offline) as session:
        for line in sys.stdin:
            outcome = run_partition(session.instance, session.defs, planned_from_json(line))
            outcomes.write(outcome_to_json(outcome) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
