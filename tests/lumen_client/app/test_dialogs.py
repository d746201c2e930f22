"""The trust dialogs: cancelling stores nothing, a changed fingerprint is refused with a warning,
a pin given up front never prompts."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)


def test_cancelling_the_trust_prompt_stores_nothing(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    window, host, store = app_env
    window.connect_row(0)
    qtbot.waitUntil(lambda: window.trust_dialog is not None and window.trust_dialog.isVisible(), timeout=20_000)
    qtbot.mouseClick(window.trust_dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream is None, timeout=10_000)
    assert store.get(f"127.0.0.1:{host.port}") is None
    assert host.sessions() == []  # nothing streamed


def test_changed_fingerprint_is_refused_with_a_warning(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, host, store = app_env
    key = f"127.0.0.1:{host.port}"
    store.put(key, "ab" * 32)
    window.refresh()
    window.connect_row(0)
    qtbot.waitUntil(lambda: window.message is not None and window.message.isVisible(), timeout=20_000)
    assert "has changed" in window.message.text() and "refused" in window.message.text()
    assert window.trust_dialog is None and window.stream is None
    assert store.get(key) == "ab" * 32  # only "Forget pin" removes it
    window.table.selectRow(0)
    window.forget_pin()
    assert store.get(key) is None


def test_pin_override_never_prompts(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, host, store = app_env
    window.connect_to(f"127.0.0.1:{host.port}", pin="cd" * 32)
    qtbot.waitUntil(lambda: window.message is not None and window.message.isVisible(), timeout=20_000)
    assert "does not match --pin" in window.message.text()
    assert window.trust_dialog is None
    window.message.close()
    window.connect_to(f"127.0.0.1:{host.port}", pin=host.fingerprint)
    qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 5, timeout=20_000)
    assert window.trust_dialog is None
    assert store.get(f"127.0.0.1:{host.port}") is None  # --pin is not stored
    window.stream.close()
    qtbot.waitUntil(lambda: window.connection is None, timeout=15_000)
