"""`python -m traces.recorder` == `arcsim record`. Standard output is flushed before exit: a
write that failed (a full disk, /dev/full) is one line and exit status 1."""
import sys

from .cli import main, stdout_failed

code = main()
try:
    sys.stdout.flush()
except OSError as e:
    code = stdout_failed(e)
sys.exit(code)
