import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tiktok_virality.defs.scraping.coerce import coerce_bool, coerce_int
from tiktok_virality.defs.scraping.exports import read_export
from tiktok_virality.defs.scraping.normalize import (
    ItemError,
    NormalizedItems,
    item_account,
    normalize_items,
)
from tiktok_virality.warehouse.tables import RAW_VIDEOS

SCRAPED_AT = datetime(2025, 7, 8, 10, 55, tzinfo=UTC)
VIDEO_ID = "7524354452762037512"
EXPECTED_DTYPES = {
    **dict.fromkeys(RAW_VIDEOS.column_names, "object"),
    **dict.fromkeys(
        [
            "author_followers",
            "author_following",
            "author_likes",
            "author_video_count",
            "play_count",
            "like_count",
            "comment_count",
            "share_count",
            "save_count",
        ],
        "Int64",
    ),
    **dict.fromkeys(["duration_seconds", "width", "height", "slideshow_image_count"], "Int32"),
    **dict.fromkeys(
        [
            "author_verified",
            "music_original",
            "is_ad",
            "is_pinned",
            "is_slideshow",
            "is_sponsored",
        ],
        "boolean",
    ),
    "created_at": "datetime64[ns, UTC]",
    "scraped_at": "datetime64[ns, UTC]",
}


def _normalize(items: list[dict[str, Any]]) -> NormalizedItems:
    return normalize_items(items, dataset="v1", batch="b001", scraped_at=SCRAPED_AT)


def _row(result: NormalizedItems, video_id: str) -> dict[str, Any]:
    rows = result.videos[result.videos["video_id"] == video_id]
    assert len(rows) == 1, f"expected one row for {video_id}, got {len(rows)}"
    return rows.iloc[0].to_dict()


def _minimal_item(**fields: Any) -> dict[str, Any]:
    return {"id": VIDEO_ID, "input": "@someone", **fields}


@pytest.fixture
def json_items(apify_fixtures: Path) -> list[dict[str, Any]]:
    return read_export(apify_fixtures / "profile_items_2025.json")


@pytest.fixture
def csv_items(apify_fixtures: Path) -> list[dict[str, Any]]:
    return read_export(apify_fixtures / "profile_export_2024.csv")


# --- the 2025 JSON items


def test_json_items_give_ten_videos_with_the_table_columns_and_dtypes(
    json_items: list[dict[str, Any]],
) -> None:
    result = _normalize(json_items)

    assert result.errors == []
    assert list(result.videos.columns) == RAW_VIDEOS.column_names
    assert len(result.videos) == 10
    assert result.videos["video_id"].tolist()[:2] == [VIDEO_ID, "7523974732983651591"]
    assert {column: str(dtype) for column, dtype in result.videos.dtypes.items()} == (
        EXPECTED_DTYPES
    )
    assert set(result.videos["account"]) == {"meenitech"}


