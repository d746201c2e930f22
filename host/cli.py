"""``lumen-host``: the headless host's command line."""

from __future__ import annotations

import argparse
import sys

from lumen_core import ALPN, __version__
from lumen_core.errors import IdentityError
from lumen_core.identity import config_dir, load_or_create_identity
from lumen_core.trust import format_fingerprint


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lumen-host",
        description=f"Headless {ALPN} host: streams a test pattern or the screen, a tone or desktop audio.",
    )
    parser.add_argument("--version", action="version", version=f"lumen-host {__version__}")
    parser.add_argument(
        "--identity", metavar="DIR", default=None,
        help=f"directory of the host key and certificate (default {config_dir()})",
    )
    parser.add_argument(
        "--fingerprint", action="store_true",
        help="print the host's certificate fingerprint (creating the identity if needed) and exit",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.fingerprint:
        from pathlib import Path

        try:
            identity, created = load_or_create_identity(Path(args.identity) if args.identity else None)
        except IdentityError as exc:
            print(f"lumen-host: {exc}", file=sys.stderr)
            return 1
        if created:
            print(f"created a new host identity in {identity.key_path.parent}", file=sys.stderr)
        print(format_fingerprint(identity.fingerprint))
        return 0
    print("lumen-host: streaming is not available in this version; see --help", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
