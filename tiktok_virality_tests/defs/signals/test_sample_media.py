"""The demo's video files: one per sample video, the same bytes for the same item, none for a
slideshow, and the caption's call to action on screen."""

from datetime import UTC, datetime
from pathlib import Path

from tiktok_virality.defs.datasets.sample import CALLS_TO_ACTION, generate_sample_items
from tiktok_virality.defs.signals.measure import measure_video
from tiktok_virality.defs.signals.sample_media import sample_video

ITEMS = generate_sample_items(scraped_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_each_sample_video_has_a_file_made_the_same_way_every_time() -> None:
    videos = [item for item in ITEMS if "videoMeta" in item and not item["isSlideshow"]]
    slideshow = next(item for item in ITEMS if item.get("isSlideshow"))

    assert sample_video(videos[0]) == sample_video(videos[0])
    assert sample_video(videos[0]) != sample_video(videos[1])
    assert sample_video(slideshow) is None
    assert sample_video({"error": "This profile/hashtag does not exist."}) is None


def test_a_call_to_action_shows_on_screen_and_its_absence_does_not(tmp_path: Path) -> None:
    def has_action(item: dict) -> bool:
        return any(action in item["text"] for action in CALLS_TO_ACTION)

    videos = [item for item in ITEMS if "videoMeta" in item and not item["isSlideshow"]]
    with_action = next(item for item in videos if has_action(item))
    without = next(item for item in videos if not has_action(item))
    rows = []
    for item in (with_action, without):
        path = tmp_path / f"{item['id']}.mp4"
        path.write_bytes(sample_video(item))
        rows.append(measure_video(path))

    assert [row["text_in_first_2s"] for row in rows] == [True, False]
    assert all(row["signals_note"] is None for row in rows)
