"""lumen/1's input events (LUMEN-M3-WIRE.md §8.1): kinds, units, and the keyboard map.

An event is ``(kind, code, x, y, flags)``; it travels as one 0xC8 datagram
(datagrams.py) or, in extended mode, inside a ReliableInput control message.

| kind | event | fields |
| --- | --- | --- |
| 0 / 1 | key down / up | code: Windows virtual-key code (low byte used); flags ignored |
| 2 | relative mouse | x = dx, y = dy (pixels) |
| 3 | absolute mouse | x, y in a w x h reference surface; flags = (w << 16) | h, both non-zero |
| 4 / 5 | mouse button down / up | code: 1 left, 2 middle, 3 right, 4 X1 (back), 5 X2 (forward) |
| 6 | scroll | x: 120 per detent, positive = up (vertical) or left (horizontal); code 1 = horizontal |
| 7 | pad button | code: button bit(s), x != 0 pressed, flags: pad index |
| 8 | pad axis | code: axis id (0 LX .. 5 RT), x: value, flags: pad index |

Modifiers travel as their own key events. The host maps VK codes to evdev keys with
``VK_TO_EVDEV`` (M3's table, US positions); a code it does not map is dropped.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class Kind(IntEnum):
    KEY_DOWN = 0
    KEY_UP = 1
    MOUSE_MOVE = 2
    MOUSE_MOVE_ABS = 3
    MOUSE_BUTTON_DOWN = 4
    MOUSE_BUTTON_UP = 5
    MOUSE_SCROLL = 6
    PAD_BUTTON = 7
    PAD_AXIS = 8


MAX_KIND: Final = max(Kind)
# What the host counts per session, by kind.
KIND_GROUP: Final = {
    Kind.KEY_DOWN: "keys", Kind.KEY_UP: "keys",
    Kind.MOUSE_MOVE: "mouse", Kind.MOUSE_MOVE_ABS: "mouse", Kind.MOUSE_BUTTON_DOWN: "mouse",
    Kind.MOUSE_BUTTON_UP: "mouse", Kind.MOUSE_SCROLL: "mouse",
    Kind.PAD_BUTTON: "pad", Kind.PAD_AXIS: "pad",
}

MOUSE_LEFT: Final = 1
MOUSE_MIDDLE: Final = 2
MOUSE_RIGHT: Final = 3
MOUSE_X1: Final = 4
MOUSE_X2: Final = 5
WHEEL_DELTA: Final = 120
SCROLL_HORIZONTAL: Final = 1


def abs_reference(width: int, height: int) -> int:
    """``flags`` of an absolute mouse event in a ``width`` x ``height`` surface."""
    if not (0 < width <= 0xFFFF and 0 < height <= 0xFFFF):
        raise ValueError(f"reference surface {width}x{height}")
    return (width << 16) | height


def _letters() -> dict[int, int]:
    # evdev KEY_A.. are not in alphabetical order: their US keyboard positions.
    codes = dict(A=30, B=48, C=46, D=32, E=18, F=33, G=34, H=35, I=23, J=36, K=37, L=38, M=50, N=49, O=24, P=25,
                 Q=16, R=19, S=31, T=20, U=22, V=47, W=17, X=45, Y=21, Z=44)
    return {ord(letter): code for letter, code in codes.items()}


# Windows virtual-key code -> Linux evdev key code (M3's host table, §8.1).
VK_TO_EVDEV: Final[dict[int, int]] = {
    0x08: 14, 0x09: 15, 0x0D: 28, 0x13: 119, 0x14: 58, 0x1B: 1, 0x20: 57,
    0x21: 104, 0x22: 109, 0x23: 107, 0x24: 102, 0x25: 105, 0x26: 103, 0x27: 106, 0x28: 108,
    0x2C: 99, 0x2D: 110, 0x2E: 111,
    0x10: 42, 0x11: 29, 0x12: 56, 0xA0: 42, 0xA1: 54, 0xA2: 29, 0xA3: 97, 0xA4: 56, 0xA5: 100,
    0x30: 11, **{0x31 + i: 2 + i for i in range(9)},
    **_letters(),
    0x5B: 125, 0x5C: 126, 0x5D: 127,
    **dict(zip(range(0x60, 0x6A), (82, 79, 80, 81, 75, 76, 77, 71, 72, 73), strict=True)),
    0x6A: 55, 0x6B: 78, 0x6C: 96, 0x6D: 74, 0x6E: 83, 0x6F: 98,
    **{0x70 + i: 59 + i for i in range(10)}, 0x7A: 87, 0x7B: 88,
    0x90: 69, 0x91: 70,
    0xBA: 39, 0xBB: 13, 0xBC: 51, 0xBD: 12, 0xBE: 52, 0xBF: 53, 0xC0: 41,
    0xDB: 26, 0xDC: 43, 0xDD: 27, 0xDE: 40, 0xE2: 86,
}

# Mouse button code -> evdev BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA.
BUTTON_TO_EVDEV: Final[dict[int, int]] = {1: 0x110, 2: 0x112, 3: 0x111, 4: 0x113, 5: 0x114}


def _evdev_to_vk() -> dict[int, int]:
    """The inverse of VK_TO_EVDEV, for clients that read key positions (X11 key codes
    are evdev + 8). Where two VKs share a key, the side-specific one wins (VK_LSHIFT
    over VK_SHIFT), so hosts that tell left from right can."""
    generic = {0x10, 0x11, 0x12}
    out: dict[int, int] = {}
    for vk, code in VK_TO_EVDEV.items():
        if code not in out or out[code] in generic:
            out[code] = vk
    return out


EVDEV_TO_VK: Final[dict[int, int]] = _evdev_to_vk()