def test_json_item_values_match_the_file(json_items: list[dict[str, Any]]) -> None:
    row = _row(_normalize(json_items), VIDEO_ID)
    item = json_items[0]

    assert row["dataset"] == "v1"
    assert row["batch"] == "b001"
    assert row["account"] == "meenitech"
    assert row["video_id"] == "7524354452762037512"
    assert row["url"] == "https://www.tiktok.com/@meenitech/video/7524354452762037512"
    assert row["author_id"] == "7337708524620203026"
    assert row["author_name"] == "meenitech"
    assert row["author_nickname"] == "Meeni Tech"
    assert row["author_verified"] is False
    assert row["author_followers"] == 149800
    assert row["author_following"] == 0
    assert row["author_likes"] == 2400000
    assert row["author_video_count"] == 395
    assert row["author_region"] == "PK"
    assert row["caption"] == item["text"]
    assert row["caption"].startswith("🎯 Interviews are tough.")
    assert row["language"] == "en"
    assert row["hashtags"] == [
        "finalroundai",
        "meenitech",
        "aiinterviewcoach",
        "jobsearch2025",
        "smarttools",
        "zoommeeting",
        "careerupgrade",
        "aitools",
        "ai",
        "tech",
        "trending",
        "interview",
    ]
    assert row["mentions"] == []
    assert row["play_count"] == 2314
    assert row["like_count"] == 158
    assert row["comment_count"] == 12
    assert row["share_count"] == 0
    assert row["save_count"] == 23
    assert row["created_at"] == pd.Timestamp("2025-07-07T14:58:13Z")
    assert str(row["created_at"].tz) == "UTC"
    assert row["music_id"] == "7524354495968332561"
    assert row["music_name"] == "original sound - Meeni Tech"
    assert row["music_author"] == "Meeni Tech"
    assert row["music_original"] is True
    assert row["duration_seconds"] == 20
    assert row["width"] == 576
    assert row["height"] == 1024
    assert row["video_url"] == (
        "https://api.apify.com/v2/key-value-stores/bGSlbK85PXHJ3Ia8T/records/"
        "video-meenitech-20250707145813-7524354452762037512"
    )
    assert row["cover_url"] == item["videoMeta"]["coverUrl"]
    assert row["cover_url"].startswith("https://p16-sign-sg.tiktokcdn.com/tos-alisg-p-0037/")
    assert row["is_ad"] is False
    assert row["is_pinned"] is False
    assert row["is_slideshow"] is False
    assert row["is_sponsored"] is False
    assert row["slideshow_image_count"] == 0
    assert row["scraped_at"] == pd.Timestamp("2025-07-08T10:55:00Z")
    assert json.loads(row["raw_item"]) == item
    assert row["raw_item"] == json.dumps(item, ensure_ascii=False, sort_keys=True)


def test_json_item_mentions_and_empty_hashtag(json_items: list[dict[str, Any]]) -> None:
    row = _row(_normalize(json_items), "7522869149001927954")

    # The file lists a hashtag with an empty name first; it is dropped.
    assert row["hashtags"] == [
        "shoptemu",
        "temufinds",
        "temureview",
        "temupakistan",
        "meenitech",
        "labubudoll",
        "labubu",
    ]
    assert row["mentions"] == ["temu"]
    assert row["save_count"] == 12


# --- the 2024 CSV export (every value a string)


def test_csv_export_gives_68_videos_and_the_error_row(csv_items: list[dict[str, Any]]) -> None:
    result = _normalize(csv_items)

    assert len(result.videos) == 68
    assert result.videos["video_id"].is_unique
    assert result.errors == [
        ItemError(
            account="halabywartono",
            url="https://www.tiktok.com/tag/halabywartono",
            error="This profile/hashtag does not exist.",
        )
    ]
    assert {column: str(dtype) for column, dtype in result.videos.dtypes.items()} == (
        EXPECTED_DTYPES
    )
    assert set(result.videos["account"]) == {"hj.lisahalaby"}


def test_csv_export_values_are_coerced(csv_items: list[dict[str, Any]]) -> None:
    row = _row(_normalize(csv_items), "7397388276279102726")

    assert row["account"] == "hj.lisahalaby"
    assert row["author_id"] == "7385428498402313222"
    assert row["author_followers"] == 12800
    assert row["author_following"] == 2
    assert row["author_likes"] == 64000
    assert row["author_video_count"] == 68
    assert row["author_verified"] is False
    assert row["play_count"] == 204500
    assert row["like_count"] == 7161
    assert row["comment_count"] == 189
    assert row["share_count"] == 360
    assert row["save_count"] == 244
    assert row["created_at"] == pd.Timestamp("2024-07-30T11:24:39Z")
    assert row["is_pinned"] is True
    assert row["is_slideshow"] is False
    assert row["duration_seconds"] == 95
    assert row["music_id"] == "7397389425040919301"
    assert row["music_original"] is False
    assert row["video_url"].startswith("https://v16-webapp-prime.us.tiktok.com/video/tos/")
    assert row["hashtags"] == [
        "hjernalisahalaby",
        "hjlisahalaby",
        "ernalisahalaby",
        "walikotabanjarbaru",
        "kalimantanselatan",
        "harapanbarubanjarbaru",
        "konserbanjarbaru",
        "ungu",
        "unguband",
        "pashaungu",
        "fypシ゚viral",
    ]


