"""``lumen-client``: the client's command line.

    lumen-client [HOST[:PORT]] [--pin HEX] [--fullscreen]      the desktop application
    lumen-client stream HOST[:PORT] --headless [--duration S] [--pin HEX] [--stats-json FILE]
    lumen-client --input-test [--list] [--host HOST[:PORT]]   controllers, in a terminal
    lumen-client list [--seconds S]                            hosts announced on the LAN
    lumen-client pair HOST[:PORT] [--code PIN]                 pair with a host's PIN
    lumen-client --check-pin HEX
    lumen-client bench e2e [--seconds S] [--sizes WxH,...]

Exit status: 0 done, 1 the session failed, 2 bad arguments (a malformed pin among them,
caught before any packet is sent), 3 the host is not trusted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import re
import signal
import sys
from pathlib import Path

from lumen_core import PROTOCOL_NAME, __version__, opus
from lumen_core.control.base import DEFAULT_PORT
from lumen_core.errors import PinError
from lumen_core.files import writable_problem
from lumen_core.trust import format_fingerprint, parse_pin

from .address import parse_address

EXIT_FAILED, EXIT_USAGE, EXIT_UNTRUSTED = 1, 2, 3


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text)
    if not match:
        raise argparse.ArgumentTypeError(f"size must look like 1920x1080, not {text!r}")
    return int(match[1]), int(match[2])


def _fps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the frame rate must be a whole number, not {text!r}") from None
    if not 1 <= value <= 240:
        raise argparse.ArgumentTypeError(f"the frame rate must be 1..240, not {value}")
    return value


def _display_problem() -> str | None:
    """Why the desktop application cannot open a window here, or None."""
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("there is no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
            "for a session without one: lumen-client stream HOST --headless")


def build_parser() -> argparse.ArgumentParser:
    """The desktop application's arguments (``stream`` has its own parser)."""
    parser = argparse.ArgumentParser(
        prog="lumen-client", description=f"Client of the {PROTOCOL_NAME} streaming protocol: streams from "
                                        "lumen's hosts (M3 and later) and from lumen-host.",
        epilog="Also: lumen-client stream HOST --headless ...; lumen-client bench e2e",
    )
    parser.add_argument("--version", action="version", version=f"lumen-client {__version__}")
    parser.add_argument("address", nargs="?", metavar="HOST[:PORT]", help="connect to this host straight away")
    parser.add_argument("--pin", metavar="HEX", help="the host's SHA-256 fingerprint; overrides stored pins")
    parser.add_argument("--fullscreen", action="store_true", help="stream full screen")
    parser.add_argument("--check-pin", metavar="HEX",
                        help="check that a host fingerprint pin is well-formed and print it normalised")
    parser.add_argument("--input-test", action="store_true",
                        help="list game controllers and show their input as it would go on the wire")
    parser.add_argument("--list", action="store_true", help="with --input-test: list controllers and exit")
    parser.add_argument("--host", metavar="HOST[:PORT]",
                        help="with --input-test: also stream the input to this host and show its rumble")
    return parser


def build_stream_parser() -> argparse.ArgumentParser:
    stream = argparse.ArgumentParser(prog="lumen-client stream", description="stream from a host")
    stream.add_argument("address", metavar="HOST[:PORT]", help=f"the host (default port {DEFAULT_PORT})")
    stream.add_argument("--headless", action="store_true", help="no window: decode, measure, report")
    stream.add_argument("--duration", type=float, metavar="S", help="end the session after S seconds")
    stream.add_argument("--pin", metavar="HEX", help="the host's SHA-256 fingerprint; anything else is refused")
    stream.add_argument("--stats-json", type=Path, metavar="FILE", help="write the session's statistics to FILE")
    stream.add_argument("--size", type=_size, default=(1920, 1080), metavar="WxH",
                        help="largest picture to ask for (default 1920x1080)")
    stream.add_argument("--fps", type=_fps, default=60, help="highest frame rate to ask for (default 60)")
    stream.add_argument("--codec", choices=("h264", "hevc"), action="append",
                        help="codecs to offer, preferred first (default h264, hevc)")
    stream.add_argument("--decoder", choices=("auto", "hardware", "software"), default="auto",
                        help="video decoder: hardware (VAAPI, then CUDA) or software; auto tries in that order")
    stream.add_argument("--no-gamepads", action="store_true", help="do not forward gamepads")
    stream.add_argument("--no-extensions", action="store_true",
                        help="speak only lumen M3's base protocol, even to a host that offers extensions")
    stream.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    stream.add_argument("--fullscreen", action="store_true", help="without --headless: stream full screen")
    return stream


