"""`python -m revise` runs the `revise` command."""

import sys

from revise.cli.main import main

sys.exit(main())
