"""`python -m hajiri_cli` is `hajiri`."""

import sys

from hajiri_cli.main import main

sys.exit(main())