def test_csv_export_empty_cells_are_null_not_zero(csv_items: list[dict[str, Any]]) -> None:
    videos = _normalize(csv_items).videos

    # This export has no textLanguage, isAd, isSponsored or mentions columns.
    for column in ("language", "is_ad", "is_sponsored", "mentions"):
        assert videos[column].isna().all(), column
    # Slideshows have no media URL cells.
    slideshows = videos[videos["is_slideshow"].fillna(False)]
    assert slideshows["video_url"].isna().all()
    assert videos.loc[~videos["is_slideshow"].fillna(False), "video_url"].notna().all()


def test_csv_export_slideshows(csv_items: list[dict[str, Any]]) -> None:
    result = _normalize(csv_items)
    videos = result.videos

    slideshows = videos[videos["is_slideshow"].fillna(False)]
    assert len(slideshows) == 23
    assert (slideshows["slideshow_image_count"] > 0).all()
    assert (videos.loc[~videos["is_slideshow"].fillna(False), "slideshow_image_count"] == 0).all()
    assert int(slideshows["slideshow_image_count"].sum()) == 94
    row = _row(result, "7393647281003810054")
    assert row["slideshow_image_count"] == 11
    assert row["is_pinned"] is True
    assert row["duration_seconds"] == 0
    assert row["video_url"] is None
    assert row["hashtags"] == ["hjernalisahalaby", "adihidayat", "adihidayatofficial"]


def test_csv_export_pinned_videos(csv_items: list[dict[str, Any]]) -> None:
    videos = _normalize(csv_items).videos

    pinned = videos.loc[videos["is_pinned"].fillna(False), "video_id"].tolist()
    assert pinned == ["7397388276279102726", "7393647281003810054", "7389506125902662917"]
    assert videos["is_pinned"].notna().all()


def test_csv_export_hashtags_are_lowercased_and_deduplicated(
    csv_items: list[dict[str, Any]],
) -> None:
    result = _normalize(csv_items)

    assert _row(result, "7395829832807894278")["hashtags"][:4] == [
        "hjernalisahalaby",
        "hjlisahalaby",
        "ernalisahalaby",
        "konserharapanbarubanjarbaru",
    ]
    # The caption tags #hjlisahalaby twice.
    assert _row(result, "7405850434830634246")["hashtags"] == [
        "hjernalisahalaby",
        "hjlisahalaby",
        "ernalisahalaby",
        "walikotabanjarbaru",
        "harapanbarubanjarbaru",
    ]
    assert _row(result, "7407663897177607429")["hashtags"] == []


def test_csv_and_json_rows_of_the_same_item_are_equal(json_items: list[dict[str, Any]]) -> None:
    item = json_items[0]
    as_strings = json.loads(
        json.dumps(item),
        parse_int=str,
        object_hook=lambda obj: {
            key: str(value).lower() if isinstance(value, bool) else value
            for key, value in obj.items()
        },
    )
    assert as_strings["playCount"] == "2314"

    from_json = _row(_normalize([item]), VIDEO_ID)
    from_strings = _row(_normalize([as_strings]), VIDEO_ID)

    assert {**from_strings, "raw_item": None} == {**from_json, "raw_item": None}


# --- coercion


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12800, 12800),
        ("12800", 12800),
        (" 12800 ", 12800),
        ("1.2e4", 12000),
        ("1.2E+4", 12000),
        (12000.0, 12000),
        ("0", 0),
        (0, 0),
        ("9223372036854775807", 9223372036854775807),
        (None, None),
        ("", None),
        (float("nan"), None),
    ],
)
def test_coerce_int(value: Any, expected: int | None) -> None:
    assert coerce_int(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "12.5",
        12.5,
        "lots",
        "12,800",
        True,
        "inf",
        float("inf"),
        [1],
        {"n": 1},
        "9223372036854775808",
        -9223372036854775809,
        9.3e18,
        # Eleven characters whose int() would take minutes: refused before converting.
        "1e100000000",
    ],
)
def test_coerce_int_refuses_what_is_not_a_64_bit_whole_number(value: Any) -> None:
    with pytest.raises(ValueError, match="expected"):
        coerce_int(value)


