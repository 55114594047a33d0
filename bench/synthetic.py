"""Synthetic data shaped like the pipeline's: Apify items for any number of accounts, and
`raw_videos` / `video_analyses` frames of any size.

Everything starts from the bundled sample (`tiktok_virality.defs.datasets.sample`) and the real code paths
(the normalizer, the analysis schema's flattening), then is varied per account and per video with
numpy, so that a million rows take seconds rather than the normalizer's ~40 µs per item."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tiktok_virality.config import load_settings
from tiktok_virality.defs.analysis.columns import analysis_frame, flatten_analyses
from tiktok_virality.defs.analysis.schema import VideoAnalysis
from tiktok_virality.defs.datasets.sample import generate_sample_items
from tiktok_virality.defs.scraping.normalize import normalize_items

SCRAPED_AT = datetime(2025, 7, 1, tzinfo=UTC)
VIDEOS_PER_ACCOUNT = 15
ACCOUNTS_PER_BATCH = 10
# The long tail of hashtags beyond the sample's topics, drawn Zipf-like as real hashtags are.
_TAIL_HASHTAGS = 50_000
_TAIL_HASHTAG_SHARE = 0.6
_ANALYSIS_RECORDS = 64
_VOCABULARY_SIZE = 2_000
_SLOTS = ("video_id", "account", "created", "play", "likes", "comments", "shares", "saves", "fans")


def apify_items(
    accounts: Sequence[str],
    *,
    scraped_at: datetime,
    videos_per_account: int = VIDEOS_PER_ACCOUNT,
    media_url: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Profile-scrape items per account: each account gets a sample creator's posts (latest first)
    under its own name, with unique 19-digit video ids, each id written into its caption (so a
    request to Gemini says which video it is for), and `media_url` as every video's file."""
    creators = _sample_posts_by_creator(scraped_at)
    items: dict[str, list[dict[str, Any]]] = {}
    for index, account in enumerate(accounts):
        posts = creators[index % len(creators)][:videos_per_account]
        items[account] = [
            _renamed_post(post, account, index * videos_per_account + position, media_url)
            for position, post in enumerate(posts)
        ]
    return items


def _sample_posts_by_creator(scraped_at: datetime) -> list[list[dict[str, Any]]]:
    by_creator: dict[str, list[dict[str, Any]]] = {}
    for item in generate_sample_items(scraped_at=scraped_at):
        if "error" not in item:
            by_creator.setdefault(item["authorMeta"]["name"], []).append(item)
    return list(by_creator.values())


def _renamed_post(
    post: dict[str, Any], account: str, number: int, media_url: str | None
) -> dict[str, Any]:
    item = copy.deepcopy(post)
    video_id = str((post["createTime"] << 32) | number)
    item.update(
        id=video_id,
        input=f"@{account}",
        webVideoUrl=f"https://www.tiktok.com/@{account}/video/{video_id}",
        text=f"{post['text']} (clip {video_id})",
    )
    item["authorMeta"].update(name=account, profileUrl=f"https://www.tiktok.com/@{account}")
    if media_url is not None and item["mediaUrls"]:
        item["mediaUrls"] = [media_url]
        item["videoMeta"]["downloadAddr"] = media_url
    return item


