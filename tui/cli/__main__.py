"""`python -m swarmscope.tui.cli`: what the `swarmscope` script runs, for tests and benches that
start it."""

import sys

from swarmscope.tui.cli import main

sys.exit(main())