def test_coerce_int_bits_bound_the_range() -> None:
    assert coerce_int("2147483647", bits=32) == 2147483647
    assert coerce_int(-2147483648, bits=32) == -2147483648
    with pytest.raises(ValueError, match=r"from -2147483648 to 2147483647 \(32-bit\)"):
        coerce_int(2147483648, bits=32)
    with pytest.raises(ValueError, match="32-bit"):
        coerce_int("-2.147483649e9", bits=32)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("FALSE", False), ("", None), (None, None)],
)
def test_coerce_bool(value: Any, expected: bool | None) -> None:
    assert coerce_bool(value) is expected


@pytest.mark.parametrize("value", ["yes", 1, 0, "1"])
def test_coerce_bool_refuses_other_values(value: Any) -> None:
    with pytest.raises(ValueError, match="expected true or false"):
        coerce_bool(value)


def test_numbers_and_booleans_as_strings() -> None:
    item = _minimal_item(
        playCount="1.2e4",
        diggCount=" 158 ",
        commentCount=12,
        shareCount="0",
        collectCount="23",
        createTime="1722338679",
        isPinned="TRUE",
        isAd="false",
        authorMeta={"fans": "149800", "heart": "2.4e6", "verified": "true"},
        videoMeta={"duration": "20", "width": 576.0, "height": "1024"},
    )

    row = _row(_normalize([item]), VIDEO_ID)

    assert row["play_count"] == 12000
    assert row["like_count"] == 158
    assert row["comment_count"] == 12
    assert row["share_count"] == 0
    assert row["save_count"] == 23
    assert row["created_at"] == pd.Timestamp("2024-07-30T11:24:39Z")
    assert row["is_pinned"] is True
    assert row["is_ad"] is False
    assert row["author_followers"] == 149800
    assert row["author_likes"] == 2400000
    assert row["author_verified"] is True
    assert (row["duration_seconds"], row["width"], row["height"]) == (20, 576, 1024)


def test_an_unusable_count_makes_an_item_error_naming_the_field() -> None:
    result = _normalize([_minimal_item(playCount="lots", webVideoUrl="https://t/v")])

    assert result.videos.empty
    assert result.errors == [
        ItemError(
            account="someone",
            url="https://t/v",
            error="invalid playCount: expected a number, got 'lots'",
        )
    ]


# Each integer column, the item field it comes from and the largest value its SQL type holds.
INTEGER_SOURCES = {
    "author_followers": ("authorMeta", "fans"),
    "author_following": ("authorMeta", "following"),
    "author_likes": ("authorMeta", "heart"),
    "author_video_count": ("authorMeta", "video"),
    "play_count": ("playCount",),
    "like_count": ("diggCount",),
    "comment_count": ("commentCount",),
    "share_count": ("shareCount",),
    "save_count": ("collectCount",),
    "duration_seconds": ("videoMeta", "duration"),
    "width": ("videoMeta", "width"),
    "height": ("videoMeta", "height"),
}
LARGEST = {"BIGINT": 2**63 - 1, "INTEGER": 2**31 - 1}


def _item_with(path: tuple[str, ...], value: Any, **fields: Any) -> dict[str, Any]:
    item = _minimal_item(**fields)
    *parents, leaf = path
    node = item
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return item


def test_every_integer_column_of_the_contract_is_range_checked() -> None:
    integer_columns = {
        column.name
        for column in RAW_VIDEOS.columns
        if column.sql_type in LARGEST and column.name != "slideshow_image_count"
    }

    assert set(INTEGER_SOURCES) == integer_columns


@pytest.mark.parametrize("column", sorted(INTEGER_SOURCES))
def test_a_count_too_big_for_its_column_fails_only_its_item(column: str) -> None:
    largest = LARGEST[RAW_VIDEOS.sql_types[column]]
    path = INTEGER_SOURCES[column]
    items = [
        _item_with(path, str(largest + 1), id="7000000000000000001", webVideoUrl="https://t/1"),
        _item_with(path, largest, id="7000000000000000002"),
        _item_with(path, -largest - 1, id="7000000000000000003"),
    ]

    result = _normalize(items)

    assert result.videos["video_id"].tolist() == ["7000000000000000002", "7000000000000000003"]
    assert result.videos[column].tolist() == [largest, -largest - 1]
    assert str(result.videos[column].dtype) == EXPECTED_DTYPES[column]
    assert len(result.errors) == 1
    assert result.errors[0].url == "https://t/1"
    assert result.errors[0].error == (
        f"invalid {'.'.join(path)}: expected a whole number from {-largest - 1} to {largest} "
        f"({64 if largest > 2**31 else 32}-bit), got '{largest + 1}'"
    )


