"""Reliability, part 3: bad input. A file, an item, a setting or an answer that cannot be used is
refused with a message that says what is wrong and where, and leaves nothing half-written: no
dataset, no rows, no partition. Items that cannot be used are kept out one by one, each with its
reason, while the rest of their batch goes on. `docs/reliability.md` lists what is tried where."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tiktok_virality.cli.main import main
from tiktok_virality.defs.analysis.cache import AnalysisCache
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.analysis.schema import SCHEMA_VERSION
from tiktok_virality_tests.fakes.apify import FakeApify, RunScript
from tiktok_virality_tests.fakes.gemini import GENERATE_PATH, FakeGemini, GenerateScript
from tiktok_virality_tests.helpers import (
    LOG,
    accounts_file,
    assert_refused_writing_nothing,
    query,
    real_items,
    videos,
)

# --- export files -----------------------------------------------------------------------------

BROKEN_EXPORTS: dict[str, tuple[bytes, str]] = {
    "not UTF-8 (Latin-1 caption)": (
        '[{"id": "7524354452762037512", "input": "meenitech", "text": "café"}]'.encode("latin-1"),
        "not UTF-8 text (byte 0xe9 at line 1",
    ),
    "JSON Lines cut inside a line": (
        b'{"id": "1", "input": "alpha"}\n{"id": "2", "inp',
        "line 2: invalid or truncated JSON",
    ),
    "CSV cut inside a quoted cell": (
        b'"id","input","text"\n"1","alpha","cut her',
        "the file ends inside a quoted cell",
    ),
    "CSV row with a cell missing": (b'"id","input","text"\n"1","alpha"\n', "line 2: 2 cells"),
    "one JSON value, not items": (b'"items"', "expected a JSON array of items, got a string"),
    "an array holding a number": (b'[{"id": "1", "input": "alpha"}, 42]', "item 2 of the array"),
    "empty": (b"  \n", "the file is empty"),
    "items that name no account": (
        b'[{"id": "1", "input": "not a user!", "authorMeta": {"name": "../x"}}]',
        "1 item(s) name no account we can use",
    ),
}


def test_broken_exports_are_refused_saying_where_and_nothing_is_written(
    existing_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exports = []
    for number, (content, _) in enumerate(BROKEN_EXPORTS.values()):
        exports.append(tmp_path / f"dataset_tiktok_{number}.json")
        exports[-1].write_bytes(content)

    errors = assert_refused_writing_nothing(
        existing_data,
        [["dataset", "import", "--dataset", "broken", str(export)] for export in exports],
        capsys,
    )

    for (case, (_, message)), export, error in zip(
        BROKEN_EXPORTS.items(), exports, errors, strict=True
    ):
        assert error.startswith("error: ") and message in error, case
        # Where the problem is: the file, and within it the line or item.
        assert str(export) in error or "item(s) 1" in error, case


def test_an_export_scraped_in_the_future_is_refused(
    existing_data: Path, apify_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_a_year = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    export = apify_fixtures / "profile_items_2025.json"

    [error] = assert_refused_writing_nothing(
        existing_data,
        [["dataset", "import", "--dataset", "later", str(export), "--scraped-at", in_a_year]],
        capsys,
    )

    assert "which is in the future" in error


# --- items ------------------------------------------------------------------------------------


def bad_items(template: dict[str, Any], scraped_at: datetime) -> dict[str, dict[str, Any]]:
    """One item per kind of bad value, each a copy of a good item with a distinct id."""
    in_a_month = scraped_at + timedelta(days=30)
    variations: dict[str, dict[str, Any]] = {
        "good": {},
        "missing id": {"id": None},
        "float id": {"id": 7.5e18},
        "count of the wrong type": {"playCount": "lots"},
        "count too big for its column": {"playCount": 2**70},
        "negative count": {"diggCount": -1},
        "posted in the future": {
            "createTime": int(in_a_month.timestamp()),
            "createTimeISO": in_a_month.isoformat(),
        },
        "posted after 2100": {"createTime": 5_000_000_000},
        "hashtags not a list": {"hashtags": "fyp"},
        "author not an object": {"authorMeta": "meenitech"},
        "100 kB caption": {"text": "x" * 100_000},
        # A JavaScript scraper cutting a caption inside an emoji writes its lone first half as a
        # JSON escape: valid JSON, but text that UTF-8 (and so DuckDB) cannot hold.
        "caption cut inside an emoji": {"text": "cut here: \ud83d"},
        "10,000 hashtags": {"hashtags": [{"name": f"tag{n}"} for n in range(10_000)]},
    }
    items = {}
    for number, (name, changes) in enumerate(variations.items(), start=1):
        item = {**template, "id": f"70000000000000000{number:02d}", **changes}
        items[name] = {key: value for key, value in item.items() if value is not None}
    return items


def test_bad_items_are_kept_out_one_by_one_with_their_reasons(
    data_dir: Path, tmp_path: Path, apify_fixtures: Path
) -> None:
    scraped_at = datetime.now(UTC).replace(microsecond=0)
    items = bad_items(real_items(apify_fixtures)[0], scraped_at)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(list(items.values())), encoding="utf-8")
    imported = ["dataset", "import", "--dataset", "bad", str(export)]

    assert main([*imported, "--scraped-at", scraped_at.isoformat()]) == 0
    assert main(["run", "--dataset", "bad", "--offline"]) == 0

    accepted = query(
        data_dir,
        "SELECT video_id, length(caption), len(hashtags), hashtag_count FROM raw_videos "
        "JOIN video_features USING (video_id) ORDER BY video_id",
    )
    caption = len(items["good"]["text"])
    assert accepted == [
        (items["good"]["id"], caption, 12, 12),
        (items["100 kB caption"]["id"], 100_000, 12, 12),
        (items["caption cut inside an emoji"]["id"], 11, 12, 12),
        (items["10,000 hashtags"]["id"], caption, 10_000, 10_000),
    ]
    assert query(
        data_dir,
        "SELECT caption, raw_item->>'$.text' FROM raw_videos WHERE video_id = "
        f"'{items['caption cut inside an emoji']['id']}'",
    ) == [("cut here: \ufffd", "cut here: \ufffd")]
    assert query(data_dir, "SELECT video_id, rejection_reasons FROM rejected_videos") == [
        (items["negative count"]["id"], ["valid_ranges"]),
        (items["posted in the future"]["id"], ["not_in_future"]),
    ]
    errors = query(data_dir, "SELECT account, error, permanent FROM errors ORDER BY error")
    assert errors == [
        (
            "meenitech",
            "invalid authorMeta.id: authorMeta is str 'meenitech', not an object",
            True,
        ),
        (
            "meenitech",
            "invalid createTime: 5000000000 is not a time from 2001-09-09 to 2100-01-01 "
            "in epoch seconds",
            True,
        ),
        ("meenitech", "invalid hashtags: expected a list, got str 'fyp'", True),
        (
            "meenitech",
            "invalid id: 7.5e+18 is a float, which cannot hold a 19-digit id exactly",
            True,
        ),
        ("meenitech", "invalid playCount: expected a number, got 'lots'", True),
        (
            "meenitech",
            "invalid playCount: expected a whole number from -9223372036854775808 to "
            f"9223372036854775807 (64-bit), got {2**70}",
            True,
        ),
        ("meenitech", "not a video: the item has no id", True),
    ]


# --- Apify answers ----------------------------------------------------------------------------


@pytest.fixture
def live_apify(fake_apify: FakeApify, monkeypatch: pytest.MonkeyPatch) -> FakeApify:
    monkeypatch.setenv("APIFY_API_URL", fake_apify.url)
    monkeypatch.setenv("APIFY_API_TOKEN", "token")
    return fake_apify


def test_an_apify_run_returning_garbage_keeps_its_usable_items_and_records_the_rest(
    data_dir: Path, tmp_path: Path, apify_fixtures: Path, live_apify: FakeApify
) -> None:
    good = real_items(apify_fixtures)[0]
    garbage: list[Any] = [
        "<html>502 Bad Gateway</html>",
        42,
        None,
        [good],
        {"id": {"$numberLong": "7"}, "input": "meenitech"},
        {"unexpected": True},
    ]
    live_apify.on_run(lambda run_input, params: RunScript(items=[good, *garbage]))

    accounts = accounts_file(tmp_path, "meenitech")
    assert main(["run", "--dataset", "live", "--accounts", str(accounts)]) == 0

    assert query(data_dir, "SELECT video_id FROM raw_videos") == [(good["id"],)]
    errors = query(data_dir, "SELECT account, error, permanent FROM errors ORDER BY error")
    assert errors == [
        (
            "meenitech",
            "invalid id: expected the digits of a TikTok id, got {'$numberLong': '7'}",
            True,
        ),
        (None, 'not a video: expected a JSON object, got "<html>502 Bad Gateway</html>"', True),
        (None, "not a video: expected a JSON object, got 42", True),
        (None, f"not a video: expected a JSON object, got {json.dumps([good])[:59]}…", True),
        (None, "not a video: expected a JSON object, got null", True),
        (None, "not a video: the item has no id", True),
    ]


def test_an_apify_answer_that_is_not_json_fails_the_batch_and_the_retry_reuses_the_paid_run(
    data_dir: Path,
    tmp_path: Path,
    apify_fixtures: Path,
    live_apify: FakeApify,
    capsys: pytest.CaptureFixture[str],
) -> None:
    live_apify.items_by_profile = {"meenitech": real_items(apify_fixtures)}
    live_apify.truncate_next(r"/items$", method="GET", declare_full_length=False)
    accounts = accounts_file(tmp_path, "meenitech")

    assert main(["run", "--dataset", "live", "--accounts", str(accounts)]) == 1

    assert "Traceback" not in "".join(capsys.readouterr())
    assert query(
        data_dir, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'raw_videos'"
    ) == [(0,)]
    [(error, permanent)] = query(data_dir, "SELECT error, permanent FROM errors")
    assert "InvalidResponseBodyError" in error and not permanent

    assert main(["run", "--dataset", "live", "--retry-failed"]) == 0

    assert len(live_apify.runs) == 1
    assert query(data_dir, "SELECT count(*) FROM raw_videos") == [(7,)]


# --- Gemini answers ---------------------------------------------------------------------------

Answer = Callable[[FakeGemini], None]


def answer_with(script: GenerateScript | dict[str, Any]) -> Answer:
    return lambda fake: fake.on_generate(lambda request_json: script)


GARBAGE_ANSWERS: dict[str, tuple[Answer, bool, str, int]] = {
    # name: (how the fake answers, permanent, what the error says, generateContent calls)
    "prose instead of JSON": (
        answer_with(GenerateScript(text="Sure! Here is the analysis you asked for.")),
        True,
        "output that is not valid JSON for the analysis schema, 2 times",
        2,
    ),
    "JSON null": (answer_with(GenerateScript(text="null")), True, "not valid JSON", 2),
    "a JSON array": (answer_with(GenerateScript(text="[]")), True, "not valid JSON", 2),
    "an answer cut at the token limit": (
        answer_with(GenerateScript(text='{"visual": {"visual_', finish_reason="MAX_TOKENS")),
        True,
        "an incomplete answer (finish reason FinishReason.MAX_TOKENS), 2 times",
        2,
    ),
    "no candidates": (answer_with(GenerateScript(no_candidates=True)), True, "no answer", 2),
    "a body that is not a response": (answer_with({"unexpected": True}), True, "no answer", 2),
    "a prompt blocked as prohibited": (
        answer_with(GenerateScript(block_reason="PROHIBITED_CONTENT")),
        True,
        "blocked by Gemini",
        1,
    ),
    "an answer refused as recitation": (
        answer_with(GenerateScript(finish_reason="RECITATION")),
        True,
        "refused by Gemini",
        1,
    ),
}


@pytest.mark.parametrize(
    "answer, permanent, message, calls", GARBAGE_ANSWERS.values(), ids=list(GARBAGE_ANSWERS)
)
def test_a_gemini_answer_that_is_not_an_analysis_is_recorded_and_nothing_is_stored_for_it(
    analyzer: GeminiAnalyzer,
    fake_gemini: FakeGemini,
    cache: AnalysisCache,
    answer: Answer,
    permanent: bool,
    message: str,
    calls: int,
) -> None:
    answer(fake_gemini)

    result = analyzer.analyze(videos({"video_id": "9", "is_slideshow": True}), LOG)

    assert result.analyses.empty
    [error] = result.errors
    assert error.permanent is permanent and message in error.error
    assert fake_gemini.generate_calls == calls
    versions = {"model": analyzer.model, "schema_version": SCHEMA_VERSION}
    settings = analyzer.controls.fingerprint
    assert cache.cached_analyses(["9"], **versions, settings=settings) == {}
    assert cache.analysis_failures(["9"], **versions)["9"].permanent is permanent


@pytest.mark.parametrize(
    "cut",
    [{"declare_full_length": False}, {}],
    ids=["an HTTP body that is not JSON", "a body cut mid-transfer"],
)
def test_an_answer_lost_on_the_way_is_asked_for_again_at_once_and_stored(
    analyzer: GeminiAnalyzer, fake_gemini: FakeGemini, cache: AnalysisCache, cut: dict[str, Any]
) -> None:
    fake_gemini.truncate_next(GENERATE_PATH, **cut)

    result = analyzer.analyze(videos({"video_id": "9", "is_slideshow": True}), LOG)

    assert len(result.analyses) == 1 and result.errors == []
    assert fake_gemini.generate_calls == 2
    versions = {"model": analyzer.model, "schema_version": SCHEMA_VERSION}
    settings = analyzer.controls.fingerprint
    assert list(cache.cached_analyses(["9"], **versions, settings=settings)) == ["9"]
