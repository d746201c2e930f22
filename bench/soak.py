"""The soak: ten minutes of 1280x720@60 at 20 Mbit/s through 2 % loss.

    .venv/bin/python -m bench.soak [--seconds 600] [--out docs/]

A real session through netlab (root needed) on the scene source. Reports the frames
delivered and decoded, keyframe requests, freezes, and each process's resident memory
and thread count early on (after WARMUP_S, once every buffer has been allocated) and
just before the end; memory may grow at most 5 % and the thread counts must not change.
Writes soak.json to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from network import client_in, host_in  # noqa: E402

from netlab import Impairment, NetLab, unavailable  # noqa: E402

WARMUP_S = 20.0


def sample(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss_kb": int(fields["VmRSS"].split()[0]), "threads": int(fields["Threads"])}


def main() -> int:
    parser = argparse.ArgumentParser(prog="soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--loss", type=float, default=0.02)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    why = unavailable()
    if why is not None:
        print(f"soak: {why}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp, NetLab(Impairment(loss=args.loss), Impairment(loss=args.loss)) as lab:
        host = host_in(lab, Path(tmp), "--source", "scene", "--size", "1280x720", "--bitrate", "20000",
                       "--max-sessions", "1")
        client = client_in(lab, Path(tmp), host, args.seconds, size="1280x720")
        host.wait_for_log("video to")
        started = time.monotonic()
        time.sleep(WARMUP_S)
        early = {"host": sample(host.proc.pid), "client": sample(client.proc.pid)}
        time.sleep(max(0.0, args.seconds - WARMUP_S - 10.0 - (time.monotonic() - started - WARMUP_S)))
        late = {"host": sample(host.proc.pid), "client": sample(client.proc.pid)}
        code = client.wait(120)
        stats = client.stats()
        [served] = host.wait_for_sessions(1, timeout_s=30)
        host.stop()
    result = {
        "seconds": args.seconds, "loss": args.loss, "client_exit": code,
        "frames_sent": served["frames_sent"], "frames_decoded": stats["frames_decoded"],
        "decoded_percent": round(100 * stats["frames_decoded"] / max(1, int(served["frames_sent"])), 2),
        "frames_lost": stats["frames_lost"], "keyframe_requests": stats["keyframe_requests"],
        "freezes": {k: v for k, v in stats["freezes"].items() if k != "freezes"},
        "audio_played_per_s": stats["audio_played_per_s"], "audio_concealed": stats["audio_concealed"],
        "video_mbps": round(stats["video"]["bytes"] * 8 / stats["duration_s"] / 1e6, 2),
        "rate_changes": len(served["rate_changes"]),
        "early": early, "late": late,
        "rss_growth_percent": {side: round(100 * (late[side]["rss_kb"] / early[side]["rss_kb"] - 1), 2)
                               for side in ("host", "client")},
        "threads_equal": all(early[side]["threads"] == late[side]["threads"] for side in ("host", "client")),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    ok = code == 0 and result["threads_equal"] and max(result["rss_growth_percent"].values()) <= 5.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
