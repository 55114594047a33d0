"""The bundled sample: generated Apify TikTok-scraper items for running the pipeline offline.

`generate_sample_items` returns the items of a profile scrape of `SAMPLE_ACCOUNTS`, in the shape of
the real 2025 items (19-digit string ids, `authorMeta`, `musicMeta`, `videoMeta`, `hashtags` as
`{name}` objects…). There are 8 fictional accounts with 15 posts each, with 1.1k to 2M followers.
A few posts are photo slideshows, shaped like the real ones (duration, width and height 0, no
video file). Two accounts have pinned a post. The ninth account, `MISSING_SAMPLE_ACCOUNT`, comes
back as Apify's error item for a profile that does not exist. Posts were created within the 150
days before `scraped_at`. Everything is fictional: the accounts, captions, hashtags and sounds.
The media URLs point nowhere (`.invalid` hosts, a fictional key-value store), since the sample has
no media.
The creators, their topics and their tracks are in sample_creators.py; this module makes their
posts and plants the signal below.

The same seed and `scraped_at` always give identical items. Only `random.Random(seed)` is used:
no global random state, no network, no files.

Planted signal, for a model to recover from metadata:

    views = 2 · followers^0.85 · 2.0^cta · 1.6^original_sound · 1.8^short
            · (1 − e^(−age_days / 2)) · LogNormal(0, 0.5)

- cta: the caption has a call to action, one of `CALLS_TO_ACTION` ("Follow for part 2!",
  "Comment “GUIDE” and I’ll DM you…", "Save this for later", "Link in bio"…) as its last line
  before the hashtags; `detect_call_to_action` finds every one of them. About 40% of posts have
  one; no other caption contains any of them.
- original_sound: `musicMeta.musicOriginal`. About half of the videos use one; slideshows never do.
- short: a video (not a slideshow) of at most 15 seconds (`videoMeta.duration`).
- age_days: days from `createTime` to `scraped_at`. Views saturate after about a week.

Likes, comments, shares and saves are noisy fractions of views, unrelated to the drivers:
likes = views · LogNormal(ln 0.08, 0.35) (at most views), comments = views · LogNormal(ln 0.005,
0.5), shares = views · LogNormal(ln 0.004, 0.6), saves (`collectCount`) = views · LogNormal(ln
0.008, 0.5), each rounded. Nothing else has an effect: posting hour, hashtags, caption length,
mentions, slideshows and sponsorship don't matter. A pinned post is its account's most viewed post,
so pinning is an effect of views, not a cause.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import Any

from tiktok_virality.defs.datasets.sample_creators import CREATORS, TRACKS, Creator, Topic

MISSING_SAMPLE_ACCOUNT = "vanished_vera.demo"
MISSING_PROFILE_ERROR = "This profile/hashtag does not exist."
POSTS_PER_ACCOUNT = 15
MAX_AGE_DAYS = 150
CALLS_TO_ACTION: tuple[str, ...] = (
    "Follow for part 2!",
    "Comment “GUIDE” and I’ll DM you the full guide 👇",
    "Save this for later ✨",
    "Share this with a friend who needs it",
    "Link in bio 🔗",
    "Let me know in the comments what I should try next",
    "Tag someone who would love this",
)
"""The calls to action of the sample's captions: a post has the planted `cta` driver exactly when
its caption contains one of them."""

# The planted signal, as documented in the module docstring.
_VIEWS_SCALE = 2.0
_FOLLOWER_ELASTICITY = 0.85
_CTA_MULTIPLIER = 2.0
_ORIGINAL_SOUND_MULTIPLIER = 1.6
_SHORT_VIDEO_MULTIPLIER = 1.8
_SHORT_VIDEO_MAX_SECONDS = 15
_SATURATION_DAYS = 2.0
_VIEWS_NOISE_SIGMA = 0.5
_CTA_SHARE = 0.4
_ORIGINAL_SOUND_SHARE = 0.5
_SHORT_VIDEO_SHARE = 0.45
# (median fraction of views, sigma of its log) per engagement count.
_LIKES = (0.08, 0.35)
_COMMENTS = (0.005, 0.5)
_SHARES = (0.004, 0.6)
_SAVES = (0.008, 0.5)

_MEDIA_HOST = "https://media.sample.invalid"
# Not Apify's real host: nothing, and no token, is ever sent to Apify for the sample's "files".
_KEY_VALUE_STORE = "https://api.apify.invalid/v2/key-value-stores/offline-sample/records"
_SECONDS_PER_DAY = 86_400
_GENERIC_HASHTAGS = ("fyp", "foryou", "viral")


SAMPLE_ACCOUNTS: tuple[str, ...] = (
    *(creator.name for creator in CREATORS[:5]),
    MISSING_SAMPLE_ACCOUNT,
    *(creator.name for creator in CREATORS[5:]),
)
"""The sample's accounts in scrape order: 8 that exist and `MISSING_SAMPLE_ACCOUNT`."""


