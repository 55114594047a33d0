"""`run --parallel` on a Dagster instance kept in Postgres (dagster-postgres, configured in the
home's dagster.yaml as the README shows): both batches run at once, each once, into the tables of a
sequential run, and the instance (in Postgres) records them.

Needs a Postgres server: TIKTOK_VIRALITY_TEST_POSTGRES_URL names one (a user that may create
databases; `.ci/run` starts Debian's server and sets it), and the `postgres` extra installed.
`pytest -m postgres` runs it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pandas as pd
import pytest

from tiktok_virality_tests.cli.test_parallel_runs import (
    BatchesInFlight,
    batch_of_video,
    cli_runs,
    materializations_per_partition,
    run_in_parallel_until_both_batches_are_held,
)
from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.faults import assert_tables_equal
from tiktok_virality_tests.live_cli import cli_env, finished, import_sample, tables

SERVER_VARIABLE = "TIKTOK_VIRALITY_TEST_POSTGRES_URL"
INSTANCE_URL_VARIABLE = "TIKTOK_VIRALITY_DAGSTER_POSTGRES_URL"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get(SERVER_VARIABLE),
        reason=f"no Postgres server: set {SERVER_VARIABLE} (postgresql://user@host:port/db)",
    ),
]

# What the README tells a user to put in the home's dagster.yaml.
POSTGRES_DAGSTER_YAML = f"""\
storage:
  postgres:
    postgres_url:
      env: {INSTANCE_URL_VARIABLE}
"""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own on the server, dropped afterwards."""
    psycopg2 = pytest.importorskip(
        "psycopg2", reason="the postgres extra: pip install -e '.[postgres]'"
    )
    server = os.environ[SERVER_VARIABLE]
    name = f"tiktok_virality_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        # The driver dagster-postgres installs, named: SQLAlchemy 2.1 takes `postgresql://` for
        # psycopg 3, which it does not install (README).
        yield urlunsplit(urlsplit(server)._replace(scheme="postgresql+psycopg2", path=f"/{name}"))
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_batches_run_side_by_side_on_an_instance_in_postgres(
    tmp_path: Path,
    postgres_url: str,
    sample_export: Path,
    uninterrupted_tables: dict[str, pd.DataFrame],
    module_fake_apify: FakeApify,
    module_fake_gemini: FakeGemini,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip(
        "dagster_postgres", reason="the postgres extra: pip install -e '.[postgres]'"
    )
    data = tmp_path / "data"
    (data / "dagster_home").mkdir(parents=True)
    (data / "dagster_home" / "dagster.yaml").write_text(POSTGRES_DAGSTER_YAML, encoding="utf-8")
    monkeypatch.setenv(INSTANCE_URL_VARIABLE, postgres_url)  # this process's instance too
    import_sample(data, sample_export)
    env = cli_env(data, module_fake_apify, module_fake_gemini) | {
        INSTANCE_URL_VARIABLE: postgres_url
    }
    gemini = BatchesInFlight(
        module_fake_gemini, batch_of_video(data, sample_export), stop_at=1, failing=set()
    )
    module_fake_gemini.on_generate(gemini)

    run = run_in_parallel_until_both_batches_are_held(env, gemini)
    gemini.release.set()
    code, output = finished(run)

    assert code == 0, output
    assert "2 partitions materialized, 0 failed" in output
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    runs = cli_runs(data)
    assert sorted(len(records) for key, records in runs.items() if "|" in key) == [1, 1]
    assert set(materializations_per_partition(data).values()) == {1}
    assert_tables_equal(tables(data), uninterrupted_tables)
