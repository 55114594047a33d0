"""`python -m tiktok_virality.cli`: the same as the `tiktok-virality` command."""

import sys

from tiktok_virality.cli.main import main

sys.exit(main())
