"""What the command-line tools (``python -m nn.train``, ``python -m nn.gradcheck``) share.

A mistake in the command or its data is one line on stderr, ``error: ...``, and exit
status 2, never a traceback; Ctrl-C is one line too, ``interrupted``, and status 130
(128 + SIGINT, as shells report it).
"""
import argparse
import math
import sys

USAGE_ERROR = 2
INTERRUPTED = 130


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but its errors are one line: ``error: MESSAGE (see --help)``."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"error: {message} (see {self.prog} --help)\n")


def error(message):
    """Print ``error: message`` on stderr and return the usage-error status, for ``return error(...)``."""
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


def run(main):
    """``sys.exit(main())``, with Ctrl-C reported in one line instead of a traceback."""
    try:
        status = main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status = INTERRUPTED
    sys.exit(status)


def check_int(parser, option, value, low, high=None):
    """Refuse (parser.error) ``value`` outside [low, high]."""
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        parser.error(f"{option} must be {bound}, got {value}")


def check_positive(parser, option, value, zero_ok=False):
    """Refuse (parser.error) a float ``value`` that is nan, infinite, negative, or 0 unless ``zero_ok``."""
    if not (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
        parser.error(f"{option} must be a finite number {'>= 0' if zero_ok else '> 0'}, got {value}")
