"""The Apify fake as the service is today, through the real ``apify-client`` (whose pydantic
models validate every object): a pay-per-event actor, its cap, note items, downloaded videos and
their expiry, and runs given single videos' links (`postURLs`)."""

from datetime import timedelta

import pytest
from apify_client import ApifyClient
from apify_client._models import PayPerEventActorPricingInfo

from tiktok_virality_tests.fakes.apify import (
    DATE_FILTER_NOTE,
    MISSING_POST_ERROR,
    NO_VIDEOS_NOTE,
    PRIVATE_PROFILE_NOTE,
    FakeApify,
    default_video_file,
)
from tiktok_virality_tests.fakes.apify_pricing import (
    DATE_FILTER_EVENT,
    RESULT_EVENT,
    START_EVENT,
    STOPPED_AT_CAP,
    VIDEO_DOWNLOAD_EVENT,
)

ACTOR = "clockworks/tiktok-scraper"


def client_of(fake: FakeApify) -> ApifyClient:
    return ApifyClient(
        "token", api_url=fake.url, min_delay_between_retries=timedelta(milliseconds=1)
    )


def videos(n: int) -> list[dict]:
    return [{"id": f"v{i}", "text": f"video {i}"} for i in range(n)]


def test_a_run_reports_its_pricing_and_what_each_event_charged(fake_apify: FakeApify) -> None:
    fake_apify.items_by_profile = {"alice": videos(3)}
    client = client_of(fake_apify)

    run = client.actor(ACTOR).call(
        run_input={"profiles": ["alice", "ghost"], "shouldDownloadVideos": True}, logger=None
    )

    assert isinstance(run.pricing_info, PayPerEventActorPricingInfo)
    events = run.pricing_info.pricing_per_event.actor_charge_events
    prices = {name: event.event_price_usd for name, event in events.items()}
    # The error item of the missing profile is no result: nothing is charged for it.
    assert run.charged_event_counts == {START_EVENT: 1, RESULT_EVENT: 3, VIDEO_DOWNLOAD_EVENT: 3}
    expected = prices[START_EVENT] + 3 * (prices[RESULT_EVENT] + prices[VIDEO_DOWNLOAD_EVENT])
    assert run.usage_total_usd == pytest.approx(expected)
    [listed] = client.actor(ACTOR).runs().list().items
    assert listed.usage_total_usd == pytest.approx(expected)
    actor = client.actor(ACTOR).get()
    assert [info.pricing_model for info in actor.pricing_infos] == ["PAY_PER_EVENT"]
    assert actor.pricing_infos[0].pricing_per_event.actor_charge_events.keys() == events.keys()


def test_the_cap_stops_a_run_before_the_event_that_would_pass_it(fake_apify: FakeApify) -> None:
    fake_apify.items_by_profile = {"alice": videos(10)}
    prices = {name: event.price_usd for name, event in fake_apify.pay_per_event.events.items()}
    per_video = prices[RESULT_EVENT] + prices[DATE_FILTER_EVENT]
    cap = prices[START_EVENT] + 4.5 * per_video

    run = (
        client_of(fake_apify)
        .actor(ACTOR)
        .call(
            run_input={"profiles": ["alice"], "oldestPostDateUnified": "30 days"},
            max_total_charge_usd=cap,
            logger=None,
        )
    )

    assert (run.status, run.status_message) == ("SUCCEEDED", STOPPED_AT_CAP)
    assert run.options.max_total_charge_usd == pytest.approx(cap)
    assert run.charged_event_counts == {START_EVENT: 1, RESULT_EVENT: 4, DATE_FILTER_EVENT: 4}
    assert run.usage_total_usd <= cap
    assert len(fake_apify.run(run.id).items) == 4


def test_accounts_without_videos_get_the_scrapers_note_items(fake_apify: FakeApify) -> None:
    old = {"id": "old", "createTime": 1_600_000_000}
    fake_apify.items_by_profile = {"dated": [old]}
    fake_apify.notes_by_profile = {"locked": PRIVATE_PROFILE_NOTE, "empty": NO_VIDEOS_NOTE}
    client = client_of(fake_apify)

    run = client.actor(ACTOR).call(
        run_input={"profiles": ["locked", "empty", "dated"], "oldestPostDateUnified": "30 days"},
        logger=None,
    )

    items = list(client.dataset(run.default_dataset_id).iterate_items())
    assert [(item["input"], item["note"]) for item in items] == [
        ("locked", PRIVATE_PROFILE_NOTE),
        ("empty", NO_VIDEOS_NOTE),
        ("dated", DATE_FILTER_NOTE),
    ]
    assert run.charged_event_counts == {START_EVENT: 1}


def test_downloaded_videos_are_records_that_expire_with_the_store(fake_apify: FakeApify) -> None:
    fake_apify.items_by_profile = {"alice": [*videos(2), {"id": "s", "isSlideshow": True}]}
    client = client_of(fake_apify)

    run = client.actor(ACTOR).call(
        run_input={"profiles": ["alice"], "shouldDownloadVideos": True}, logger=None
    )
    items = list(client.dataset(run.default_dataset_id).iterate_items())
    store = client.key_value_store(run.default_key_value_store_id)

    url = items[0]["mediaUrls"][0]
    assert url.startswith(f"{fake_apify.url}/v2/key-value-stores/{run.default_key_value_store_id}")
    key = url.rsplit("/", 1)[1]
    assert store.get_record_as_bytes(key)["value"] == default_video_file("v0")
    assert "mediaUrls" not in items[2]  # a slideshow has no video file
    assert run.charged_event_counts[VIDEO_DOWNLOAD_EVENT] == 2

    fake_apify.expire_key_value_stores()

    assert store.get_record_as_bytes(key) is None
    assert client.run(run.id).get() is not None  # the run object outlives its storages here


def test_without_the_download_add_on_nothing_is_downloaded(fake_apify: FakeApify) -> None:
    fake_apify.items_by_profile = {"alice": videos(2)}
    client = client_of(fake_apify)

    run = client.actor(ACTOR).call(run_input={"profiles": ["alice"]}, logger=None)

    assert VIDEO_DOWNLOAD_EVENT not in run.charged_event_counts
    items = list(client.dataset(run.default_dataset_id).iterate_items())
    assert all("mediaUrls" not in item for item in items)


def test_a_run_given_post_links_scrapes_and_downloads_those_videos_only(
    fake_apify: FakeApify,
) -> None:
    fake_apify.items_by_profile = {"alice": [{"id": "71"}, {"id": "72"}], "bob": [{"id": "73"}]}
    client = client_of(fake_apify)
    links = [
        "https://www.tiktok.com/@bob/video/73",
        "https://www.tiktok.com/@alice/video/71",
        "https://www.tiktok.com/@alice/video/79",
    ]

    run = client.actor(ACTOR).call(
        run_input={"postURLs": links, "shouldDownloadVideos": True}, logger=None
    )
    items = list(client.dataset(run.default_dataset_id).iterate_items())

    assert [item.get("id") for item in items] == ["73", "71", None]
    assert items[2] == {"url": links[2], "input": links[2], "error": MISSING_POST_ERROR}
    assert all("mediaUrls" in item for item in items[:2])
    assert run.charged_event_counts == {START_EVENT: 1, RESULT_EVENT: 2, VIDEO_DOWNLOAD_EVENT: 2}
