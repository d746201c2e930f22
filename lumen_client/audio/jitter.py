"""The client's audio path: Opus packets in, PCM out on time, losses concealed.

lumen/1 audio is Opus at 48 kHz, stereo, 5 ms (240 samples) per datagram, in both
modes. Packets go through an adaptive jitter buffer: packet ``seq`` plays at
``anchor + seq * 5 ms + target``, where the anchor is the earliest any packet has
arrived for its place in the sequence (the path's fastest transit) and ``target`` is
the measured jitter (the 99th percentile of how much later than that packets came,
over the last 2 s) plus one packet, within 10-150 ms, and 60 ms until 20 packets are
in; a packet that misses its slot adds what it missed by at once. A packet that comes late but
before its slot plays is played; a slot whose packet has not come when it plays is
concealed (Opus packet loss concealment, at most MAX_CONCEALED in a row, then
silence); if that packet turns up after all it is counted ``late``, not lost.

Sans-IO: ``receive(packet, now)`` for each packet and ``poll(now)`` often (every few
ms; the session's audio clock task) play what is due through the sink. Headless
sessions decode and count; the desktop client adds an output device as the sink.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

import numpy as np
import opuslib_next as opus

from lumen_core.audio import CHANNELS, FRAME_S, FRAME_SAMPLES, PCM_FRAME_BYTES, RATE
from lumen_core.datagrams import AudioPacket

# A burst of loss longer than this is not concealed packet by packet: after 20 ms of
# made-up audio, silence is the honest answer.
MAX_CONCEALED: Final = 4
MIN_TARGET_S: Final = 0.010
MAX_TARGET_S: Final = 0.150
INITIAL_TARGET_S: Final = 0.060  # until the jitter is measured (100 ms of packets)
JITTER_WINDOW: Final = 400  # packets: 2 s
MEASURED_AFTER: Final = 20
# A packet this far ahead of the one due restarts the sequence (the host's audio restarted).
RESYNC_PACKETS: Final = 2000
_WRAP: Final = 0xFFFFFFFF
_HALF: Final = 0x80000000

PcmSink = Callable[[bytes], None]


class AudioReceiver:
    def __init__(self, sink: PcmSink | None = None) -> None:
        self._decoder = opus.Decoder(RATE, CHANNELS)
        self._sink = sink
        self._silence = bytes(PCM_FRAME_BYTES)
        self._pending: dict[int, bytes] = {}
        self._first_seq: int | None = None
        self._anchor = 0.0  # when packet _first_seq would have come over the fastest path
        self._next: int | None = None  # the next slot to play
        self._delays: deque[float] = deque(maxlen=JITTER_WINDOW)
        self._run_concealed = 0
        self._concealed_seqs: deque[int] = deque(maxlen=512)  # recent slots played without their packet
        self.target_s = INITIAL_TARGET_S
        self.packets = 0  # received (duplicates not counted)
        self.played = 0  # slots played from their own packet
        self.concealed = 0  # slots played without their packet (concealment or silence)
        self.lost = 0  # slots whose packet never came
        self.late = 0  # packets that came after their slot was played
        self.duplicates = 0

    def receive(self, packet: AudioPacket, now: float) -> None:
        seq = packet.seq
        if self._first_seq is None or (self._next is not None and (seq - self._next) & _WRAP >= RESYNC_PACKETS
                                       and (seq - self._next) & _WRAP < _HALF):
            self._first_seq, self._anchor, self._next = seq, now, seq
            self._pending.clear()
        assert self._next is not None
        if (seq - self._next) & _WRAP >= _HALF and self.played + self.concealed == 0 and self._first_seq is not None:
            # Older than the first to arrive, before anything played: the stream starts here.
            self._anchor -= ((self._first_seq - seq) & _WRAP) * FRAME_S
            self._first_seq = self._next = seq
        if (seq - self._next) & _WRAP >= _HALF:
            if seq in self._concealed_seqs:
                self._concealed_seqs.remove(seq)
                self.late += 1
                self.lost -= 1  # not lost after all, only too late
                # The path is slower than measured: wait as much longer from now on.
                missed = now - self._due(seq)
                self.target_s = min(MAX_TARGET_S, self.target_s + missed + FRAME_S)
            else:
                self.duplicates += 1  # of one already played
            return
        if seq in self._pending:
            self.duplicates += 1
            return
        self.packets += 1
        self._pending[seq] = packet.payload
        nominal = self._anchor + ((seq - self._first_seq) & _WRAP) * FRAME_S
        delay = now - nominal
        if delay < 0:
            # Faster than any packet before: the path's transit is less than thought. The
            # slots keep their play times (the target grows by as much) until the jitter
            # measured says otherwise.
            self._anchor += delay
            self.target_s = min(MAX_TARGET_S, self.target_s - delay)
            self._delays = deque((d - delay for d in self._delays), maxlen=JITTER_WINDOW)
            delay = 0.0
        self._delays.append(delay)
        if len(self._delays) >= MEASURED_AFTER and self.packets % 10 == 0:
            jitter = float(np.percentile(np.fromiter(self._delays, dtype=np.float64), 99))
            self.target_s = min(MAX_TARGET_S, max(MIN_TARGET_S, jitter + FRAME_S))

    def poll(self, now: float) -> None:
        """Play every slot whose time has come."""
        if self._next is None or self._first_seq is None:
            return
        while True:
            due = self._due(self._next)
            if due > now:
                return
            if now - due > MAX_TARGET_S:  # a stall: what is this old is not worth playing
                self._skip_to(now)
                continue
            payload = self._pending.pop(self._next, None)
            if payload is None:
                self._concealed_seqs.append(self._next)
                self._conceal()
            else:
                self._play_packet(payload)
            self._next = (self._next + 1) & _WRAP

    def _due(self, seq: int) -> float:
        assert self._first_seq is not None
        return self._anchor + ((seq - self._first_seq) & _WRAP) * FRAME_S + self.target_s

    @property
    def depth_ms(self) -> float:
        return self.target_s * 1000

    def _play_packet(self, payload: bytes) -> None:
        self._run_concealed = 0
        self.played += 1
        try:
            # An empty payload is legal (M3): it is a lost frame to conceal.
            pcm = self._decoder.decode(payload, FRAME_SAMPLES)
        except opus.OpusError:
            pcm = self._decoder.decode(b"", FRAME_SAMPLES)
        self._out(pcm)

    def _conceal(self) -> None:
        self.concealed += 1
        self.lost += 1
        self._run_concealed += 1
        self._out(self._decoder.decode(b"", FRAME_SAMPLES) if self._run_concealed <= MAX_CONCEALED else self._silence)

    def _skip_to(self, now: float) -> None:
        """Jump the play position to what is due now; what is skipped counts as lost."""
        assert self._next is not None and self._first_seq is not None
        behind = int((now - self.target_s - self._anchor) / FRAME_S) - ((self._next - self._first_seq) & _WRAP)
        for _ in range(max(1, behind)):
            if self._pending.pop(self._next, None) is None:
                self.lost += 1
            self._next = (self._next + 1) & _WRAP
        self._run_concealed = MAX_CONCEALED  # what follows a gap this long is silence until a packet

    def _out(self, pcm: bytes) -> None:
        if self._sink is not None:
            self._sink(pcm)
