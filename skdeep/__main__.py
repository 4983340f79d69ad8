"""Command line: ``python -m skdeep demo`` runs the tour; ``python -m skdeep --version``."""

from __future__ import annotations

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m skdeep", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print the version")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="a tour of skdeep's estimators on real data")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for the tour (default 1, the project's policy for what it runs "
        "itself; 0 keeps torch's default of every core)",
    )
    args = parser.parse_args(argv)
    if args.version:
        from skdeep import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        from skdeep.demo import run

        if args.threads > 0:
            import torch

            torch.set_num_threads(args.threads)
        run(verbose=0 if args.quiet else 1)
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
