"""Properties (hypothesis) of what reads untrusted input: the normalizer of Apify items, the export
reader, and the validation of dataset and account names. Derandomized, so CI tries the same
examples on every run; example counts are kept small enough for a few seconds in all."""

import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tiktok_virality.core.naming import (
    ACCOUNT_PATTERN,
    DATASET_NAME_PATTERN,
    InvalidNameError,
    normalize_account,
    validate_dataset_name,
)
from tiktok_virality.core.partitions import VideoPartition
from tiktok_virality.defs.scraping.exports import ExportError, read_export
from tiktok_virality.defs.scraping.normalize import normalize_items
from tiktok_virality.warehouse.io_manager import read_partitions, write_partition
from tiktok_virality.warehouse.tables import RAW_VIDEOS

SCRAPED_AT = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
PARTITION = VideoPartition("v1", "b001")
RAW_VIDEO_TYPES = {column.name: column.sql_type for column in RAW_VIDEOS.columns}
INT_BOUNDS = {"BIGINT": 2**63, "INTEGER": 2**31}


def examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# --- strategies: JSON as Apify (or a broken export, or a broken scraper) may send it -----------

# Halves of surrogate pairs: valid in JSON escapes, not storable as UTF-8.
lone_surrogates = st.sampled_from(["\ud83d", "cut \ud83d", "\udc00x"])
texts = st.one_of(
    st.text(max_size=12),
    st.text(max_size=12),
    lone_surrogates,
    st.sampled_from(["", " ", "'; DROP"]),
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
usernames = st.from_regex(ACCOUNT_PATTERN, fullmatch=True).filter(lambda name: name.strip("."))
names_lists = st.lists(st.fixed_dictionaries({"name": texts}) | texts, max_size=4)
video_ids = st.sampled_from(["7524354452762037512", "7000000000000000001"]) | st.from_regex(
    r"[0-9]{1,19}", fullmatch=True
)
whole_numbers = st.integers(0, 10**9) | st.integers(0, 10**6).map(str)

# A video as the scraper returns it: every field of a usable type and range.
videos = st.fixed_dictionaries(
    {
        "id": video_ids | st.integers(0, 2**63),
        "input": usernames | usernames.map(lambda name: f"https://www.tiktok.com/@{name}"),
        "text": texts,
        "playCount": whole_numbers,
        "diggCount": whole_numbers,
        "collectCount": whole_numbers,
        "createTime": st.integers(1_000_000_000, 4_102_444_799),
        "hashtags": names_lists,
        "mentions": names_lists,
        "isSlideshow": st.booleans(),
        "mediaUrls": st.lists(texts, max_size=2),
        "authorMeta": st.fixed_dictionaries(
            {"name": usernames, "fans": whole_numbers, "nickName": texts}
        ),
        "videoMeta": st.fixed_dictionaries({"duration": st.integers(0, 600)}),
        "musicMeta": st.fixed_dictionaries({"musicName": texts, "musicOriginal": st.booleans()}),
    }
)
# What breaks a field: anything at all, or a value of the right type out of its range.
bad_values = json_values | st.integers(-(2**70), 2**70) | st.sampled_from(["lots", "1.5", "NaN"])


@st.composite
def damaged_videos(draw: st.DrawFn) -> dict[str, Any]:
    """A video with up to three of its fields removed or replaced by a bad value."""
    item = draw(videos)
    for key in draw(st.sets(st.sampled_from(sorted(item)), max_size=3)):
        if draw(st.booleans()):
            del item[key]
        else:
            item[key] = draw(bad_values)
    return item


items = st.one_of(videos, damaged_videos(), damaged_videos(), json_values)
batches = st.lists(items, max_size=5)


def normalized(batch: list[Any]) -> tuple[pd.DataFrame, list[Any]]:
    result = normalize_items(
        batch, dataset=PARTITION.dataset, batch=PARTITION.batch, scraped_at=SCRAPED_AT
    )
    return result.videos, result.errors


def has_lone_surrogate(value: Any) -> bool:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return bool(re.search("[\ud800-\udfff]", text))


def assert_row_keeps_the_contract(row: dict[str, Any]) -> None:
    assert re.fullmatch(r"[0-9]+", row["video_id"])
    assert ACCOUNT_PATTERN.fullmatch(row["account"]) and row["account"] == row["account"].lower()
    for column in RAW_VIDEOS.columns:
        value = row[column.name]
        if column.sql_type in INT_BOUNDS and not pd.isna(value):
            assert -INT_BOUNDS[column.sql_type] <= value < INT_BOUNDS[column.sql_type]
    if not pd.isna(row["created_at"]):
        assert (
            datetime(2001, 9, 9, tzinfo=UTC) <= row["created_at"] < datetime(2100, 1, 1, tzinfo=UTC)
        )
    for column, prefix in (("hashtags", "#"), ("mentions", "@")):
        names = row[column] or []
        assert all(name and name == name.strip().lower() and name[0] != prefix for name in names)
    assert not has_lone_surrogate(row)
    json.loads(row["raw_item"])


@examples(40)
@given(batches)
def test_any_items_give_each_a_row_or_an_error_and_rows_keep_the_contract(batch: list[Any]) -> None:
    rows, errors = normalized(batch)

    alone = [normalized([item]) for item in batch]
    assert all(len(item_rows) + len(item_errors) == 1 for item_rows, item_errors in alone)
    # The batch holds each item's own outcome: its errors, and the first row of each video.
    first_rows = {}
    for item_rows, _ in alone:
        for row in item_rows.to_dict("records"):
            first_rows.setdefault(row["video_id"], row)
    assert rows["video_id"].tolist() == list(first_rows)
    assert len(errors) == sum(len(item_errors) for _, item_errors in alone)
    assert list(rows.columns) == list(RAW_VIDEO_TYPES)
    for row in rows.to_dict("records"):
        assert_row_keeps_the_contract(row)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rows") / "rows.duckdb"


@examples(25)
@given(batch=st.lists(st.one_of(videos, damaged_videos()), max_size=4))
def test_accepted_rows_are_stored_and_read_back_as_they_were(
    database: Path, batch: list[Any]
) -> None:
    rows, _ = normalized(batch)

    written = write_partition(database, RAW_VIDEOS.name, RAW_VIDEO_TYPES, PARTITION, rows)
    stored = read_partitions(database, RAW_VIDEOS.name, RAW_VIDEO_TYPES, [PARTITION])

    assert written == len(stored) == len(rows)
    for column in ("video_id", "account", "caption", "play_count", "like_count", "created_at"):
        assert stored[column].tolist() == rows[column].tolist(), column
    assert [list(tags) for tags in stored["hashtags"]] == [list(tags) for tags in rows["hashtags"]]
    assert [json.loads(item) for item in stored["raw_item"]] == [
        json.loads(item) for item in rows["raw_item"]
    ]


# --- exports ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exports(apify_fixtures: Path) -> dict[str, tuple[bytes, list[dict]]]:
    """The real exports as JSON, JSON Lines and console CSV: their bytes and their items."""
    json_items = read_export(apify_fixtures / "profile_items_2025.json")
    jsonl = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in json_items)
    return {
        "JSON": ((apify_fixtures / "profile_items_2025.json").read_bytes(), json_items),
        "JSON Lines": (jsonl.encode(), json_items),
        "CSV": (
            (apify_fixtures / "profile_export_2024.csv").read_bytes(),
            read_export(apify_fixtures / "profile_export_2024.csv"),
        ),
    }


