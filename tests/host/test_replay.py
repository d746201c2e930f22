"""``lumen-host --replay``: a recording sent as it is, looped at the frame rate, to a real
client; a keyframe request restarts it; a file that cannot be replayed is one line and
exit 2 before anything listens."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hosts import run_client, start_host
from lumen_host.replay import ReplayError, ReplayPipeline, load_recording
from lumen_host.video import EncoderSettings, PatternVideo, open_encoder

from lumen_client.session import StreamOptions
from lumen_client.trust_store import TrustStore
from lumen_core.net.video import EncodedFrame

pytestmark = pytest.mark.timeout(120)


def _record(path: Path, frames: int, codec: str = "h264", size: tuple[int, int] = (320, 180)) -> Path:
    encoder, _ = open_encoder(EncoderSettings(codec, *size, 60, 1000, gop_s=frames), ["libx264" if codec == "h264"
                                                                                     else "libx265"])
    source = PatternVideo(*size)
    with path.open("wb") as out:
        for n in range(frames):
            frame = source.grab(n, n)
            frame.pts = n
            out.write(b"".join(bytes(p) for p in encoder.encode(frame)))
        out.write(b"".join(bytes(p) for p in encoder.encode(None)))
    return path


def test_a_recording_is_split_into_its_frames(tmp_path: Path) -> None:
    recording = load_recording(_record(tmp_path / "p.h264", 30))
    assert (recording.codec, recording.width, recording.height) == ("h264", 320, 180)
    assert len(recording.frames) == 30
    assert [keyframe for _, keyframe in recording.frames] == [True] + [False] * 29


def test_a_keyframe_request_restarts_from_the_first_frame(tmp_path: Path) -> None:
    recording = load_recording(_record(tmp_path / "p.h264", 30))
    sent: list[tuple[bytes, bool]] = []
    done = threading.Event()

    def sink(frame: EncodedFrame) -> None:
        sent.append((frame.data, frame.keyframe))
        if len(sent) == 5:
            pipeline.request_keyframe()
        if len(sent) == 8:
            done.set()

    pipeline = ReplayPipeline(recording, 240, sink, wall_offset_ns=0)
    pipeline.start()
    assert done.wait(10)
    pipeline.stop()
    pipeline.join()
    frames = [data for data, _ in recording.frames]
    # Frames 0-4, then (the request made while frame 4 was handed over) 0, 1, 2 again.
    assert [frames.index(data) for data, _ in sent[:8]] == [0, 1, 2, 3, 4, 0, 1, 2]
    assert pipeline.keyframes == sum(keyframe for _, keyframe in sent) == 2


def test_what_cannot_be_replayed_says_why(tmp_path: Path) -> None:
    (tmp_path / "text.h264").write_text("not video")
    whole = _record(tmp_path / "p.h264", 10).read_bytes()
    first_idr = whole.find(b"\x00\x00\x01\x65")  # the IDR slice: cut it off, the rest has no keyframe
    (tmp_path / "no-keyframe.h264").write_bytes(whole[:first_idr] + whole[first_idr + 600:])
    for name, why in (("missing.h264", "cannot read"), ("text.h264", "not an H.264 or HEVC"),
                      ("no-keyframe.h264", "does not start with a keyframe")):
        with pytest.raises(ReplayError, match=why):
            load_recording(tmp_path / name)
    res = subprocess.run([sys.executable, "-m", "lumen_host.cli", "--identity", str(tmp_path / "id"), "--replay",
                          str(tmp_path / "text.h264")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and res.stderr.strip().endswith("(no parameter sets at its start)"), res.stderr
    assert "Traceback" not in res.stderr and "listening" not in res.stderr


def test_a_client_streams_the_recording_looped(tmp_path: Path) -> None:
    path = _record(tmp_path / "p.h264", 30)  # half a second: the 2 s session loops it four times
    host = start_host(tmp_path, "--replay", str(path), "--max-sessions", "1")
    result = run_client(StreamOptions(host="127.0.0.1", port=host.port, pin=host.fingerprint, duration_s=2.0,
                                      width=640, height=360), TrustStore(tmp_path / "pins.json"))
    [served] = host.wait_for_sessions(1)
    assert served["encoder"] == "none (replaying h264, 30 frames)"
    assert served["frames_encoded"] >= 100 and served["keyframes"] >= 3, served  # one per loop
    assert result.config is not None and (result.config["width"], result.config["height"]) == (320, 180)
    assert result.config["codec"] == "h264"
    assert result.stats["frames_decoded"] >= 0.9 * served["frames_sent"], (result.stats, served)
