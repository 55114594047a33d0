"""What one CLI invocation opens, no more than its command needs: the stores' tables read without
Dagster (`dataset list`, `show`), the persistent Dagster instance (`status`), or the whole session
(`run`, `dataset create`, `import`): the graph with the resources it chose, live or offline, and
the stores the command writes. Dagster and the graph are imported by the functions that open them:
those imports take seconds that the quick commands do not spend."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tiktok_virality.config import Settings
from tiktok_virality.warehouse.migrations import StoreSchema, migrate

if TYPE_CHECKING:
    import dagster as dg

    from tiktok_virality.defs.datasets.error_log import ErrorLog
    from tiktok_virality.defs.datasets.registry import DatasetRegistry


@dataclass(frozen=True)
class Session:
    """The settings, resources and Dagster instance of one CLI invocation."""

    settings: Settings
    defs: dg.Definitions
    registry: DatasetRegistry
    error_log: ErrorLog
    instance: dg.DagsterInstance


def migrate_existing(settings: Settings, schemas: Iterable[StoreSchema]) -> None:
    """The stores' tables brought up to date before a command reads them, if the database file
    exists: reading never creates it."""
    if settings.database.exists():
        migrate(settings.database, schemas)


@contextmanager
def open_instance(settings: Settings) -> Iterator[dg.DagsterInstance]:
    """The persistent instance in the home `dagster dev` is started with (README), so that the
    CLI's runs show in the UI and the CLI sees the UI's."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(prepare_dagster_home(settings))) as instance:
        yield instance


def prepare_dagster_home(settings: Settings) -> Path:
    """The Dagster home, made if missing: `dagster dev` refuses a home that does not exist, and
    warns about one without a dagster.yaml (its defaults, SQLite storage in the home, are ours)."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    (settings.dagster_home / "dagster.yaml").touch(exist_ok=True)
    return settings.dagster_home


@contextmanager
def open_session(settings: Settings, *, offline: bool) -> Iterator[Session]:
    from tiktok_virality.definitions import build_definitions
    from tiktok_virality.resources import STORE_SCHEMAS, build_resources

    resources = build_resources(settings, offline=offline)
    defs = build_definitions(resources)
    # The stores' tables, made or upgraded once for the command's own writes (a dataset, its
    # settings); the runs it starts find them up to date.
    migrate(settings.database, STORE_SCHEMAS)
    with open_instance(settings) as instance:
        # The repository is built once, now, while entering the instance has just made its state
        # storage the current one: building it later (the first automation evaluation) reads the
        # current storage, which an instance left unclosed elsewhere in the process (a test's)
        # can reset to a disposed one when the garbage collector finalizes it.
        defs.get_repository_def()
        _show_dagster_first_run_notice(instance)
        yield Session(settings, defs, resources["registry"], resources["error_log"], instance)


def _show_dagster_first_run_notice(instance: dg.DagsterInstance) -> None:
    """Dagster prints its telemetry notice and welcome (to stderr) the first time it records
    telemetry for a home, which is in the middle of a run's first partition. Taking Dagster's own
    first-run path now, before the command's first line, prints it there instead. Nothing else
    changes: with telemetry on (the user's choice in the home's dagster.yaml, README), Dagster
    would have done this anyway; with it off, nothing is printed or written."""
    from dagster_shared.telemetry import get_or_set_instance_id

    if instance.telemetry_enabled:
        get_or_set_instance_id()