def read_bytes_as_export(data: bytes) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export"
        path.write_bytes(data)
        return read_export(path)


@pytest.mark.parametrize("export_format", ["JSON", "JSON Lines", "CSV"])
@examples(40)
@given(cut=st.floats(0, 1, exclude_max=True))
def test_an_export_cut_anywhere_is_refused_or_reads_as_whole_items(
    exports: dict[str, tuple[bytes, list[dict]]], export_format: str, cut: float
) -> None:
    data, items = exports[export_format]

    try:
        read = read_bytes_as_export(data[: int(len(data) * cut)])
    except ExportError:
        return
    # A cut between two lines of JSON Lines or CSV is undetectable: it loses whole items, never
    # part of one.
    assert read == items[: len(read)]


@examples(100)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_are_refused_as_an_export_error_or_read_as_objects(data: bytes) -> None:
    try:
        read = read_bytes_as_export(data)
    except ExportError as error:
        assert str(error).strip()
        return
    assert all(isinstance(item, dict) for item in read)
    assert not has_lone_surrogate(read)


# --- names ---------------------------------------------------------------------------------------

hostile_characters = st.sampled_from([*"/\\.|'\"; \n\t\x00-_@:%*$`", "е", "ａ", "\u202e"])
names = st.text(st.characters(codec="ascii") | hostile_characters, max_size=45)


def assert_safe_as_data(name: str) -> None:
    """Fit for a file name (alone or in one), a partition key, a field of a tab-separated line of
    a tracking file, and a SQL value."""
    folder = Path("/data/logs")
    for file_name in (name, f"pipeline_{name}.log"):
        assert (folder / file_name).resolve().parent == folder
    assert name.isascii() and name.isprintable() and not re.search(r"[\s/\\|,'\"]", name)
    with duckdb.connect() as connection:
        assert connection.execute("SELECT ?", [name]).fetchone() == (name,)


@examples(150)
@given(names)
@example("..")
@example("a|b")
@example("v1\n")
def test_a_dataset_name_is_refused_or_safe(name: str) -> None:
    try:
        accepted = validate_dataset_name(name)
    except InvalidNameError as error:
        assert "invalid dataset name" in str(error)
        return
    assert accepted == name and 1 <= len(name) <= 40 and name[0] not in ".-_"
    assert_safe_as_data(name)


@examples(60)
@given(st.from_regex(DATASET_NAME_PATTERN, fullmatch=True))
def test_every_dataset_name_of_the_documented_form_is_accepted(name: str) -> None:
    assert validate_dataset_name(name) == name


@examples(150)
@given(names | names.map(lambda text: f"https://www.tiktok.com/@{text}"))
@example(".")
@example("@..")
@example("https://www.tiktok.com/@../x")
def test_an_account_is_refused_or_a_safe_username(raw: str) -> None:
    try:
        account = normalize_account(raw)
    except InvalidNameError as error:
        assert repr(raw) in str(error)
        return
    assert ACCOUNT_PATTERN.fullmatch(account) and account == account.lower()
    assert normalize_account(account) == account
    assert_safe_as_data(account)


@examples(60)
@given(usernames)
def test_a_username_in_any_of_its_forms_is_one_account(username: str) -> None:
    forms = [
        username,
        f"@{username}",
        f" {username.upper()} ",
        f"https://www.tiktok.com/@{username}",
    ]
    assert {normalize_account(form) for form in forms} == {username.lower()}
