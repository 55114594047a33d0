import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tiktok_virality.core.naming import normalize_account
from tiktok_virality.defs.analysis.offline import analyze_offline, detect_call_to_action
from tiktok_virality.defs.datasets.sample import (
    CALLS_TO_ACTION,
    MISSING_PROFILE_ERROR,
    MISSING_SAMPLE_ACCOUNT,
    SAMPLE_ACCOUNTS,
    generate_sample_items,
)
from tiktok_virality.defs.scraping.normalize import normalize_items
from tiktok_virality.warehouse.tables import RAW_VIDEOS

SCRAPED_AT = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
# The planted signal of the sample's docstring, on the log scale.
FOLLOWER_ELASTICITY = 0.85
LOG_MULTIPLIERS = {"cta": math.log(2.0), "original_sound": math.log(1.6), "short": math.log(1.8)}
SATURATION_DAYS = 2.0


def planted_call_to_action(caption: str) -> bool:
    """The generator's cta driver, read from the call to action it wrote into the caption."""
    return any(call_to_action in caption for call_to_action in CALLS_TO_ACTION)


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return generate_sample_items(scraped_at=SCRAPED_AT)


@pytest.fixture(scope="module")
def posts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if "error" not in item]


@pytest.fixture(scope="module")
def drivers(posts: list[dict[str, Any]]) -> pd.DataFrame:
    """Per post, its views and the metadata the planted signal depends on."""
    frame = pd.DataFrame(
        {
            "account": [post["authorMeta"]["name"] for post in posts],
            "followers": [post["authorMeta"]["fans"] for post in posts],
            "views": [post["playCount"] for post in posts],
            "likes": [post["diggCount"] for post in posts],
            "comments": [post["commentCount"] for post in posts],
            "original_sound": [post["musicMeta"]["musicOriginal"] for post in posts],
            "is_slideshow": [post["isSlideshow"] for post in posts],
            "duration": [post["videoMeta"]["duration"] for post in posts],
            "age_days": [(SCRAPED_AT.timestamp() - post["createTime"]) / 86_400 for post in posts],
        }
    )
    frame["cta"] = [planted_call_to_action(post["text"]) for post in posts]
    frame["short"] = ~frame["is_slideshow"] & (frame["duration"] <= 15)
    return frame


def test_same_seed_and_time_give_identical_items(items: list[dict[str, Any]]) -> None:
    assert generate_sample_items(scraped_at=SCRAPED_AT) == items
    assert generate_sample_items(scraped_at=SCRAPED_AT, seed=8) != items


def test_scrape_time_moves_the_posting_times(items: list[dict[str, Any]]) -> None:
    later = generate_sample_items(scraped_at=SCRAPED_AT + timedelta(days=10))

    shifts = {
        later_item["createTime"] - item["createTime"]
        for item, later_item in zip(items, later, strict=True)
        if "error" not in item
    }
    assert shifts == {10 * 86_400}


def test_naive_scrape_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate_sample_items(scraped_at=datetime(2025, 7, 8))


def test_eight_accounts_with_fifteen_posts_and_one_missing(
    posts: list[dict[str, Any]],
) -> None:
    posts_per_account = pd.Series([post["authorMeta"]["name"] for post in posts]).value_counts()

    assert len(SAMPLE_ACCOUNTS) == len(set(SAMPLE_ACCOUNTS)) == 9
    assert [normalize_account(account) for account in SAMPLE_ACCOUNTS] == list(SAMPLE_ACCOUNTS)
    assert MISSING_SAMPLE_ACCOUNT in SAMPLE_ACCOUNTS
    assert set(posts_per_account.index) == set(SAMPLE_ACCOUNTS) - {MISSING_SAMPLE_ACCOUNT}
    assert posts_per_account.tolist() == [15] * 8
    assert all(post["input"] == f"@{post['authorMeta']['name']}" for post in posts)