def test_negative_counts_are_kept_for_the_quality_checks() -> None:
    row = _row(_normalize([_minimal_item(playCount=-5, diggCount="-1")]), VIDEO_ID)

    assert (row["play_count"], row["like_count"]) == (-5, -1)


@pytest.mark.parametrize(
    ("create_time", "message"),
    [
        (
            1751900293000,
            "invalid createTime: 1751900293000 is not a time from 2001-09-09 to 2100-01-01 in "
            "epoch seconds; it looks like milliseconds",
        ),
        ("1751900293000", "it looks like milliseconds"),
        (1000000000000, "it looks like milliseconds"),
        (0, "invalid createTime: 0 is not a time from 2001-09-09 to 2100-01-01 in epoch seconds"),
        (-1751900293, "not a time from 2001-09-09 to 2100-01-01"),
        (999999999, "not a time from 2001-09-09 to 2100-01-01"),
        (4102444800, "not a time from 2001-09-09 to 2100-01-01"),
        (1751900293000000, "not a time from 2001-09-09 to 2100-01-01 in epoch seconds$"),
    ],
)
def test_implausible_epoch_seconds_are_item_errors(create_time: Any, message: str) -> None:
    items = [
        _minimal_item(createTime=create_time, createTimeISO="2025-07-07T14:58:13.000Z"),
        _minimal_item(id="7000000000000000002", createTime=1751900293),
    ]

    result = _normalize(items)

    assert result.videos["video_id"].tolist() == ["7000000000000000002"]
    assert len(result.errors) == 1
    assert re.search(message, result.errors[0].error), result.errors[0].error


def test_epoch_seconds_at_the_ends_of_the_plausible_window_are_read() -> None:
    items = [
        _minimal_item(createTime=1_000_000_000),
        _minimal_item(id="7000000000000000002", createTime="4102444799"),
    ]

    videos = _normalize(items).videos

    assert videos["created_at"].tolist() == [
        pd.Timestamp("2001-09-09T01:46:40Z"),
        pd.Timestamp("2099-12-31T23:59:59Z"),
    ]


@pytest.mark.parametrize(
    "create_time_iso",
    ["now", "today", "yesterday", "07/07/2025", "July 7, 2025", "2025-13-01T00:00:00Z", "Z"],
)
def test_create_time_iso_must_be_iso_8601(create_time_iso: str) -> None:
    result = _normalize([_minimal_item(createTimeISO=create_time_iso)])

    assert result.videos.empty
    assert [error.error for error in result.errors] == [
        f"invalid createTimeISO: expected an ISO 8601 date and time, got {create_time_iso!r}"
    ]


@pytest.mark.parametrize(
    "create_time_iso", ["9999-12-31T00:00:00Z", "1970-01-01T00:00:00Z", "2262-04-12T00:00:00Z"]
)
def test_create_time_iso_outside_the_plausible_window_fails_only_its_item(
    create_time_iso: str,
) -> None:
    items = [
        _minimal_item(createTimeISO=create_time_iso),
        _minimal_item(id="7000000000000000002", createTimeISO="2025-07-07T14:58:13Z"),
    ]

    result = _normalize(items)

    assert result.videos["created_at"].tolist() == [pd.Timestamp("2025-07-07T14:58:13Z")]
    assert [error.error for error in result.errors] == [
        f"invalid createTimeISO: {create_time_iso!r} is not a time from 2001-09-09 to 2100-01-01"
    ]