def build_pair_parser() -> argparse.ArgumentParser:
    pair = argparse.ArgumentParser(
        prog="lumen-client pair", description="pair with a host that requires it: run `lumen-host pair` there "
                                              "and type the PIN it prints; the host is pinned too")
    pair.add_argument("address", metavar="HOST[:PORT]", help=f"the host (default port {DEFAULT_PORT})")
    pair.add_argument("--code", metavar="PIN", help="the PIN (default: asked for on the terminal)")
    pair.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return pair


def _client_key(required: bool):
    """The client's key (made on first use); None with a warning if it cannot be had
    and the command can do without it."""
    from lumen_core.errors import IdentityError
    from lumen_core.identity import load_or_create_client_key

    try:
        key, _ = load_or_create_client_key()
    except IdentityError as exc:
        if required:
            raise
        print(f"lumen-client: warning: {exc}; hosts that require pairing will refuse this client", file=sys.stderr)
        return None
    return key


def _pair_command(args: argparse.Namespace) -> int:
    from lumen_core.errors import IdentityError
    from lumen_core.session.auth import parse_pin_code

    try:
        host, port = parse_address(args.address)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    text = args.code
    if text is None:
        try:
            if sys.stdin.isatty():
                import getpass

                text = getpass.getpass(f"PIN shown by lumen-host pair on {args.address}: ")
            else:
                text = sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            return fail("no PIN given", EXIT_USAGE)
    try:
        code = parse_pin_code(text)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    if (problem := opus.missing()) is not None:
        return fail(problem, EXIT_FAILED)
    try:
        key = _client_key(required=True)
    except IdentityError as exc:
        return fail(str(exc), EXIT_FAILED)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_pair(host, port, code, key))


async def _pair(host: str, port: int, code: str, key) -> int:
    from .session import SessionError, StreamOptions, StreamSession, TrustError
    from .trust_store import TrustStore

    options = StreamOptions(host=host, port=port, identity=key, pair_pin=code)
    try:
        result = await StreamSession(options, TrustStore(), lambda fp: False).run()
    except (SessionError, TrustError) as exc:
        return fail(str(exc), EXIT_FAILED)
    if not result.paired:
        return fail(f"pairing did not finish: {result.end_reason}", EXIT_FAILED)
    print(f"lumen-client: paired with {options.address}; its fingerprint is pinned:\n"
          f"  {format_fingerprint(result.host_fingerprint)}", file=sys.stderr)
    return 0


def build_list_parser() -> argparse.ArgumentParser:
    listing = argparse.ArgumentParser(prog="lumen-client list", description="hosts announced on the LAN (mDNS)")
    listing.add_argument("--seconds", type=float, default=3.0, help="how long to listen (default 3)")
    return listing


def _list_command(args: argparse.Namespace) -> int:
    from lumen_core.net.discovery import browse

    from .trust_store import TrustStore

    if not (math.isfinite(args.seconds) and 0 < args.seconds <= 60):
        return fail("--seconds must be between 0 and 60", EXIT_USAGE)
    try:
        hosts = browse(args.seconds)
    except OSError as exc:
        return fail(f"cannot listen for hosts on the LAN: {exc.strerror or exc}", EXIT_FAILED)
    store = TrustStore()
    for host in hosts:
        stored = store.get(host.endpoint)
        if stored is None:
            trust = "pairing required (lumen-client pair)" if host.pairing_required else "not trusted yet"
        elif host.fingerprint and stored.lower() == host.fingerprint:
            trust = "pinned"
        else:
            trust = "WARNING: announces another fingerprint than the pin stored for it"
        mode = "lumen/1 extended" if host.extension_version else "lumen/1 base"
        shown = format_fingerprint(host.fingerprint) if host.fingerprint else "no fingerprint announced"
        print(f"{host.name}\t{host.endpoint}\t{mode}\t{trust}\n  {shown}")
    if not hosts:
        print(f"lumen-client: no host answered within {args.seconds:g} s (is multicast DNS, udp/5353, let through?)",
              file=sys.stderr)
    return 0


def _bench_command(args: list[str]) -> int:
    """The benchmarks are in the source checkout (bench/), not in the packages: from an
    editable install this runs them there."""
    import subprocess

    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "bench" / "e2e.py").is_file():
        return fail("the benchmarks are not installed: run them from a source checkout (python -m bench.e2e)",
                    EXIT_USAGE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(checkout), os.environ.get("PYTHONPATH")) if p)}
    return subprocess.call([sys.executable, "-m", "bench.e2e", *args], env=env)


