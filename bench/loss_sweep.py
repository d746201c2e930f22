"""The loss sweep: frames decoded, freezes and keyframe requests against loss.

    .venv/bin/python -m bench.loss_sweep [--seconds S] [--quick] [--out docs/]

Each point is a real session through netlab (two namespaces, the impaired forwarder
between them; root needed): lumen-host on one side, the headless client on the other,
random loss (both ways) or Gilbert-Elliott bursts, for FEC 0 / 20 / 50 % with the rate
control off (what FEC alone does) and for lumen's default (20 %, rate control on), on
the scene at 1280x720@60 and 20 Mbit/s, and the test pattern at 640x360 for contrast.
The reference in each row is the same series with no loss, measured in the same run.

Writes loss-sweep.json, loss-sweep.md and loss-sweep.png (matplotlib) to --out.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from network import client_in, host_in  # noqa: E402

from netlab import Burst, Impairment, NetLab, unavailable  # noqa: E402

SCENE = ("scene 1280x720@60, 20 Mbit/s", ["--source", "scene", "--size", "1280x720", "--bitrate", "20000"],
         "1280x720")
PATTERN = ("pattern 640x360@60", ["--source", "pattern", "--size", "640x360", "--bitrate", "4000"], "640x360")
SERIES = [  # (label, content, FEC %, rate control)
    ("FEC 0 %", SCENE, 0, False),
    ("FEC 20 %", SCENE, 20, False),
    ("FEC 50 %", SCENE, 50, False),
    ("lumen default (FEC 20 %, rate control)", SCENE, 20, True),
    ("pattern, FEC 20 %", PATTERN, 20, False),
]
LOSSES = [0.0, 0.02, 0.05, 0.10, 0.20, 0.30]
# Bursts: mean loss about 5 %, bursts about 4 packets long.
BURST = Burst(enter=0.0132, leave=0.25)


@dataclass
class Point:
    series: str
    loss: str
    loss_rate: float
    frames_sent: int
    frames_decoded: int
    decoded_percent: float
    freezes_per_minute: float
    freeze_mean_s: float
    keyframe_requests: int
    video_mbps: float
    fec_recovered_shards: int


def run_point(tmp: Path, series: tuple, impairment: Impairment, label: str, rate: float, seconds: float) -> Point:
    name, (_, host_args, size), fec, adapt = series
    with NetLab(impairment, impairment, seed=7) as lab:
        args = [*host_args, "--fec-parity", str(fec), "--max-sessions", "1"]
        if not adapt:
            args.append("--no-rate-control")
        host = host_in(lab, tmp, *args)
        client = client_in(lab, tmp, host, seconds, size=size)
        client.wait(seconds + 60)
        stats = client.stats()
        [served] = host.wait_for_sessions(1, timeout_s=30)
        host.stop()
    sent = int(served["frames_sent"]) or 1
    freezes = stats["freezes"] or {}
    return Point(
        series=name, loss=label, loss_rate=rate, frames_sent=sent, frames_decoded=stats["frames_decoded"],
        decoded_percent=round(100 * stats["frames_decoded"] / sent, 2),
        freezes_per_minute=freezes.get("per_minute", 0.0), freeze_mean_s=freezes.get("mean_s", 0.0),
        keyframe_requests=stats["keyframe_requests"],
        video_mbps=round(stats["video"]["bytes"] * 8 / max(stats["duration_s"], 0.1) / 1e6, 2),
        fec_recovered_shards=stats["video"]["fec_recovered_shards"],
    )


def markdown(points: list[Point], seconds: float) -> str:
    rows = ["| series | loss | frames decoded | freezes / min | mean freeze | keyframe requests | Mbit/s |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for p in points:
        # Freezes are gaps between pictures: with (almost) none decoded there are none to count.
        freezes = ("no picture", "-") if p.frames_decoded < 2 else (f"{p.freezes_per_minute:.1f}",
                                                                    f"{p.freeze_mean_s:.2f} s")
        rows.append(f"| {p.series} | {p.loss} | {p.decoded_percent:.1f} % ({p.frames_decoded}/{p.frames_sent}) | "
                    f"{freezes[0]} | {freezes[1]} | {p.keyframe_requests} | {p.video_mbps:.1f} |")
    return f"Each point: one {seconds:.0f} s session through netlab, loss both ways.\n\n" + "\n".join(rows) + "\n"


def plot(points: list[Point], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name in dict.fromkeys(p.series for p in points):
        random = [p for p in points if p.series == name and p.loss.endswith("random")]
        xs = [100 * p.loss_rate for p in random]
        left.plot(xs, [p.decoded_percent for p in random], marker="o", label=name)
        shown = [p for p in random if p.frames_decoded >= 2]  # no picture: no gaps between pictures to count
        right.plot([100 * p.loss_rate for p in shown], [p.freezes_per_minute for p in shown], marker="o", label=name)
    left.set(xlabel="random loss, both ways (%)", ylabel="frames decoded (%)", ylim=(0, 101),
             title="Frames decoded")
    right.set(xlabel="random loss, both ways (%)", ylabel="freezes per minute",
              title="Freezes (WebRTC's rule; sessions with no picture left out)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(prog="loss_sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--quick", action="store_true", help="0, 5 and 20 %% only")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--from-json", action="store_true", help="only redraw the table and plot from --out's JSON")
    args = parser.parse_args()
    if importlib.util.find_spec("matplotlib") is None:  # known before a sweep of minutes, not after
        print("loss_sweep: the plot needs matplotlib: pip install -e '.[bench]'", file=sys.stderr)
        return 1
    if args.from_json:
        saved = [Point(**p) for p in json.loads((args.out / "loss-sweep.json").read_text())]
        (args.out / "loss-sweep.md").write_text(markdown(saved, args.seconds))
        plot(saved, args.out / "loss-sweep.png")
        return 0
    why = unavailable()
    if why is not None:
        print(f"loss_sweep: {why}", file=sys.stderr)
        return 1
    losses = [0.0, 0.05, 0.20] if args.quick else LOSSES
    points: list[Point] = []
    with tempfile.TemporaryDirectory() as tmp:
        for series in SERIES:
            settings = [(Impairment(loss=r), f"{r:.0%} random", r) for r in losses]
            settings.append((Impairment(burst=BURST), f"{BURST.mean_loss:.0%} in bursts", BURST.mean_loss))
            for impairment, label, rate in settings:
                started = time.monotonic()
                point = run_point(Path(tmp), series, impairment, label, rate, args.seconds)
                points.append(point)
                print(f"{point.series:42s} {label:16s} decoded {point.decoded_percent:6.1f} %  "
                      f"freezes/min {point.freezes_per_minute:5.1f}  keyframe requests {point.keyframe_requests:3d}  "
                      f"{point.video_mbps:5.1f} Mbit/s  ({time.monotonic() - started:.0f} s)", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "loss-sweep.json").write_text(json.dumps([asdict(p) for p in points], indent=1))
    (args.out / "loss-sweep.md").write_text(markdown(points, args.seconds))
    plot(points, args.out / "loss-sweep.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
