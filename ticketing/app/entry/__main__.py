"""``python -m whiteglove``: the same command line as the ``whiteglove`` script."""
import sys

from ticketing.app.cli import main

sys.exit(main())