def test_created_at_from_iso_when_epoch_is_absent() -> None:
    items = [
        _minimal_item(createTimeISO="2025-07-07T14:58:13.000Z"),
        _minimal_item(id="7000000000000000002", createTimeISO="2025-07-07T16:58:13+02:00"),
        _minimal_item(id="7000000000000000003", createTime=1751900293),
        # Without an offset the time is taken as UTC, as Apify writes it.
        _minimal_item(id="7000000000000000004", createTimeISO="2025-07-07T14:58:13"),
        _minimal_item(id="7000000000000000005", createTimeISO=" 2025-07-07T14:58:13.000000z "),
        _minimal_item(id="7000000000000000006", createTimeISO="2025-07-07T10:58:13-04:00"),
    ]

    videos = _normalize(items).videos

    assert videos["created_at"].tolist() == [pd.Timestamp("2025-07-07T14:58:13Z")] * 6
    assert str(videos["created_at"].dtype) == "datetime64[ns, UTC]"


def test_hashtags_as_strings_and_mentions_from_both_fields() -> None:
    item = _minimal_item(
        hashtags=["#Fyp", "fyp", "", "#", {"name": "Cats"}, {"name": None}],
        mentions=["@Temu", "@other"],
        detailedMentions=[{"id": "1", "name": "temu"}, {"name": "Third"}],
    )

    row = _row(_normalize([item]), VIDEO_ID)

    assert row["hashtags"] == ["fyp", "cats"]
    assert row["mentions"] == ["temu", "other", "third"]


def test_video_url_prefers_media_urls_then_download_addr() -> None:
    items = [
        _minimal_item(
            mediaUrls=["", "https://kv/record"],
            videoMeta={"downloadAddr": "https://cdn/video.mp4"},
        ),
        _minimal_item(
            id="7000000000000000002", videoMeta={"downloadAddr": "https://cdn/video.mp4"}
        ),
        _minimal_item(id="7000000000000000003", mediaUrls=[]),
    ]

    assert _normalize(items).videos["video_url"].tolist() == [
        "https://kv/record",
        "https://cdn/video.mp4",
        None,
    ]


def test_slideshow_without_is_slideshow_field_is_inferred_from_its_images() -> None:
    item = _minimal_item(slideshowImageLinks=[{"downloadLink": "a"}, {"downloadLink": "b"}])

    row = _row(_normalize([item]), VIDEO_ID)

    assert row["is_slideshow"] is True
    assert row["slideshow_image_count"] == 2


def test_missing_fields_are_null() -> None:
    result = _normalize([_minimal_item()])

    row = _row(result, VIDEO_ID)
    assert result.errors == []
    assert row["account"] == "someone"
    assert row["hashtags"] == []
    assert row["slideshow_image_count"] == 0
    always_set = {
        "dataset",
        "batch",
        "account",
        "video_id",
        "hashtags",
        "slideshow_image_count",
        "scraped_at",
        "raw_item",
    }
    for column in set(RAW_VIDEOS.column_names) - always_set:
        assert pd.isna(row[column]), f"{column} should be null, got {row[column]!r}"


# --- ids, errors and duplicates


def test_int_id_is_accepted_as_its_digits() -> None:
    row = _row(_normalize([_minimal_item(id=7524354452762037512)]), VIDEO_ID)

    assert row["video_id"] == VIDEO_ID


@pytest.mark.parametrize(
    ("bad_id", "message"),
    [
        (7.524354452762037e18, "invalid id: 7.524354452762037e+18 is a float"),
        ("7524354452762037512.0", "invalid id: expected the digits of a TikTok id"),
        ("abc", "invalid id: expected the digits of a TikTok id, got 'abc'"),
        (True, "invalid id: expected the digits"),
    ],
)
def test_bad_ids_are_item_errors(bad_id: Any, message: str) -> None:
    item = _minimal_item(id=bad_id, webVideoUrl="https://www.tiktok.com/@someone/video/1")

    result = _normalize([item])

    assert result.videos.empty
    assert len(result.errors) == 1
    assert result.errors[0].error.startswith(message)
    assert result.errors[0].account == "someone"
    assert result.errors[0].url == "https://www.tiktok.com/@someone/video/1"


