"""Local fakes of the external HTTP APIs the pipeline talks to, for tests, benchmarks and fault injection.

Import each fake from its own module, e.g. ``from tiktok_virality_tests.fakes.apify import FakeApify``.
"""
