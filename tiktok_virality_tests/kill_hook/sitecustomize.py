"""Puts a kill point (:data:`tiktok_virality_tests.faults.KILL_POINTS`) into every Python process of
a CLI run under test: the CLI and the partition workers it starts, which run the batches of a
parallel run. Python imports `sitecustomize` from the first folder of its path that has one;
:func:`tiktok_virality_tests.faults.killing_cli` puts this folder there and names the point in
``TIKTOK_VIRALITY_TESTS_KILL_POINT``."""

import os

_POINT = os.environ.get("TIKTOK_VIRALITY_TESTS_KILL_POINT")
if _POINT:
    from tiktok_virality_tests.faults import KILL_POINTS

    KILL_POINTS[_POINT]()
