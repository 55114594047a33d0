"""The local fake Apify and Gemini servers as pytest fixtures (registered in conftest.py).

`fake_apify` and `fake_gemini` give each test fakes of its own (and `fake_webhook` a receiver for
the alert channel). `module_fake_apify` and
`module_fake_gemini` are one of each for a whole module, for the fixtures of real CLI runs that a
module computes once (see :mod:`.live_cli` and :mod:`.faults`). Every one fails the test (or the
module's last test) if a scenario handler raised: the client saw a 500 that nobody meant.
"""

from collections.abc import Iterator
from typing import TypeVar

import pytest

from tiktok_virality_tests.fakes.apify import FakeApify
from tiktok_virality_tests.fakes.gemini import FakeGemini
from tiktok_virality_tests.fakes.webhook import FakeWebhook

FakeT = TypeVar("FakeT", FakeApify, FakeGemini)


def running(fake_class: type[FakeT]) -> Iterator[FakeT]:
    with fake_class() as fake:
        yield fake
    if fake.handler_errors:
        raise AssertionError(f"{fake_class.__name__} handler errors: {fake.handler_errors!r}")


@pytest.fixture
def fake_apify() -> Iterator[FakeApify]:
    """A running :class:`FakeApify` for this test."""
    yield from running(FakeApify)


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """A running :class:`FakeGemini` for this test."""
    yield from running(FakeGemini)


@pytest.fixture(scope="module")
def module_fake_apify() -> Iterator[FakeApify]:
    """A running :class:`FakeApify` for the module's tests."""
    yield from running(FakeApify)


@pytest.fixture(scope="module")
def module_fake_gemini() -> Iterator[FakeGemini]:
    """A running :class:`FakeGemini` for the module's tests."""
    yield from running(FakeGemini)


@pytest.fixture
def fake_webhook() -> Iterator[FakeWebhook]:
    """A running :class:`FakeWebhook` (the alert channel's receiver) for this test."""
    with FakeWebhook() as webhook:
        yield webhook