def test_the_missing_account_is_one_apify_error_item(items: list[dict[str, Any]]) -> None:
    errors = [item for item in items if "error" in item]

    assert errors == [
        {
            "url": f"https://www.tiktok.com/@{MISSING_SAMPLE_ACCOUNT}",
            "input": MISSING_SAMPLE_ACCOUNT,
            "error": MISSING_PROFILE_ERROR,
        }
    ]
    assert MISSING_PROFILE_ERROR == "This profile/hashtag does not exist."


def test_posts_have_the_real_2025_item_shape(
    posts: list[dict[str, Any]], apify_fixtures: Path
) -> None:
    real_item = json.loads(
        (apify_fixtures / "profile_items_2025.json").read_text(encoding="utf-8")
    )[0]
    author_fields = {"id", "name", "nickName", "verified", "fans", "following", "heart", "video"}

    for post in posts:
        assert set(real_item) <= set(post), set(real_item) - set(post)
        assert author_fields | {"region"} <= set(post["authorMeta"])
        assert {"musicName", "musicAuthor", "musicOriginal", "musicId"} <= set(post["musicMeta"])
        assert {"height", "width", "duration", "coverUrl"} <= set(post["videoMeta"])
        assert all(set(hashtag) == {"name"} for hashtag in post["hashtags"])
        assert isinstance(post["createTime"], int)
        created = datetime.fromtimestamp(post["createTime"], UTC)
        assert post["createTimeISO"] == created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert post["webVideoUrl"] == (
            f"https://www.tiktok.com/@{post['authorMeta']['name']}/video/{post['id']}"
        )


def test_ids_are_unique_19_digit_strings(posts: list[dict[str, Any]]) -> None:
    video_ids = [post["id"] for post in posts]
    other_ids = [post["authorMeta"]["id"] for post in posts] + [
        post["musicMeta"]["musicId"] for post in posts
    ]

    assert len(set(video_ids)) == len(video_ids)
    for identifier in video_ids + other_ids:
        assert isinstance(identifier, str)
        assert len(identifier) == 19 and identifier.isdigit(), identifier


def test_posts_were_created_within_150_days_before_the_scrape(
    posts: list[dict[str, Any]],
) -> None:
    ages = [SCRAPED_AT.timestamp() - post["createTime"] for post in posts]

    assert all(0 < age <= 150 * 86_400 for age in ages)
    assert max(ages) > 100 * 86_400


def test_slideshows_look_like_real_slideshows(posts: list[dict[str, Any]]) -> None:
    slideshows = [post for post in posts if post["isSlideshow"]]

    assert 3 <= len(slideshows) <= 10
    for slideshow in slideshows:
        assert slideshow["slideshowImageLinks"]
        assert {"downloadLink", "tiktokLink"} <= set(slideshow["slideshowImageLinks"][0])
        assert slideshow["videoMeta"]["duration"] == 0
        assert "downloadAddr" not in slideshow["videoMeta"]
        assert slideshow["mediaUrls"] == []
    assert all("slideshowImageLinks" not in post for post in posts if not post["isSlideshow"])


def test_pinned_posts_are_listed_first_on_their_profile(items: list[dict[str, Any]]) -> None:
    pinned = [index for index, item in enumerate(items) if item.get("isPinned")]

    assert 1 <= len(pinned) <= 3
    for index in pinned:
        account = items[index]["authorMeta"]["name"]
        assert items[index - 1].get("authorMeta", {}).get("name") != account


def test_captions_are_english_some_with_emoji_hashtags_and_mentions(
    posts: list[dict[str, Any]],
) -> None:
    assert {post["textLanguage"] for post in posts} == {"en"}
    assert any(not post["text"].isascii() for post in posts)
    assert all(
        post["hashtags"] and f"#{post['hashtags'][0]['name']}" in post["text"].lower()
        for post in posts
    )
    mentioned = [post for post in posts if post["mentions"]]
    assert mentioned
    for post in mentioned:
        assert post["mentions"][0].removeprefix("@") in SAMPLE_ACCOUNTS
        assert post["mentions"][0] in post["text"]


