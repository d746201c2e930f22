"""Qt key events to lumen/1 key codes: by position where X11 gives a scan code, by Qt's key
where it does not, and None for what lumen/1 cannot carry."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

from lumen_client.app.keymap import XKB_OFFSET, vk_for

KEY_Q, KEY_LEFTSHIFT = 16, 42  # evdev codes


def key(qt_key: int, scan: int = 0, text: str = "") -> QKeyEvent:
    return QKeyEvent(QEvent.Type.KeyPress, qt_key, Qt.KeyboardModifier.NoModifier, scan, 0, 0, text)


def test_the_scan_code_wins_so_keys_travel_by_position() -> None:
    # An AZERTY "A" sits where US has Q: the host gets Q's position, as M3's hosts map it.
    assert vk_for(key(Qt.Key.Key_A, KEY_Q + XKB_OFFSET, "a")) == 0x51
    assert vk_for(key(Qt.Key.Key_Shift, KEY_LEFTSHIFT + XKB_OFFSET)) == 0xA0  # left shift, not VK_SHIFT


def test_without_a_scan_code_qts_key_is_used() -> None:
    assert vk_for(key(Qt.Key.Key_A)) == 0x41 and vk_for(key(Qt.Key.Key_7)) == 0x37
    assert vk_for(key(Qt.Key.Key_F5)) == 0x74 and vk_for(key(Qt.Key.Key_Escape)) == 0x1B
    assert vk_for(key(Qt.Key.Key_Left, 1)) == 0x25  # a scan code at or below the offset is not X11's


def test_keys_lumen_cannot_carry_are_none() -> None:
    assert vk_for(key(Qt.Key.Key_VolumeUp)) is None
    assert vk_for(key(Qt.Key.Key_Launch0, 700 + XKB_OFFSET)) is None  # unmapped position, unmapped key
