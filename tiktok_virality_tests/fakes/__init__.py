"""Local fakes of the external HTTP APIs the pipeline talks to, for tests, benchmarks and fault injection.

Import each fake from its own module, e.g. ``from tiktok_virality_tests.fakes.apify import FakeApify``:
``apify.py`` and ``gemini.py`` are the public faces, the ``apify_*`` and ``gemini_*`` modules their
parts by concern, and the ``_``-modules the HTTP plumbing both share.
The package stands alone — it imports no test module and no pytest — so that the tests and
``bench/`` share it; the tests' fixtures for the fakes are in ``tiktok_virality_tests/fake_servers.py``.
"""