@functools.cache
def _normalized_sample() -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The sample's videos through the real normalizer, and a `raw_item` template for each row in
    which the fields varied per video are `%`-format slots."""
    items = [item for item in generate_sample_items(scraped_at=SCRAPED_AT) if "error" not in item]
    videos = normalize_items(items, dataset="bench", batch="b001", scraped_at=SCRAPED_AT).videos
    by_id = {item["id"]: item for item in items}
    return videos, tuple(_raw_item_template(by_id[video_id]) for video_id in videos["video_id"])


def _raw_item_template(item: dict[str, Any]) -> str:
    marked = {
        **item,
        "id": "\0video_id",
        "createTime": "\0created",
        "playCount": "\0play",
        "diggCount": "\0likes",
        "commentCount": "\0comments",
        "shareCount": "\0shares",
        "collectCount": "\0saves",
        "authorMeta": {**item["authorMeta"], "name": "\0account", "fans": "\0fans"},
    }
    template = json.dumps(marked, ensure_ascii=False, sort_keys=True).replace("%", "%%")
    for slot in _SLOTS:
        template = template.replace(json.dumps(f"\0{slot}"), f"%({slot})s")
    return template


def raw_videos(
    rows: int,
    *,
    seed: int,
    first_video: int = 0,
    dataset: str = "bench",
    per_row_text: bool = False,
) -> pd.DataFrame:
    """`raw_videos` rows (every contract column, the normalizer's dtypes): 15 videos per account,
    10 accounts per batch, heavy-tailed followers and views, a long tail of hashtags.

    Videos are numbered from `first_video`, so consecutive calls make distinct videos. Text columns
    are the sample's, shared between rows; with `per_row_text` the URL and `raw_item` (the Apify
    item as JSON, ~2 KB) are written out for each video, as they are stored."""
    sample, templates = _normalized_sample()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sample), rows)
    frame = sample.iloc[picks].reset_index(drop=True)
    number = first_video + np.arange(rows, dtype=np.int64)
    account_number = number // VIDEOS_PER_ACCOUNT
    accounts = _labels("acct", account_number)
    account_index = np.unique(account_number, return_inverse=True)[1]
    followers = np.round(rng.lognormal(np.log(50_000), 1.5, account_index.max() + 1))[
        account_index
    ].astype(np.int64)
    views = np.maximum(1, np.round(2 * followers**0.85 * rng.lognormal(0, 0.8, rows))).astype(
        np.int64
    )
    counts = {
        "like_count": np.minimum(views, np.round(views * rng.lognormal(np.log(0.08), 0.35, rows))),
        "comment_count": np.round(views * rng.lognormal(np.log(0.005), 0.5, rows)),
        "share_count": np.round(views * rng.lognormal(np.log(0.004), 0.6, rows)),
        "save_count": np.round(views * rng.lognormal(np.log(0.008), 0.5, rows)),
    }
    age_seconds = rng.uniform(3_600, 150 * 86_400, rows).astype(np.int64)
    created_epoch = int(SCRAPED_AT.timestamp()) - age_seconds
    video_ids = ((created_epoch << 32) | number).astype(str).astype(object)
    frame["dataset"] = dataset
    frame["batch"] = _labels("b", account_number // ACCOUNTS_PER_BATCH + 1, width=3)
    frame["account"] = accounts
    frame["author_name"] = accounts
    frame["video_id"] = video_ids
    frame["author_followers"] = pd.array(followers, dtype="Int64")
    frame["play_count"] = pd.array(views, dtype="Int64")
    for name, values in counts.items():
        frame[name] = pd.array(values.astype(np.int64), dtype="Int64")
    # Older exports lack saves.
    frame.loc[rng.random(rows) < 0.1, "save_count"] = pd.NA
    frame["created_at"] = pd.to_datetime(created_epoch, unit="s", utc=True)
    frame["scraped_at"] = pd.Timestamp(SCRAPED_AT)
    frame["hashtags"] = _with_tail_hashtags(frame["hashtags"], rng)
    if per_row_text:
        frame["url"] = [
            f"https://www.tiktok.com/@{account}/video/{video_id}"
            for account, video_id in zip(accounts.tolist(), video_ids.tolist(), strict=True)
        ]
        frame["raw_item"] = _raw_items(frame, picks, created_epoch, followers, templates)
    return frame


def _labels(prefix: str, numbers: np.ndarray, *, width: int = 7) -> np.ndarray:
    """`prefix` + zero-padded number for each number, one string object per distinct number."""
    distinct, inverse = np.unique(numbers, return_inverse=True)
    return np.array([f"{prefix}{n:0{width}d}" for n in distinct.tolist()], dtype=object)[inverse]


def _with_tail_hashtags(hashtags: pd.Series, rng: np.random.Generator) -> list[list[str]]:
    vocabulary = np.array([f"tag{n}" for n in range(_TAIL_HASHTAGS + 1)], dtype=object)
    tail = np.minimum(rng.zipf(1.4, len(hashtags)), _TAIL_HASHTAGS)
    tail[rng.random(len(hashtags)) >= _TAIL_HASHTAG_SHARE] = 0
    return [
        [*tags, vocabulary[extra]] if extra else list(tags)
        for tags, extra in zip(hashtags.tolist(), tail.tolist(), strict=True)
    ]


def _raw_items(
    frame: pd.DataFrame,
    picks: np.ndarray,
    created_epoch: np.ndarray,
    followers: np.ndarray,
    templates: tuple[str, ...],
) -> list[str]:
    saves = frame["save_count"].astype("object").where(frame["save_count"].notna(), "null")
    columns = zip(
        picks.tolist(),
        frame["video_id"].tolist(),
        frame["account"].tolist(),
        created_epoch.tolist(),
        frame["play_count"].tolist(),
        frame["like_count"].tolist(),
        frame["comment_count"].tolist(),
        frame["share_count"].tolist(),
        saves.tolist(),
        followers.tolist(),
        strict=True,
    )
    return [
        templates[pick]
        % dict(
            zip(
                _SLOTS,
                (json.dumps(video_id), json.dumps(account), *numbers),
                strict=True,
            )
        )
        for pick, video_id, account, *numbers in columns
    ]


def video_analyses(raw: pd.DataFrame, *, seed: int, per_row_text: bool = False) -> pd.DataFrame:
    """A Gemini analysis of every video (every `video_analyses` column), made with the schema's
    own flattening from 64 random records valid for `VideoAnalysis`; with `per_row_text` each row
    gets its own summary (in its column and in `analysis_json`), as real answers do."""
    rng = np.random.default_rng(seed)
    flattened = flatten_analyses(_random_records(rng))
    picks = rng.integers(0, len(flattened), len(raw))
    rows = flattened.iloc[picks].reset_index(drop=True)
    if per_row_text:
        vocabulary = _vocabulary(rng)
        summaries = [
            " ".join(words)
            for words in vocabulary[rng.integers(0, len(vocabulary), (len(raw), 24))]
        ]
        templates = [_summary_template(document) for document in flattened["analysis_json"]]
        rows["summary"] = summaries
        rows["analysis_json"] = [
            templates[pick] % {"summary": json.dumps(summary)}
            for pick, summary in zip(picks.tolist(), summaries, strict=True)
        ]
    return analysis_frame(
        raw,
        rows,
        analyzer="gemini",
        model=load_settings({}).gemini_model,
        input_kind="video",
        analyzed_at=SCRAPED_AT + timedelta(hours=1),
    )


def _summary_template(document: str) -> str:
    record = json.loads(document)
    marked = {**record, "summary": "\0summary"}
    template = json.dumps(marked, ensure_ascii=False).replace("%", "%%")
    return template.replace(json.dumps("\0summary"), "%(summary)s")


def _random_records(rng: np.random.Generator) -> list[dict[str, Any]]:
    schema = VideoAnalysis.model_json_schema()
    vocabulary = _vocabulary(rng)
    return [
        VideoAnalysis.model_validate(_random_value(schema, schema, rng, vocabulary)).model_dump(
            mode="json"
        )
        for _ in range(_ANALYSIS_RECORDS)
    ]


def _random_value(
    schema: dict[str, Any], root: dict[str, Any], rng: np.random.Generator, words: np.ndarray
) -> Any:
    """A random value valid for a pydantic JSON schema of the kinds `VideoAnalysis` uses."""
    if "$ref" in schema:
        definition = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        return _random_value(definition, root, rng, words)
    if "anyOf" in schema:
        present = [branch for branch in schema["anyOf"] if branch.get("type") != "null"]
        return _random_value(present[0], root, rng, words)
    if "enum" in schema:
        return schema["enum"][rng.integers(len(schema["enum"]))]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: _random_value(part, root, rng, words)
            for name, part in schema["properties"].items()
        }
    if kind == "array":
        return [" ".join(rng.choice(words, 8)) for _ in range(rng.integers(1, 4))]
    if kind == "number":
        low, high = schema.get("minimum", 0), schema.get("maximum", 10)
        return round(float(rng.uniform(low, high)), 1)
    if kind == "integer":
        return int(rng.integers(0, 4))
    if kind == "boolean":
        return bool(rng.random() < 0.5)
    return " ".join(rng.choice(words, 24))


def _vocabulary(rng: np.random.Generator) -> np.ndarray:
    """Pronounceable made-up words, so that text compresses about as well as prose does."""
    syllables = np.array(
        [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
    )
    lengths = rng.integers(1, 4, _VOCABULARY_SIZE)
    return np.array(["".join(rng.choice(syllables, n)) for n in lengths.tolist()], dtype=object)
