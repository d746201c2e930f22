"""The stream window under Xvfb with Mesa: after the trust prompt, the pattern's colours on
screen; the first picture shows as it arrives."""

from __future__ import annotations

import pytest
from desktop_app import TOLERANCE, delete_now, dialog_text, pattern_pictures, sample_bars
from lumen_host.pattern import BAR_RGB

pytestmark = pytest.mark.timeout(120)


def test_trust_prompt_then_the_pattern_on_screen(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    from lumen_client.app.dialogs import grouped_fingerprint

    window, host, store = app_env
    assert window.table.item(0, 2).text() == "not yet"
    window.connect_row(0)
    qtbot.waitUntil(lambda: window.trust_dialog is not None and window.trust_dialog.isVisible(), timeout=20_000)
    shown = dialog_text(window.trust_dialog)
    assert grouped_fingerprint(host.fingerprint) in shown
    qtbot.mouseClick(window.trust_dialog.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 10, timeout=20_000)
    assert store.get(f"127.0.0.1:{host.port}") == host.fingerprint
    assert window.table.item(0, 2).text().startswith("yes")
    shown = window.stream.video.stats.presented
    window.stream.resize(960, 540)
    # Pictures keep coming: a few presented after the resize were drawn at the new size.
    qtbot.waitUntil(lambda: window.stream.video.stats.presented >= shown + 5, timeout=10_000)
    for got, want in zip(sample_bars(window.stream.video), BAR_RGB, strict=True):
        assert all(abs(g - w) <= TOLERANCE for g, w in zip(got, want, strict=True)), (got, want)
    stream = window.stream
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(stream, Qt.Key.Key_S, mods)
    assert any("decoder" in line for line in stream.video.overlay_lines)
    qtbot.keyClick(stream, Qt.Key.Key_Q, mods)  # ends the stream
    qtbot.waitUntil(lambda: window.stream is None and window.connection is None, timeout=15_000)
    [served] = host.wait_for_sessions(1)
    assert served["frames_sent"] > 10
    assert window.table.item(0, 3).text() != "never"


def test_the_first_picture_replaces_the_waiting_page_as_it_arrives(xvfb_display: str, qtbot) -> None:  # type: ignore[no-untyped-def]
    # No session: the status tick has nothing to report, so only the picture itself can
    # bring the video forward (a tick-driven switch left 250 ms of pictures unseen).
    from lumen_client.app.stream_window import StreamWindow
    from lumen_client.pipeline import Picture

    window = StreamWindow("lumen test", vsync=False)
    try:
        window.show()
        qtbot.waitExposed(window)
        [picture] = pattern_pictures(1)
        assert not window.video_widget.isVisible() and window.video.stats.received == 0
        window.video.sink.push(Picture(picture, 0, 0, 0))
        qtbot.waitUntil(lambda: window.video.stats.presented == 1, timeout=5_000)
        assert window.video_widget.isVisible() and window.captured
    finally:
        window.set_captured(False)
        delete_now(window)
