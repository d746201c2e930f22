"""Qt key events -> lumen/1 key codes (Windows virtual-key codes, lumen_core.input).

Keys are sent by position, as lumen's hosts map them (US positions): on X11 the native
scan code is the evdev code + 8, and M3's table turns that into the VK the host will
map back to the same key. Where no scan code is known (other platforms), Qt's key is
used: letters and digits are their VK already, and the rest come from QT_TO_VK.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent

from lumen_core.input import EVDEV_TO_VK

# X11 key codes are evdev codes + 8.
XKB_OFFSET: Final = 8

K = Qt.Key
QT_TO_VK: Final[dict[int, int]] = {
    K.Key_Escape: 0x1B, K.Key_Tab: 0x09, K.Key_Backtab: 0x09, K.Key_Backspace: 0x08, K.Key_Return: 0x0D,
    K.Key_Enter: 0x0D, K.Key_Insert: 0x2D, K.Key_Delete: 0x2E, K.Key_Pause: 0x13, K.Key_Print: 0x2C,
    K.Key_Home: 0x24, K.Key_End: 0x23, K.Key_Left: 0x25, K.Key_Up: 0x26, K.Key_Right: 0x27, K.Key_Down: 0x28,
    K.Key_PageUp: 0x21, K.Key_PageDown: 0x22, K.Key_Shift: 0xA0, K.Key_Control: 0xA2, K.Key_Alt: 0xA4,
    K.Key_AltGr: 0xA5, K.Key_Meta: 0x5B, K.Key_Menu: 0x5D, K.Key_CapsLock: 0x14, K.Key_NumLock: 0x90,
    K.Key_ScrollLock: 0x91, K.Key_Space: 0x20, K.Key_Semicolon: 0xBA, K.Key_Equal: 0xBB, K.Key_Comma: 0xBC,
    K.Key_Minus: 0xBD, K.Key_Period: 0xBE, K.Key_Slash: 0xBF, K.Key_QuoteLeft: 0xC0, K.Key_BracketLeft: 0xDB,
    K.Key_Backslash: 0xDC, K.Key_BracketRight: 0xDD, K.Key_Apostrophe: 0xDE,
    **{int(K.Key_F1) + i: 0x70 + i for i in range(12)},
}


def vk_for(event: QKeyEvent) -> int | None:
    """The VK code of a key event, or None for a key lumen/1 cannot carry."""
    scan = event.nativeScanCode()
    if scan > XKB_OFFSET:
        vk = EVDEV_TO_VK.get(scan - XKB_OFFSET)
        if vk is not None:
            return vk
    key = event.key()
    if ord("A") <= key <= ord("Z") or ord("0") <= key <= ord("9"):
        return key
    return QT_TO_VK.get(key)
