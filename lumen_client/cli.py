"""``lumen-client``: the client's command line."""

from __future__ import annotations

import argparse
import sys

from lumen_core import ALPN, __version__
from lumen_core.errors import PinError
from lumen_core.trust import format_fingerprint, parse_pin


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lumen-client", description=f"Desktop client of the {ALPN} streaming protocol."
    )
    parser.add_argument("--version", action="version", version=f"lumen-client {__version__}")
    parser.add_argument(
        "--check-pin", metavar="HEX",
        help="check that a host fingerprint pin is well-formed and print it normalised",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.check_pin is not None:
        try:
            print(format_fingerprint(parse_pin(args.check_pin)))
        except PinError as exc:
            print(f"lumen-client: malformed pin: {exc}", file=sys.stderr)
            return 2
        return 0
    print("lumen-client: streaming is not available in this version; see --help", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