class _IdMinter:
    """TikTok-style ids: the creation time in the high 32 bits, random low bits; 19 digits for
    any time since 2015. Unique within one sample."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._minted: set[str] = set()

    def mint(self, epoch_seconds: int) -> str:
        while True:
            minted = str((epoch_seconds << 32) | self._rng.getrandbits(32))
            if minted not in self._minted:
                self._minted.add(minted)
                return minted


def generate_sample_items(*, scraped_at: datetime, seed: int = 7) -> list[dict[str, Any]]:
    """The Apify items of a profile scrape of `SAMPLE_ACCOUNTS` at `scraped_at` (timezone-aware).

    The same seed and `scraped_at` give identical items. Raises ValueError for a naive datetime,
    whose meaning would depend on the machine's timezone.
    """
    if scraped_at.tzinfo is None:
        raise ValueError(f"scraped_at must be timezone-aware, got {scraped_at!r}")
    rng = random.Random(seed)
    ids = _IdMinter(rng)
    scraped_epoch = int(scraped_at.timestamp())
    # Authors first: a post can mention any other sample creator, by id.
    authors = {creator.name: _author_meta(creator, rng, ids, scraped_epoch) for creator in CREATORS}
    creators = {creator.name: creator for creator in CREATORS}
    items: list[dict[str, Any]] = []
    for account in SAMPLE_ACCOUNTS:
        if account == MISSING_SAMPLE_ACCOUNT:
            items.append(_missing_profile_item(account))
        else:
            items.extend(_creator_items(creators[account], authors, rng, ids, scraped_epoch))
    return items


def _missing_profile_item(account: str) -> dict[str, Any]:
    return {
        "url": f"https://www.tiktok.com/@{account}",
        "input": account,
        "error": MISSING_PROFILE_ERROR,
    }


def _creator_items(
    creator: Creator,
    authors: dict[str, dict[str, Any]],
    rng: random.Random,
    ids: _IdMinter,
    scraped_epoch: int,
) -> list[dict[str, Any]]:
    slideshow_positions = set(rng.sample(range(POSTS_PER_ACCOUNT), creator.slideshows))
    sponsored_positions = set(rng.sample(range(POSTS_PER_ACCOUNT), creator.sponsored_posts))
    posts = [
        _post(
            creator,
            authors,
            rng,
            ids,
            scraped_epoch,
            is_slideshow=position in slideshow_positions,
            is_sponsored=position in sponsored_positions,
        )
        for position in range(POSTS_PER_ACCOUNT)
    ]
    if creator.pins_top_post:
        max(posts, key=lambda post: post["playCount"])["isPinned"] = True
    # A profile scrape lists pinned posts first, then the newest first.
    return sorted(posts, key=lambda post: (not post["isPinned"], -post["createTime"]))


def _author_meta(
    creator: Creator, rng: random.Random, ids: _IdMinter, scraped_epoch: int
) -> dict[str, Any]:
    joined_epoch = scraped_epoch - rng.randint(400, 2_500) * _SECONDS_PER_DAY
    avatar = f"{_MEDIA_HOST}/avatars/{creator.name}.jpeg"
    following = rng.randint(20, 900)
    return {
        "id": ids.mint(joined_epoch),
        "name": creator.name,
        "profileUrl": f"https://www.tiktok.com/@{creator.name}",
        "nickName": creator.nickname,
        "verified": creator.followers >= 1_000_000,
        "signature": creator.topic.bio,
        "originalAvatarUrl": avatar,
        "avatar": avatar,
        "commerceUserInfo": {"commerceUser": creator.sponsored_posts > 0},
        "privateAccount": False,
        "region": creator.region,
        "roomId": "",
        "ttSeller": False,
        "following": following,
        "friends": rng.randint(0, following),
        "fans": creator.followers,
        "heart": round(creator.followers * rng.uniform(8, 25)),
        "video": rng.randint(60, 900),
        "digg": rng.randint(0, 5_000),
    }


def _post(
    creator: Creator,
    authors: dict[str, dict[str, Any]],
    rng: random.Random,
    ids: _IdMinter,
    scraped_epoch: int,
    *,
    is_slideshow: bool,
    is_sponsored: bool,
) -> dict[str, Any]:
    age_seconds = rng.randint(3 * 3_600, MAX_AGE_DAYS * _SECONDS_PER_DAY)
    created_epoch = scraped_epoch - age_seconds
    video_id = ids.mint(created_epoch)
    has_call_to_action = rng.random() < _CTA_SHARE
    original_sound = not is_slideshow and rng.random() < _ORIGINAL_SOUND_SHARE
    duration = 0 if is_slideshow else _video_duration(rng)
    is_short = not is_slideshow and duration <= _SHORT_VIDEO_MAX_SECONDS
    hashtags = [
        *rng.sample(creator.topic.hashtags, rng.randint(1, 3)),
        *rng.sample(_GENERIC_HASHTAGS, rng.randint(0, 2)),
        *(["ad"] if is_sponsored else []),
    ]
    mentioned = _mentioned_author(creator, authors, rng)
    caption = _caption(creator.topic, rng, has_call_to_action, is_slideshow, is_sponsored)
    if mentioned is not None:
        first_line, newline, rest = caption.partition("\n")
        caption = f"{first_line} with @{mentioned['name']}{newline}{rest}"
    text = " ".join([caption, *(f"#{tag}" for tag in hashtags)])

    views_median = (
        _VIEWS_SCALE
        * creator.followers**_FOLLOWER_ELASTICITY
        * (_CTA_MULTIPLIER if has_call_to_action else 1.0)
        * (_ORIGINAL_SOUND_MULTIPLIER if original_sound else 1.0)
        * (_SHORT_VIDEO_MULTIPLIER if is_short else 1.0)
        * (1 - math.exp(-age_seconds / _SECONDS_PER_DAY / _SATURATION_DAYS))
    )
    views = max(1, round(views_median * rng.lognormvariate(0, _VIEWS_NOISE_SIGMA)))

    created = datetime.fromtimestamp(created_epoch, UTC)
    kv_record = f"{_KEY_VALUE_STORE}/video-{creator.name}-{created:%Y%m%d%H%M%S}-{video_id}"
    cover = f"{_MEDIA_HOST}/covers/{video_id}.jpeg"
    item: dict[str, Any] = {
        "id": video_id,
        "text": text,
        "textLanguage": "en",
        "createTime": created_epoch,
        "createTimeISO": f"{created:%Y-%m-%dT%H:%M:%S}.000Z",
        "isAd": False,
        "authorMeta": authors[creator.name],
        "musicMeta": _music_meta(creator, rng, ids, created_epoch, original_sound),
        "webVideoUrl": f"https://www.tiktok.com/@{creator.name}/video/{video_id}",
        "mediaUrls": [] if is_slideshow else [kv_record],
        "videoMeta": (
            {"height": 0, "width": 0, "duration": 0, "coverUrl": cover, "originalCoverUrl": cover}
            if is_slideshow
            else {
                "height": 1024,
                "width": 576,
                "duration": duration,
                "coverUrl": cover,
                "originalCoverUrl": cover,
                "definition": "540p",
                "format": "mp4",
                "downloadAddr": kv_record,
            }
        ),
        "diggCount": min(views, _fraction_of(views, _LIKES, rng)),
        "shareCount": _fraction_of(views, _SHARES, rng),
        "playCount": views,
        "collectCount": _fraction_of(views, _SAVES, rng),
        "commentCount": _fraction_of(views, _COMMENTS, rng),
        "mentions": [] if mentioned is None else [f"@{mentioned['name']}"],
        "detailedMentions": [] if mentioned is None else [_detailed_mention(mentioned)],
        "hashtags": [{"name": tag.lower()} for tag in hashtags],
        "effectStickers": [],
        "isSlideshow": is_slideshow,
        "isPinned": False,
        "isSponsored": is_sponsored,
        "input": f"@{creator.name}",
        "fromProfileSection": "videos",
    }
    if is_slideshow:
        item["slideshowImageLinks"] = [
            {"downloadLink": link, "tiktokLink": link}
            for link in (
                f"{_MEDIA_HOST}/photos/{video_id}-{index}.jpeg"
                for index in range(rng.randint(3, 8))
            )
        ]
    return item


def _video_duration(rng: random.Random) -> int:
    if rng.random() < _SHORT_VIDEO_SHARE:
        return rng.randint(6, _SHORT_VIDEO_MAX_SECONDS)
    return rng.randint(_SHORT_VIDEO_MAX_SECONDS + 1, 90)


def _caption(
    topic: Topic,
    rng: random.Random,
    has_call_to_action: bool,
    is_slideshow: bool,
    is_sponsored: bool,
) -> str:
    template = topic.slideshow_template if is_slideshow else rng.choice(topic.templates)
    first_sentence = template.format(rng.choice(topic.subjects))
    sentences = [first_sentence[0].upper() + first_sentence[1:]]
    if is_sponsored:
        sentences.append("Thanks to Fictional Bank Co. for sponsoring this one.")
    if has_call_to_action:
        sentences.append(rng.choice(CALLS_TO_ACTION))
    return "\n".join(sentences)


def _mentioned_author(
    creator: Creator, authors: dict[str, dict[str, Any]], rng: random.Random
) -> dict[str, Any] | None:
    """Another sample creator, tagged as a collaborator in about one post in twelve."""
    if rng.random() >= 1 / 12:
        return None
    return rng.choice([author for name, author in authors.items() if name != creator.name])


def _detailed_mention(author: dict[str, Any]) -> dict[str, str]:
    # Real items link the mentioned profile by user id, not by name.
    return {
        "id": author["id"],
        "name": author["name"],
        "nickName": author["nickName"],
        "profileUrl": f"https://www.tiktok.com/@{author['id']}",
    }


def _music_meta(
    creator: Creator, rng: random.Random, ids: _IdMinter, created_epoch: int, original: bool
) -> dict[str, Any]:
    if original:
        return {
            "musicName": f"original sound - {creator.nickname}",
            "musicAuthor": creator.nickname,
            "musicOriginal": True,
            "playUrl": f"{_MEDIA_HOST}/sounds/original-{created_epoch}.mp3",
            "musicId": ids.mint(created_epoch),
        }
    track = rng.choice(TRACKS)
    return {
        "musicName": track.name,
        "musicAuthor": track.author,
        "musicOriginal": False,
        "musicAlbum": track.name,
        "playUrl": f"{_MEDIA_HOST}/sounds/{track.music_id}.mp3",
        "musicId": track.music_id,
    }


def _fraction_of(views: int, fraction: tuple[float, float], rng: random.Random) -> int:
    median, sigma = fraction
    return round(views * median * rng.lognormvariate(0, sigma))