def fail(message: str, code: int) -> int:
    print(f"lumen-client: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    if raw[:1] == ["bench"]:
        return _bench_command(raw[1:])
    if raw[:1] == ["stream"]:
        return _stream_command(build_stream_parser().parse_args(raw[1:]))
    if raw[:1] == ["list"]:
        return _list_command(build_list_parser().parse_args(raw[1:]))
    if raw[:1] == ["pair"]:
        return _pair_command(build_pair_parser().parse_args(raw[1:]))
    args = build_parser().parse_args(raw)
    if args.check_pin is not None:
        try:
            print(format_fingerprint(parse_pin(args.check_pin)))
        except PinError as exc:
            return fail(f"malformed pin: {exc}", EXIT_USAGE)
        return 0
    try:
        pin = parse_pin(args.pin) if args.pin is not None else None
        if args.address:
            parse_address(args.address)
        if args.host:
            parse_address(args.host)
    except PinError as exc:
        return fail(f"malformed --pin: {exc}", EXIT_USAGE)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    if args.input_test:
        from .input_test import run_input_test

        return run_input_test(list_only=args.list, host=args.host, pin=pin)
    return _desktop(args.address, pin, args.fullscreen)


def _desktop(address: str | None, pin: str | None, fullscreen: bool) -> int:
    problem = _display_problem() or opus.missing()
    if problem is not None:
        return fail(problem, EXIT_FAILED)
    from .app.main import run

    return run(address, pin=pin, fullscreen=fullscreen or None)


def _stream_command(args: argparse.Namespace) -> int:
    try:
        pin = parse_pin(args.pin) if args.pin is not None else None
    except PinError as exc:
        return fail(f"malformed --pin: {exc}", EXIT_USAGE)
    try:
        host, port = parse_address(args.address)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    if not args.headless:
        return _desktop(args.address, pin, args.fullscreen)
    if args.duration is not None and not (math.isfinite(args.duration) and args.duration > 0):
        return fail("--duration must be a positive number of seconds", EXIT_USAGE)
    if args.stats_json is not None and (problem := writable_problem(args.stats_json)):
        return fail(f"--stats-json {args.stats_json}: {problem}", EXIT_USAGE)
    if (problem := opus.missing()) is not None:
        return fail(problem, EXIT_FAILED)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_headless(args, host, port, pin))


async def _headless(args: argparse.Namespace, host: str, port: int, pin: str | None) -> int:
    from .pads import PadPoller
    from .session import SessionError, StreamOptions, TrustError
    from .trust_store import TrustStore
    from .wiring import wire

    def first_use(fingerprint: str) -> bool:
        print(f"lumen-client: trusting {host}:{port} on first use; its fingerprint is\n"
              f"  {format_fingerprint(fingerprint)}\n"
              f"  (compare it with what lumen-host logged; it is pinned from now on)", file=sys.stderr)
        return True

    options = StreamOptions(host=host, port=port, pin=pin, duration_s=args.duration, width=args.size[0],
                            height=args.size[1], fps=args.fps, codecs=tuple(args.codec or ("h264", "hevc")),
                            decoder=args.decoder, extensions=not args.no_extensions,
                            identity=None if args.no_extensions else _client_key(required=False))
    poller = None if args.no_gamepads else PadPoller()
    session = wire(options, TrustStore(), first_use, pads=poller)
    if poller is not None:
        poller.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, session.stop)
    try:
        result = await session.run()
    except TrustError as exc:
        return fail(str(exc), EXIT_UNTRUSTED)
    except SessionError as exc:
        if args.stats_json is not None:  # what a refused or failed session saw, for diagnosis
            args.stats_json.write_text(json.dumps({"error": str(exc), **session.result.stats}, indent=2))
        return fail(str(exc), EXIT_FAILED)
    finally:
        if poller is not None:
            poller.stop()
            await loop.run_in_executor(None, poller.join)
    stats = {"host_fingerprint": result.host_fingerprint, "trusted_by": result.trusted_by,
             "config": result.config, "end_reason": result.end_reason, "error": result.error, **result.stats}
    if args.stats_json is not None:
        args.stats_json.write_text(json.dumps(stats, indent=2))
    lat = (stats.get("latency_ms") or {}).get("capture_to_decoded") or {}
    print(f"lumen-client: {result.mode} mode, {stats['codec'] or 'no video'}; "
          f"{stats['frames_decoded']} frames decoded ({stats['decoder']}), "
          f"{stats['frames_lost']} lost, {stats['frames_recovered']} recovered by FEC, "
          f"audio {stats['audio_packets_per_s']} packets/s, capture->decoded p50 {lat.get('p50', '-')} ms; "
          f"{result.end_reason}", file=sys.stderr)
    if result.error:
        return fail(f"the session failed: {result.end_reason}", EXIT_FAILED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
