"""The ``whiteglove`` command line: :mod:`.parser` reads the arguments, :mod:`.commands` (with
:mod:`.tickets`, :mod:`.quarantine` and :mod:`.playbooks`) does the work through the application's
parts, :mod:`.views` prints what they return.

Errors a user can cause (a missing config, a bad key, an unreachable server, a wrong password, an
old schema) print one line naming the problem and exit non-zero; they never show a traceback.
"""
from __future__ import annotations

import os
import sys

from mailer import MailerError
from ticketing.app.cli.commands import EXIT_FAILURE, EXIT_USAGE
from ticketing.app.cli.parser import build_parser
from ticketing.app.logs import configure_logging
from ticketing.errors import ConfigError, PlaybookError, StorageError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.verbose, args.log_format)
    try:
        return args.func(args) or 0
    except ConfigError as exc:
        where = f"{exc.path}: " if exc.path else ""
        for problem in exc.problems:
            print(f"whiteglove: config error: {where}{problem}", file=sys.stderr)
        return EXIT_USAGE
    except PlaybookError as exc:
        for problem in exc.problems:
            print(f"whiteglove: playbook error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, MailerError) as exc:
        print(f"whiteglove: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (| head): not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit does not fail again
        return 0
