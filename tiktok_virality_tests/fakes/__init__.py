"""Local fakes of the external HTTP APIs the pipeline talks to, for tests, benchmarks and fault injection.

Import each fake from its own module, e.g. ``from tiktok_virality_tests.fakes.apify import FakeApify``.
The package stands alone — it imports no test module and no pytest — so that the tests and
``bench/`` share it; the tests' fixtures for the fakes are in ``tiktok_virality_tests/fake_servers.py``.
"""
