"""Reliability, part 5: paths and SQL. Nothing a user types — dataset names, accounts, file names —
writes outside the data folder or changes a SQL statement: hostile values are refused with a clear
message (exit 2) before anything is written, or stored verbatim as data, with every table's schema
and every other dataset's rows unchanged."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tiktok_virality.cli.main import main
from tiktok_virality_tests.helpers import (
    BUILT,
    DATABASE_FILE,
    assert_refused_writing_nothing,
    real_items,
    stored_state,
    use_folder,
)

HOSTILE_DATASET_NAMES = {
    "parent folder": "../x",
    "absolute path": "/etc/x",
    "SQL": "a'; DROP TABLE raw_videos; --",
    "partition key separator": "a|b",
    "NUL": "a\x00b",
    "Cyrillic homoglyph": "dеmo",
    "upper case": "DEMO",
    "41 characters": "a" * 41,
    "10,000 characters": "a" * 10_000,
    "empty": "",
    "trailing newline": "demo\n",
    "dot dot": "..",
    "shell": "$(touch pwned)",
    "glob": "*",
}
HOSTILE_ACCOUNTS = {
    "parent folder": "../x",
    "SQL": "a'; DROP TABLE raw_videos; --",
    "pipe": "a|b",
    "NUL": "a\x00b",
    "Cyrillic homoglyph": "аlice",
    "full-width homoglyph": "ａlice",
    "25 characters": "a" * 25,
    "10,000 characters": "a" * 10_000,
    "another site": "https://evil.example/@alice",
    "profile URL without @": "https://www.tiktok.com/alice",
    "a lone @": "@",
    "periods only": "..",
    "space inside": "al ice",
    "quote": 'al"ice',
}


def commands_naming(dataset: str, export: Path) -> list[list[str]]:
    """Every command that takes a dataset name."""
    return [
        ["run", "--offline", "--dataset", dataset],
        ["status", "--dataset", dataset],
        ["status", "--json", "--dataset", dataset],
        ["dataset", "show", "--dataset", dataset],
        ["dataset", "create", "alice", "--dataset", dataset],
        ["dataset", "import", str(export), "--dataset", dataset],
    ]


def top_level_entries(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def test_hostile_dataset_names_are_refused_by_every_command_writing_nothing(
    existing_data: Path, apify_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    beside = top_level_entries(existing_data.parent)
    export = apify_fixtures / "profile_items_2025.json"
    commands = [
        (case, command)
        for case, name in HOSTILE_DATASET_NAMES.items()
        for command in commands_naming(name, export)
    ]

    errors = assert_refused_writing_nothing(existing_data, [c for _, c in commands], capsys)

    for (case, command), error in zip(commands, errors, strict=True):
        assert "invalid dataset name" in error, (case, command)
    assert top_level_entries(existing_data.parent) == beside
    assert not Path("/etc/x").exists()


def test_hostile_accounts_are_refused_each_by_name_and_nothing_is_written(
    existing_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APIFY_API_TOKEN", "token")
    monkeypatch.setenv("APIFY_API_URL", "http://127.0.0.1:9")  # never called: refused before
    hostile = list(HOSTILE_ACCOUNTS.values())
    accounts = tmp_path / "accounts.txt"
    accounts.write_text("".join(f"{account}\n" for account in ["alice", *hostile]), "utf-8")

    # Every entry is checked, and every invalid one reported: one command tries them all.
    errors = assert_refused_writing_nothing(
        existing_data,
        [
            ["dataset", "create", "--dataset", "v2", "alice", *hostile],
            ["dataset", "create", "--dataset", "v2", "--accounts", str(accounts)],
            ["run", "--dataset", "v2", "--accounts", str(accounts)],
        ],
        capsys,
    )

    for case, account in HOSTILE_ACCOUNTS.items():
        assert all(f"invalid account {account!r}" in error for error in errors), case
    assert all("'alice'" not in error for error in errors)


UNREADABLE_FILES = {
    # case: (file name under the test's folder, what the message says)
    "NUL in the name": ("x\x00y.json", "NUL character"),
    "a name too long": ("x" * 5_000, "File name too long"),
    "a directory": (".", "irectory"),
    "no such file": ("nowhere/../../x.json", "x.json"),
}


def test_file_names_that_cannot_be_read_are_refused_with_a_clear_message(
    existing_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = [
        (case, command)
        for case, (name, _) in UNREADABLE_FILES.items()
        for command in (
            ["dataset", "import", "--dataset", "v3", str(tmp_path / name)],
            ["dataset", "create", "--dataset", "v3", "--accounts", str(tmp_path / name)],
        )
    ]

    errors = assert_refused_writing_nothing(existing_data, [c for _, c in commands], capsys)

    for (case, command), error in zip(commands, errors, strict=True):
        assert UNREADABLE_FILES[case][1] in error, (case, command)


HOSTILE_TEXTS = [
    "'; DROP TABLE raw_videos; --",
    "Robert'); DELETE FROM datasets; --",
    '" OR "1"="1',
    "../../../../etc/passwd",
    "a|b",
    "nul\x00byte",
    "$(touch pwned) `id` %s {0} \\",
]


def table_columns(data: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(data / DATABASE_FILE), read_only=True) as connection:
        tables = connection.execute("SELECT table_name FROM information_schema.tables").fetchall()
        return {table: connection.execute(f'DESCRIBE "{table}"').fetchall() for (table,) in tables}


def dataset_rows(data: Path, dataset: str) -> dict[str, list[tuple]]:
    """Each table's row count and checksum for one dataset."""
    with duckdb.connect(str(data / DATABASE_FILE), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'dataset'"
        ).fetchall()
        return {
            table: connection.execute(
                f'SELECT count(*), bit_xor(hash(t)) FROM "{table}" t WHERE dataset = ?', [dataset]
            ).fetchall()
            for (table,) in tables
        }


