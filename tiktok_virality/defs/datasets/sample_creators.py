"""The bundled sample's fictional cast: eight creators, each with a topic (caption templates and
their subjects, hashtags, bio), a follower count and a few habits (slideshows, a pinned post, a
sponsored post), and the six tracks their non-original sounds are taken from. It is apart from
the generator (sample.py) because it is data, not logic: who posts, not how the posts and their
planted signal are made. Everything here is fictional.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """What a creator posts about: a caption is a template with one of the subjects in its `{}`."""

    templates: tuple[str, ...]
    subjects: tuple[str, ...]
    hashtags: tuple[str, ...]
    bio: str
    slideshow_template: str = "Swipe through {} 📸"


@dataclass(frozen=True)
class Creator:
    """One sample account: `slideshows` and `sponsored_posts` count its posts of each kind."""

    name: str
    nickname: str
    region: str
    followers: int
    topic: Topic
    slideshows: int = 0
    pins_top_post: bool = False
    sponsored_posts: int = 0


@dataclass(frozen=True)
class Track:
    """A song a post can use instead of an original sound."""

    name: str
    author: str
    music_id: str


TRACKS = (
    Track("Neon Porchlight", "The Paper Lanterns", "6990412873301458690"),
    Track("Velvet Static", "Mira Sol", "7012389465112740097"),
    Track("Sunday Ferry", "Harbor Kids", "7045561290873356033"),
    Track("Glass Orchard", "Lumen & Fox", "7101834452790126338"),
    Track("Bubblegum Thunder", "DJ Marzipan", "7158920334617489153"),
    Track("Slow Tide", "Odette Vale", "7203345871190851842"),
)

_BAKING = Topic(
    templates=(
        "My {} finally came out right after 11 tries 🍞",
        "3-ingredient {} you can make tonight",
        "Why your {} is dense (and the 30-second fix)",
        "Slow Sunday, warm {} and a very messy kitchen",
        "The {} my grandma swore by, tested",
    ),
    subjects=(
        "sourdough loaf",
        "cinnamon buns",
        "focaccia",
        "banana bread",
        "brioche",
        "rye bread",
    ),
    hashtags=("baking", "Sourdough", "recipe", "FoodTok", "bread"),
    bio="Small oven, big crumbs. Home baking experiments.",
)
_GADGETS = Topic(
    templates=(
        "I tested a {} for a week so you don't have to",
        "Is a {} actually worth it?",
        "Three settings to change on your {} today",
        "The cheapest {} I could find vs the expensive one",
        "Unboxing a {} that nobody asked for",
    ),
    subjects=("folding keyboard", "smart ring", "mini projector", "pocket e-reader", "USB-C hub"),
    hashtags=("tech", "TechTok", "gadgets", "gadget"),
    bio="Honest gadget tests for people on a budget.",
)
_TRAILS = Topic(
    templates=(
        "{}: the trail nobody told you about",
        "48 hours at {} on a tiny budget",
        "Sunrise at {} was worth the 4am alarm",
        "Things I wish I knew before visiting {}",
        "Packing list for a weekend at {}",
    ),
    subjects=(
        "Fernhollow Ridge",
        "Lake Quillby",
        "Bramble Coast",
        "Old Harrowgate",
        "Pinecrest Falls",
        "Saltmarsh Bay",
    ),
    hashtags=("travel", "hiking", "TravelTok", "roadtrip", "wanderlust"),
    bio="Trails, lakes and cheap weekends away.",
)
_LIFTING = Topic(
    templates=(
        "{} form check: the cue that fixed my back",
        "A 20-minute {} session for busy mornings",
        "Week 6 of my {} program, honest update",
        "Stop doing the {} like this",
        "{} PR day 💪",
    ),
    subjects=("deadlift", "squat", "hip thrust", "pull-up", "kettlebell swing", "bench press"),
    hashtags=("fitness", "gym", "GymTok", "workout", "strengthtraining"),
    bio="Coach. Lifting heavy things, slowly.",
)
_MONEY = Topic(
    templates=(
        "{} explained in 60 seconds",
        "The truth about {}",
        "What nobody tells you about {}",
        "Beginner mistakes with {}",
        "How I finally understood {}",
    ),
    subjects=(
        "the 50/30/20 budget",
        "index funds",
        "an emergency fund",
        "compound interest",
        "high-yield savings",
        "credit scores",
    ),
    hashtags=("finance", "money", "personalfinance", "budgeting", "investing", "MoneyTok"),
    bio="Money basics without the jargon. Not financial advice.",
)
_SKINCARE = Topic(
    templates=(
        "Testing the viral {} so you don't have to",
        "My 5-minute routine with {}",
        "{}: drugstore vs luxury",
        "The {} mistake everyone makes",
        "GRWM with my favourite {}",
    ),
    subjects=(
        "vitamin C serum",
        "lip oil",
        "tinted sunscreen",
        "brow gel",
        "cream blush",
        "mascara",
    ),
    hashtags=("beauty", "skincare", "makeup", "grwm", "BeautyTok"),
    bio="Skincare nerd. Everything tested on my own face.",
    slideshow_template="My {} shelf, ranked 📸",
)
_PETS = Topic(
    templates=(
        "{} meets the vacuum for the first time",
        "POV: {} hears the treat bag",
        "Rating the tricks of {} out of 10",
        "{} vs the new automatic feeder",
        "A day in the life of {} 🐾",
    ),
    subjects=(
        "Biscuit the corgi",
        "Pickle the cat",
        "Mochi the puppy",
        "Sir Wiggles the dachshund",
        "Pancake the kitten",
    ),
    hashtags=("pets", "dogsoftiktok", "catsoftiktok", "PetTok", "dog"),
    bio="Five pets, one very tired human.",
)
_SKITS = Topic(
    templates=(
        "When {} 😂",
        "POV: {}",
        "Me acting normal when {}",
        "{}: a short film",
        "Rate this: {}",
    ),
    subjects=(
        "the printer senses a deadline",
        "mom finds the receipt",
        "the wifi drops during a call",
        "you reply all by accident",
        "the GPS says turn left now",
        "your alarm goes off on a Saturday",
    ),
    hashtags=("comedy", "funny", "skit", "ComedyTok", "meme"),
    bio="Sketches about everyday chaos. New skit every day.",
)

CREATORS = (
    Creator("tinyloaf.demo", "Tiny Loaf", "GB", 1_150, _BAKING),
    Creator("circuitsnack.demo", "Circuit Snack", "US", 4_800, _GADGETS),
    Creator("mossy_trails.demo", "Mossy Trails", "CA", 18_500, _TRAILS, slideshows=2),
    Creator("deadlift_dora.demo", "Deadlift Dora", "AU", 62_000, _LIFTING),
    Creator("ledger_lemur.demo", "Ledger Lemur", "US", 150_000, _MONEY, sponsored_posts=1),
    Creator(
        "glowlab_gigi.demo",
        "Glowlab Gigi",
        "US",
        410_000,
        _SKINCARE,
        slideshows=2,
        pins_top_post=True,
    ),
    Creator("pawprint_pals.demo", "Pawprint Pals", "IE", 980_000, _PETS, slideshows=1),
    Creator("chuckle_factory.demo", "Chuckle Factory", "US", 2_000_000, _SKITS, pins_top_post=True),
)
