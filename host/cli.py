"""``lumen-host``: the headless host's command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import socket
import sys
import time
from pathlib import Path

from lumen_core import PROTOCOL_NAME, __version__, opus
from lumen_core.errors import IdentityError
from lumen_core.files import writable_problem
from lumen_core.identity import config_dir, load_or_create_identity
from lumen_core.trust import format_fingerprint
from lumen_core.video.config import MAX_SHARD_PAYLOAD

from .options import DEFAULT_PORT, DEFAULT_VIDEO_PORT

log = logging.getLogger("lumen_host")


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text)
    if not match:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, not {text!r}")
    w, h = int(match[1]), int(match[2])
    if w % 2 or h % 2 or not (256 <= w <= 7680 and 144 <= h <= 4320):
        raise argparse.ArgumentTypeError("size must be even, from 256x144 to 7680x4320")
    return w, h


def _even_shard(text: str) -> int:
    value = _ranged(2, MAX_SHARD_PAYLOAD)(text)
    if value % 2:
        raise argparse.ArgumentTypeError(f"{value} is odd; shards must have an even size")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 86400 * 365:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..{86400 * 365}")
    return value


def _ranged(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is outside {lo}..{hi}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lumen-host",
        description=f"Headless {PROTOCOL_NAME} host: streams a test pattern or the screen, a tone or desktop audio. "
                    "Serves lumen's own clients (M3 and later) and this project's.",
    )
    p.add_argument("--version", action="version", version=f"lumen-host {__version__}")
    p.add_argument("--identity", metavar="DIR", type=Path, default=None,
                   help=f"directory of the host key and certificate (default {config_dir()})")
    p.add_argument("--fingerprint", action="store_true",
                   help="print the host's certificate fingerprint (creating the identity if needed) and exit")
    net = p.add_argument_group("network")
    net.add_argument("--bind", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1; 0.0.0.0 or :: to accept other machines)")
    net.add_argument("--port", type=_ranged(1, 65535), default=DEFAULT_PORT,
                     help=f"UDP port for QUIC (default {DEFAULT_PORT}, as lumen's host)")
    net.add_argument("--video-port", type=_ranged(0, 65535), default=DEFAULT_VIDEO_PORT,
                     help=f"UDP port the video plane is sent from (default {DEFAULT_VIDEO_PORT}; 0 picks a free "
                          "one; open it for clients behind a firewall)")
    net.add_argument("--max-sessions", type=_ranged(0, 1 << 30), default=0,
                     help="stop after this many streamed sessions (default 0: serve forever)")
    net.add_argument("--seconds", type=_seconds, default=0.0, metavar="S",
                     help="end each session after S seconds of streaming (default 0: when the client leaves)")
    net.add_argument("--fec-parity", type=_ranged(0, 255), default=20,
                     help="FEC recovery shards, %% of each block's data shards (default 20)")
    net.add_argument("--shard-payload", type=_even_shard, default=1200, metavar="BYTES",
                     help=f"video shard size, even, at most {MAX_SHARD_PAYLOAD} (default 1200: 1264-byte datagrams; "
                          "lower it for small MTUs)")
    net.add_argument("--allow-unpaired", action="store_true",
                     help="serve clients that are not paired, lumen M3's included (they cannot pair), on a host "
                          "bound beyond loopback; logs a warning (test rigs, trusted networks)")
    net.add_argument("--require-pairing", action="store_true",
                     help="require pairing even when bound to loopback (every user of this machine reaches a "
                          "loopback host)")
    net.add_argument("--no-advertise", action="store_true",
                     help="do not announce this host on the LAN (mDNS/DNS-SD, _lumen._udp)")
    net.add_argument("--no-rate-control", action="store_true",
                     help="keep the bitrate and FEC where they were set, whatever loss and queue delay the client "
                          "reports (for measuring FEC alone)")
    net.add_argument("--pace", type=_ranged(0, 100_000), default=1000, metavar="MBPS",
                     help="spread each frame's datagrams at this rate in Mbit/s (default 1000; 0: no pacing)")
    net.add_argument("--no-extensions", action="store_true",
                     help="speak only lumen M3's base protocol, even to clients that announce extensions")
    video = p.add_argument_group("video")
    video.add_argument("--source", choices=("pattern", "scene", "screen", "m3-synthetic"), default="pattern",
                       help="test pattern (default: flat colour, compresses to almost nothing), scene (detailed "
                            "moving pictures whose bitrate follows --bitrate, as a desktop or game's does), the "
                            "X11 screen of $DISPLAY, or lumen M3's synthetic frames (raw 64 KiB test frames an M3 "
                            "client verifies byte for byte)")
    video.add_argument("--replay", type=Path, metavar="FILE",
                       help="instead of --source, send this H.264 or HEVC elementary stream (Annex B, starting with "
                            "a keyframe) at --fps, looped: a host that costs almost nothing, for measuring clients")
    video.add_argument("--frames", type=_ranged(1, 1 << 31), default=300,
                       help="with --source m3-synthetic: frames per session (default 300)")
    video.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="picture size (default 1280x720)")
    video.add_argument("--fps", type=_ranged(1, 240), default=60, help="frame rate (default 60)")
    video.add_argument("--bitrate", type=_ranged(100, 1_000_000), default=20_000, metavar="KBPS",
                       help="video bitrate in kbit/s (default 20000)")
    video.add_argument("--codec", choices=("h264", "hevc"), default="h264",
                       help="preferred codec for clients that negotiate one (default h264); "
                            "lumen M3's clients always get HEVC")
    audio = p.add_argument_group("audio")
    audio.add_argument("--audio-source", default="tone", metavar="tone|DEVICE",
                       help="a synthetic tone (default) or a sounddevice input, e.g. a PulseAudio monitor")
    audio.add_argument("--tone-hz", type=_ranged(20, 20000), default=440, help="tone frequency (default 440)")
    pads = p.add_argument_group("gamepads")
    pads.add_argument("--rumble-test", action="store_true",
                      help="send rumble that follows each pad's triggers (left: low motor, right: high), "
                           "and pulse it on every pad seen")
    p.add_argument("--stats-json", type=Path, metavar="FILE", help="write each session's statistics to FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return p


def build_admin_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lumen-host", description="Pair clients with this host and manage them.")
    p.add_argument("--identity", metavar="DIR", type=Path, default=None,
                   help=f"the host's directory (default {config_dir()})")
    sub = p.add_subparsers(dest="command", required=True, metavar="pair | clients")
    pair = sub.add_parser("pair", help="print a fresh pairing PIN for the next client")
    pair.add_argument("--identity", metavar="DIR", type=Path, default=argparse.SUPPRESS,
                      help="the host's directory")
    pair.add_argument("--minutes", type=_ranged(1, 60), default=5, help="how long the PIN is valid (default 5)")
    clients = sub.add_parser("clients", help="list or revoke paired clients")
    clients.add_argument("--identity", metavar="DIR", type=Path, default=argparse.SUPPRESS,
                         help="the host's directory")
    what = clients.add_subparsers(dest="action", required=True, metavar="list | revoke NAME")
    what.add_parser("list", help="the paired clients: name, key id, when paired (no secrets)")
    revoke = what.add_parser("revoke", help="unpair a client; its live session ends at once")
    revoke.add_argument("name", help="the client's name as listed (or the start of its key id)")
    return p


def admin_main(argv: list[str]) -> int:
    """``lumen-host pair`` and ``lumen-host clients list|revoke``."""
    from .pairing import ClientRegistry, ClientsError, PinFile

    args = build_admin_parser().parse_args(argv)
    try:
        identity, _ = load_or_create_identity(args.identity)
        directory = identity.key_path.parent
        if args.command == "pair":
            pin = PinFile(directory).create(time.time(), args.minutes * 60.0)
            print(f"pairing PIN: {pin[:3]} {pin[3:]}")
            print(f"Type it into the client within {args.minutes} minutes: `lumen-client pair HOST`, or Pair in "
                  "the desktop client's host list. It works once.")
            return 0
        registry = ClientRegistry(directory)
        if args.action == "list":
            clients = registry.clients()
            if not clients:
                print("no paired clients (pair one: lumen-host pair)")
            for c in clients:
                print(f"{c.name}\tkey {c.key_id}\tpaired {c.paired}")
            return 0
        gone = registry.revoke(args.name)
        print(f"revoked {gone.name!r} (key {gone.key_id}); a session it has open ends now")
        return 0
    except (IdentityError, ClientsError) as exc:
        print(f"lumen-host: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"lumen-host: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["pair"], ["clients"]) or (argv[:1] == ["--identity"] and argv[2:3] in (["pair"], ["clients"])):
        return admin_main(argv)
    args = build_parser().parse_args(argv)
    if args.allow_unpaired and args.require_pairing:
        print("lumen-host: --allow-unpaired and --require-pairing contradict each other", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("quic", "aioquic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        identity, created = load_or_create_identity(args.identity)
    except IdentityError as exc:
        print(f"lumen-host: {exc}", file=sys.stderr)
        return 1
    if created:
        print(f"created a new host identity in {identity.key_path.parent}", file=sys.stderr)
    if args.fingerprint:
        print(format_fingerprint(identity.fingerprint))
        return 0

    problem = opus.missing()
    if problem is not None:
        print(f"lumen-host: {problem}", file=sys.stderr)
        return 1
    if args.stats_json is not None and (problem := writable_problem(args.stats_json)):
        print(f"lumen-host: --stats-json {args.stats_json}: {problem}", file=sys.stderr)
        return 2

    from .audio import CaptureSource, ToneSource
    from .options import HostOptions
    from .replay import Recording, ReplayError, load_recording
    from .server import HostServer

    recording: Recording | None = None
    if args.replay is not None:
        try:
            recording = load_recording(args.replay)
        except ReplayError as exc:
            print(f"lumen-host: --replay: {exc}", file=sys.stderr)
            return 2

    log.info("lumen-host %s, fingerprint %s", __version__, format_fingerprint(identity.fingerprint))
    try:
        audio = ToneSource(args.tone_hz) if args.audio_source == "tone" else CaptureSource(args.audio_source)
    except Exception as exc:  # sounddevice's errors name the device problem well
        print(f"lumen-host: cannot open audio source {args.audio_source!r}: {exc}", file=sys.stderr)
        return 1
    options = HostOptions(
        bind=args.bind, port=args.port, video_port=args.video_port, max_sessions=args.max_sessions,
        seconds=args.seconds, width=args.size[0], height=args.size[1], fps=args.fps, bitrate_kbps=args.bitrate,
        codec=recording.codec if recording else args.codec, source="replay" if recording else args.source,
        frames=args.frames, recording=recording, fec_parity=args.fec_parity,
        shard_payload=args.shard_payload, rumble_test=args.rumble_test, stats_json=args.stats_json,
        host_name=socket.gethostname()[:64], pace_mbps=args.pace, extensions=not args.no_extensions,
        rate_control=not args.no_rate_control, advertise=not args.no_advertise,
        allow_unpaired=args.allow_unpaired, require_pairing=args.require_pairing,
    )
    try:
        asyncio.run(HostServer(options, identity, audio).run())
    except OSError as exc:
        print(f"lumen-host: cannot listen on {args.bind} udp/{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        close = getattr(audio, "close", None)
        if close:
            close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
