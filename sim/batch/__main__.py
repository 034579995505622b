"""`python -m sim.batch EXPERIMENT ...`: the same as `shequ batch EXPERIMENT ...`."""

import sys

from sim.batch.cli import main

sys.exit(main())
