"""`python -m graph.cli` runs the `sovereign` console script."""

import sys

from graph.cli import main

sys.exit(main())
