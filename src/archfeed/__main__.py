"""The entry point: the console script and `python -m archfeed`. Never holds logic.

The command line is imported here with Ctrl-C ending the process at once: its imports take a
good part of a second, nothing is open yet, and a KeyboardInterrupt raised inside the import
machinery is a traceback (or, in a weakref callback, an "Exception ignored" and no stop at all).
Once imported, Ctrl-C is a KeyboardInterrupt again, which the command line turns into one line.
`archfeed --version` alone is answered before any of it (the same line typer prints).
"""

import os
import signal
import sys


def _stop_now(signum: int, frame: object) -> None:
    sys.stderr.write("archfeed: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # what scripts and package managers ask most: no CLI needed
        from archfeed import __version__

        print(f"archfeed {__version__}")
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # a background job that ignores Ctrl-C goes on ignoring it
        signal.signal(signal.SIGINT, _stop_now)
    from archfeed.cli import main as command_line

    signal.signal(signal.SIGINT, previous)
    command_line()


if __name__ == "__main__":
    main()
