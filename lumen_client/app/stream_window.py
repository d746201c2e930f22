"""The stream window: the picture, the stats overlay, Moonlight's shortcuts, and the
keyboard and mouse of a person playing.

Shortcuts (Ctrl+Alt+Shift plus): Q ends the stream, X toggles fullscreen, Z releases or
recaptures keyboard and mouse, S toggles the stats overlay.
"""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QLabel, QPushButton, QStackedLayout, QVBoxLayout, QWidget

from ..pads import PadPoller
from ..pipeline import Picture
from ..session import StreamSession
from .connection import Connection
from .keymap import vk_for
from .presenter import VideoWindow

SHORTCUT_MODS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                 | Qt.KeyboardModifier.ShiftModifier)
QT_BUTTONS = {Qt.MouseButton.LeftButton: 1, Qt.MouseButton.MiddleButton: 2, Qt.MouseButton.RightButton: 3,
              Qt.MouseButton.BackButton: 4, Qt.MouseButton.ForwardButton: 5}


class StreamWindow(QWidget):
    closed = Signal()

    def __init__(self, title: str, fullscreen: bool = False, vsync: bool = True) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.resize(1280, 720)
        self.video = VideoWindow()
        surface = self.video.format()
        surface.setSwapInterval(1 if vsync else 0)
        self.video.setFormat(surface)
        self.video_widget = QWidget.createWindowContainer(self.video, self)
        self.video_widget.setMinimumSize(320, 180)
        self.status = QLabel("Connecting…")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setStyleSheet("color: white; background: black; font-size: 16px;")
        self.cancel_button = QPushButton("Cancel")
        waiting = QWidget()
        box = QVBoxLayout(waiting)
        box.addStretch()
        box.addWidget(self.status)
        box.addWidget(self.cancel_button, alignment=Qt.AlignmentFlag.AlignCenter)
        box.addStretch()
        waiting.setStyleSheet("background: black;")
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)  # the picture edge to edge, no frame around it
        self._stack.addWidget(waiting)
        self._stack.addWidget(self.video_widget)
        self.connection: Connection | None = None
        self.pads: PadPoller | None = None  # when gamepads are forwarded
        self.captured = False
        self.overlay_on = False
        self._latencies: deque[tuple[float, int]] = deque(maxlen=600)
        self._last_counters: tuple[float, dict[str, int], int] | None = None
        self._rates = {"frames_received": 0.0, "frames_decoded": 0.0, "presented": 0.0, "mbps": 0.0}
        self.video.on_presented = self._presented
        self.video.frame_arrived.connect(self._show_picture, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(250)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.video_widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # The GL window is native: its mouse and key events arrive at it, not at us.
        self.video.installEventFilter(self)
        if fullscreen:
            self.showFullScreen()

    def _presented(self, picture: Picture, at_ns: int) -> None:
        self._latencies.append((at_ns / 1e9, at_ns - picture.capture_ns))

    def attach(self, connection: Connection) -> None:
        self.connection = connection
        self.cancel_button.clicked.connect(connection.stop)

    def start_pads(self) -> None:
        """Poll SDL game controllers for the sessions of this window (each connection's
        session is wired to ``pads``)."""
        if self.pads is None:
            self.pads = PadPoller()
            self.pads.start()

    @property
    def session(self) -> StreamSession | None:
        return self.connection.session if self.connection is not None else None

    # -- progress and the overlay ---------------------------------------------------

    def _show_picture(self) -> None:
        """A picture is waiting: the first one replaces the waiting page at once, not at the
        next status tick, which would leave up to a quarter second of pictures unseen."""
        if self._stack.currentWidget() is self.video_widget:
            return
        self._stack.setCurrentWidget(self.video_widget)
        self.video.update()  # the picture that woke us is in the slot
        self.set_captured(True)

    def _tick(self) -> None:
        session = self.session
        if session is None:
            return
        if self.video.stats.received == 0:
            if session.result.config is None:
                self.status.setText("Connecting and checking the host's identity…")
            else:
                self.status.setText("Waiting for the first keyframe…")
            return
        outage = session.outage_since
        if outage is not None:
            # Shown whether or not the overlay is on: the picture is frozen, and this says why.
            self.video.overlay_lines = [f"Connection lost: waiting for the host ({time.monotonic() - outage:.0f} s)",
                                        *(self.overlay_lines() if self.overlay_on else [])]
            self.video.update()
        elif self.overlay_on:
            self.video.overlay_lines = self.overlay_lines()
            self.video.update()
        elif self.video.overlay_lines:
            self.video.overlay_lines = []
            self.video.update()

    def overlay_lines(self) -> list[str]:
        assert self.connection is not None and self.connection.session is not None
        session = self.connection.session
        now = time.monotonic()
        counters = session.counters()
        presented = self.video.stats.presented
        # Rates over the last whole second; between refreshes the last ones stay shown.
        if self._last_counters is None:
            self._last_counters = (now, counters, presented)
        elif now - self._last_counters[0] >= 1.0:
            then, old, old_presented = self._last_counters
            dt = now - then
            self._rates = {
                "frames_received": (counters["frames_received"] - old["frames_received"]) / dt,
                "frames_decoded": (counters["frames_decoded"] - old["frames_decoded"]) / dt,
                "presented": (presented - old_presented) / dt,
                "mbps": (counters["video_bytes"] - old["video_bytes"]) * 8 / dt / 1e6,
            }
            self._last_counters = (now, counters, presented)
        rates = self._rates
        recent = sorted(ns for t, ns in self._latencies if now - t <= 1.0)
        p50 = f"{recent[len(recent) // 2] / 1e6:.1f} ms" if recent else "-"
        config = session.result.config or {}
        rtt = session.clock.rtt_ns
        audio = self.connection.audio
        mode = session.mode or "?"
        to_rgb = "on the CPU (software GL)" if self.video.cpu_conversion else "shader"
        lines = [
            f"{config.get('width', '?')}x{config.get('height', '?')} {session.codec or 'codec not known yet'}  "
            f"decoder: {session.decoder_backend}  to RGB: {to_rgb}",
            f"lumen/1 {mode} mode" + (" (lumen M3 host: no keyframe requests, no RTT)" if mode == "base" else ""),
            f"fps  received {rates['frames_received']:5.1f}  decoded {rates['frames_decoded']:5.1f}  "
            f"presented {rates['presented']:5.1f}",
            f"video {rates['mbps']:6.1f} Mbit/s" + (f"   RTT {rtt / 1e6:.1f} ms" if rtt else "")
            + (f"   host: {session.host_rate[0] / 1000:.1f} Mbit/s, FEC {session.host_rate[1]} %"
               if session.host_rate else ""),
            f"frames lost {counters['frames_lost']}  recovered by FEC {counters['frames_recovered']}  "
            f"skipped {self.video.stats.skipped}",
            f"capture -> present p50 (1 s) {p50}",
            (f"audio buffer {audio.depth_ms} ms  underruns {audio.underruns}  dropped {audio.overflows}"
             if audio is not None and audio.error is None else "audio: no output"),
        ]
        if mode == "base" and session.waiting_for_keyframe and counters["frames_decoded"]:
            lines.append("frame lost: the picture waits for the host's next keyframe")
        return lines

    def toggle_overlay(self) -> None:
        self.overlay_on = not self.overlay_on
        live = self.session is not None
        self.video.overlay_lines = self.overlay_lines() if self.overlay_on and live else []
        self.video.update()

    # -- input ------------------------------------------------------------------------

    def set_captured(self, captured: bool) -> None:
        self.captured = captured
        self.video.setCursor(Qt.CursorShape.BlankCursor if captured else Qt.CursorShape.ArrowCursor)
        if captured:
            self.grabKeyboard()
        else:
            self.releaseKeyboard()

    def _captured_session(self) -> StreamSession | None:
        """The session input goes to: only while keyboard and mouse are captured."""
        return self.session if self.captured else None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (event.modifiers() & SHORTCUT_MODS) == SHORTCUT_MODS:
            key = event.key()
            if key == Qt.Key.Key_Q:
                self.close()
                return
            if key == Qt.Key.Key_X:
                self.showNormal() if self.isFullScreen() else self.showFullScreen()
                return
            if key == Qt.Key.Key_Z:
                self.set_captured(not self.captured)
                return
            if key == Qt.Key.Key_S:
                self.toggle_overlay()
                return
        vk = vk_for(event)
        if vk is not None and not event.isAutoRepeat() and (session := self._captured_session()):
            session.send_key(vk, True)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        vk = vk_for(event)
        if vk is not None and not event.isAutoRepeat() and (session := self._captured_session()):
            session.send_key(vk, False)

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
            assert isinstance(event, QMouseEvent)
            button = QT_BUTTONS.get(event.button())
            if button:
                if not self.captured and kind == QEvent.Type.MouseButtonPress:
                    self.set_captured(True)  # a click recaptures, as in Moonlight
                    return True
                if session := self._captured_session():
                    session.send_mouse_button(button, kind == QEvent.Type.MouseButtonPress)
                return True
        elif kind == QEvent.Type.MouseMove and self.captured:
            assert isinstance(event, QMouseEvent)
            centre = QPoint(self.video.width() // 2, self.video.height() // 2)
            delta = event.position().toPoint() - centre
            if delta != QPoint(0, 0):
                if session := self._captured_session():
                    session.send_mouse_motion(delta.x(), delta.y())
                QCursor.setPos(self.video.mapToGlobal(centre))  # keep the pointer from leaving
            return True
        elif kind == QEvent.Type.Wheel:
            assert isinstance(event, QWheelEvent)
            angle = event.angleDelta()
            if session := self._captured_session():
                session.send_scroll(angle.y(), angle.x())
            return True
        elif kind == QEvent.Type.KeyPress and watched is self.video:
            self.keyPressEvent(event)
            return True
        elif kind == QEvent.Type.KeyRelease and watched is self.video:
            self.keyReleaseEvent(event)
            return True
        return super().eventFilter(watched, event)

    def focusOutEvent(self, event) -> None:
        # Keys held while focus leaves would stay down on the host: release capture.
        if self.captured:
            self.set_captured(False)
        super().focusOutEvent(event)

    def closeEvent(self, event) -> None:
        self.releaseKeyboard()
        self._timer.stop()
        self.video.on_presented = None
        self.video.detach()
        if self.connection is not None:
            self.connection.stop()
        if self.pads is not None:
            self.pads.stop()
            self.pads.join()
            self.pads = None
        self.closed.emit()
        super().closeEvent(event)
