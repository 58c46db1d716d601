"""`python -m traces.recorder` == `arcsim record`."""
import sys

from .cli import main

sys.exit(main())