def test_hostile_text_in_items_and_file_names_is_stored_verbatim_changing_no_table(
    populated: Path, tmp_path: Path, apify_fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(populated, root)
    use_folder(monkeypatch, root)
    columns, before = table_columns(root / "data"), dataset_rows(root / "data", "existing")
    items = [
        {
            **item,
            "text": text,
            "hashtags": [{"name": text}],
            "authorMeta": {**item["authorMeta"], "nickName": text},
            "musicMeta": {**item["musicMeta"], "musicName": text},
        }
        for item, text in zip(real_items(apify_fixtures), HOSTILE_TEXTS, strict=False)
    ]
    export = tmp_path / "a'; DROP TABLE raw_videos; --|x.json"
    export.write_text(json.dumps(items), encoding="utf-8")

    assert main(["dataset", "import", "--dataset", "hostile", str(export)]) == 0
    assert main(["run", "--dataset", "hostile", "--offline"]) == 0

    with duckdb.connect(str(root / "data" / DATABASE_FILE), read_only=True) as connection:
        stored = connection.execute(
            "SELECT caption, author_nickname, music_name, hashtags FROM raw_videos "
            "WHERE dataset = 'hostile' UNION ALL "
            "SELECT caption, author_nickname, music_name, hashtags FROM rejected_videos "
            "WHERE dataset = 'hostile'"
        ).fetchall()
        [(origin,)] = connection.execute(
            "SELECT origin FROM datasets WHERE dataset = 'hostile'"
        ).fetchall()
        features = connection.execute(
            "SELECT count(*) FROM video_features WHERE dataset = 'hostile'"
        ).fetchall()
    assert sorted(stored) == sorted((text, text, text, [text.lower()]) for text in HOSTILE_TEXTS)
    assert origin == f"export {export.name}"
    assert features[0][0] > 0
    assert table_columns(root / "data") == columns
    assert dataset_rows(root / "data", "existing") == before
    assert stored_state(root / "data")["partition keys"]["dataset"] == ["existing", "hostile"]
    assert top_level_entries(tmp_path) == {"copy", export.name}
    assert top_level_entries(root) == {"data", "export.json", "logs", BUILT}