def test_a_planted_call_to_action_is_the_last_line_of_the_caption(
    posts: list[dict[str, Any]],
) -> None:
    for post in posts:
        lines = post["text"].split("\n")
        found = [cta for cta in CALLS_TO_ACTION for line in lines if cta in line]
        assert len(found) <= 1, post["text"]
        if found:
            assert lines[-1].startswith(found[0]), post["text"]


def test_the_offline_detector_finds_exactly_the_planted_calls_to_action(
    posts: list[dict[str, Any]],
) -> None:
    captions = pd.Series([post["text"] for post in posts])

    detected = detect_call_to_action(captions).tolist()

    assert detected == [planted_call_to_action(caption) for caption in captions]
    assert all(detect_call_to_action(pd.Series(list(CALLS_TO_ACTION))))


def test_followers_span_orders_of_magnitude(drivers: pd.DataFrame) -> None:
    followers = drivers.groupby("account")["followers"].first()

    assert followers.min() <= 2_000
    assert followers.max() >= 1_000_000
    assert followers.max() / followers.min() >= 100


def test_views_are_heavy_tailed(drivers: pd.DataFrame) -> None:
    assert drivers["views"].max() > 20 * drivers["views"].median()
    assert drivers["views"].mean() > 1.5 * drivers["views"].median()


def test_planted_signal_is_recoverable_from_metadata(drivers: pd.DataFrame) -> None:
    log_views = np.log(drivers["views"]) - np.log(
        1 - np.exp(-drivers["age_days"] / SATURATION_DAYS)
    )
    design = np.column_stack(
        [
            np.ones(len(drivers)),
            np.log(drivers["followers"]),
            *(drivers[driver].astype(float) for driver in LOG_MULTIPLIERS),
        ]
    )
    coefficients, *_ = np.linalg.lstsq(design, log_views, rcond=None)
    follower_elasticity, *driver_effects = coefficients[1:]

    assert follower_elasticity == pytest.approx(FOLLOWER_ELASTICITY, abs=0.1)
    for (driver, planted), effect in zip(LOG_MULTIPLIERS.items(), driver_effects, strict=True):
        assert effect > 0.3, driver
        assert effect == pytest.approx(planted, abs=0.25), driver
    assert np.corrcoef(np.log(drivers["followers"]), np.log(drivers["views"]))[0, 1] > 0.5
    reach = drivers["views"] / drivers["followers"]
    assert reach[drivers["cta"]].median() > reach[~drivers["cta"]].median()
    assert 0.2 < drivers["cta"].mean() < 0.6


def test_engagement_counts_are_noisy_fractions_of_views(drivers: pd.DataFrame) -> None:
    like_rate = drivers["likes"] / drivers["views"]

    assert (drivers["likes"] <= drivers["views"]).all()
    assert 0.05 < like_rate.median() < 0.12
    assert like_rate.std() > 0.01
    assert (drivers["comments"] < drivers["likes"]).mean() > 0.9


def test_sample_normalizes_and_analyzes_offline(items: list[dict[str, Any]]) -> None:
    normalized = normalize_items(items, dataset="sample", batch="b001", scraped_at=SCRAPED_AT)
    videos = normalized.videos
    analyses = analyze_offline(videos, analyzed_at=SCRAPED_AT)

    assert list(videos.columns) == RAW_VIDEOS.column_names
    assert len(videos) == 120
    assert videos["video_id"].is_unique
    assert [(error.account, error.error) for error in normalized.errors] == [
        (MISSING_SAMPLE_ACCOUNT, MISSING_PROFILE_ERROR)
    ]
    assert analyses["content_category"].notna().all()
    assert analyses.groupby("account")["content_category"].nunique().eq(1).all()
    planted = {post["id"]: planted_call_to_action(post["text"]) for post in items if "id" in post}
    assert analyses["has_call_to_action"].tolist() == [
        planted[video_id] for video_id in videos["video_id"]
    ]
    assert (analyses["visual_style"] == "photo_slideshow").sum() == videos["is_slideshow"].sum()
