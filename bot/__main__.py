"""Run the command line: ``python -m bot``."""

import sys

try:
    from bot.cli.main import run
except KeyboardInterrupt:  # Ctrl-C while the program is still being imported
    print("\nqabot: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

run()