def test_item_without_id_is_an_item_error() -> None:
    items = [
        {"text": "no id here", "authorMeta": {"name": "Author.One"}},
        {"id": "", "input": "https://www.tiktok.com/@someone"},
    ]

    result = _normalize(items)

    assert result.videos.empty
    assert result.errors == [
        ItemError(account="author.one", url=None, error="not a video: the item has no id"),
        ItemError(account="someone", url=None, error="not a video: the item has no id"),
    ]


def test_apify_error_item_account_falls_back_to_its_url() -> None:
    item = {"url": "https://www.tiktok.com/@Gone.User", "error": "Profile is private"}

    assert _normalize([item]).errors == [
        ItemError(
            account="gone.user",
            url="https://www.tiktok.com/@Gone.User",
            error="Profile is private",
        )
    ]


def test_video_without_any_account_is_an_item_error() -> None:
    result = _normalize([{"id": VIDEO_ID, "input": "#fyp"}])

    assert result.videos.empty
    assert result.errors[0].error.startswith("no account")


def test_the_same_video_twice_gives_one_row_keeping_the_first(
    json_items: list[dict[str, Any]],
) -> None:
    later_copy = {**json_items[0], "playCount": 9999}

    result = _normalize([*json_items, later_copy])

    assert result.errors == []
    assert len(result.videos) == 10
    assert _row(result, VIDEO_ID)["play_count"] == 2314


# --- accounts


@pytest.mark.parametrize(
    ("item", "account"),
    [
        ({"input": "@MeeniTech", "authorMeta": {"name": "x"}}, "meenitech"),
        ({"input": "meenitech"}, "meenitech"),
        ({"input": "https://www.tiktok.com/@Meeni.Tech?lang=en"}, "meeni.tech"),
        ({"input": "https://www.tiktok.com/@meenitech/video/1"}, "meenitech"),
        ({"input": "#fyp", "authorMeta": {"name": "Author"}}, "author"),
        ({"input": "funny cats", "authorMeta": {"name": "author"}}, "author"),
        ({"input": "https://www.tiktok.com/tag/fyp", "authorMeta": {"name": "author"}}, "author"),
        # A hashtag scrape's input looks like a username: the author is the account.
        ({"input": "fyp", "searchHashtag": {"name": "fyp"}, "authorMeta": {"name": "a"}}, "a"),
        ({"input": "cats", "searchQuery": "cats", "authorMeta": {"name": "b"}}, "b"),
        ({"input": 42, "authorMeta": {"name": "author"}}, "author"),
        ({"authorMeta": "not an object"}, None),
        ({}, None),
    ],
)
def test_item_account(item: dict[str, Any], account: str | None) -> None:
    assert item_account(item) == account


def test_input_as_profile_url_sets_the_account_column() -> None:
    item = _minimal_item(
        input="https://www.tiktok.com/@Hj.LisaHalaby", authorMeta={"name": "other"}
    )

    assert _row(_normalize([item]), VIDEO_ID)["account"] == "hj.lisahalaby"


# --- the frame


def test_empty_input_gives_an_empty_frame_with_the_same_columns_and_dtypes(
    json_items: list[dict[str, Any]],
) -> None:
    empty = _normalize([])
    full = _normalize(json_items)

    assert empty.errors == []
    assert empty.videos.empty
    assert list(empty.videos.columns) == RAW_VIDEOS.column_names
    assert empty.videos.dtypes.to_dict() == full.videos.dtypes.to_dict()


def test_items_are_not_mutated(csv_items: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(csv_items)

    _normalize(csv_items)

    assert csv_items == before


def test_items_may_be_any_iterable() -> None:
    result = _normalize(iter([_minimal_item()]))  # type: ignore[arg-type]

    assert result.videos["video_id"].tolist() == [VIDEO_ID]


def test_scraped_at_is_stored_in_utc() -> None:
    jakarta = timezone(timedelta(hours=7))
    result = normalize_items(
        [_minimal_item()],
        dataset="v1",
        batch="b001",
        scraped_at=datetime(2025, 7, 8, 17, 55, tzinfo=jakarta),
    )

    assert result.videos["scraped_at"].tolist() == [pd.Timestamp("2025-07-08T10:55:00Z")]


def test_naive_scraped_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_items([], dataset="v1", batch="b001", scraped_at=datetime(2025, 7, 8))
