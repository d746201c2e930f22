"""The video surface: decoded planes uploaded as textures, converted in a shader.

The window's ``sink`` is the session's video sink: the decode thread pushes each picture
into a ``LatestSlot`` (a newer one replaces one not yet shown, counted as skipped), and
the window is asked to repaint only when the slot goes from empty to full; it paints at
once rather than when Qt's update timer fires. ``paintGL`` uploads the planes (I420 as
three one-channel textures, NV12 as one plus a two-channel one), converts with the
picture's own colour matrix and range, and letterboxes the picture into the window. A
picture counts as presented when the buffer swap that shows it returns.

On a software rasteriser (Mesa's llvmpipe, softpipe: virtual machines, remote desktops
without a GPU) that shader costs more than the rest of the client together, 20 ms of CPU
for a 720p frame, and even a plain textured quad costs 3 ms to rasterise. There the
decode thread converts each picture to BGRA with libswscale instead (under half a
millisecond at 720p), the window's own pixel order, at the size the window shows it,
and the window copies it in with a framebuffer blit, which llvmpipe does as a memory
copy, with no rasterising at all. (Scaling in libswscale, 2 ms for 720p to 1080p, costs
about a third of what llvmpipe's filtering takes; a picture converted before the window
was resized is blitted scaled, filtered as a draw would be.)
``LUMEN_GL_CONVERSION=shader`` or ``=cpu`` overrides the choice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

import av
import numpy as np
from OpenGL import GL
from OpenGL.GL import shaders
from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtOpenGL import QOpenGLWindow

from lumen_core.net.handoff import LatestSlot

from ..pipeline import Each, Picture, Sink

VERTEX_SHADER = """
#version 120
attribute vec2 position;
attribute vec2 texcoord;
varying vec2 uv;
void main() {
    uv = texcoord;
    gl_Position = vec4(position, 0.0, 1.0);
}
"""

FRAGMENT_SHADER = """
#version 120
uniform sampler2D plane0;
uniform sampler2D plane1;
uniform sampler2D plane2;
uniform int nv12;
uniform mat3 yuv_to_rgb;
uniform vec3 offset;
varying vec2 uv;
void main() {
    vec3 yuv;
    yuv.x = texture2D(plane0, uv).r;
    if (nv12 == 1) {
        yuv.yz = texture2D(plane1, uv).rg;
    } else {
        yuv.y = texture2D(plane1, uv).r;
        yuv.z = texture2D(plane2, uv).r;
    }
    gl_FragColor = vec4(clamp(yuv_to_rgb * (yuv - offset), 0.0, 1.0), 1.0);
}
"""

CONVERSION_ENV: Final = "LUMEN_GL_CONVERSION"
SOFTWARE_RENDERERS: Final = (b"llvmpipe", b"softpipe", b"swrast", b"SwiftShader")

# Kr, Kb of the colour matrices FFmpeg names (AVColorSpace values).
MATRICES = {1: (0.2126, 0.0722), 5: (0.299, 0.114), 6: (0.299, 0.114), 9: (0.2627, 0.0593), 10: (0.2627, 0.0593)}
# Quad: x, y, u, v. The top of the picture (texture row 0) goes to the top of the view.
QUAD = np.array([-1, -1, 0, 1, 1, -1, 1, 1, -1, 1, 0, 0, 1, 1, 1, 0], dtype=np.float32)


def colour_conversion(colorspace: int, color_range: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(3x3 matrix, offset) taking sampled Y'CbCr in [0, 1] to R'G'B'.

    Unspecified matrices follow the usual guess: BT.709 for HD, BT.601 below.
    Unspecified range is limited (MPEG) range, what encoders produce by default.
    """
    kr, kb = MATRICES.get(colorspace, (0.2126, 0.0722) if height >= 720 else (0.299, 0.114))
    kg = 1.0 - kr - kb
    m = np.array([
        [1.0, 0.0, 2 * (1 - kr)],
        [1.0, -2 * kb * (1 - kb) / kg, -2 * kr * (1 - kr) / kg],
        [1.0, 2 * (1 - kb), 0.0],
    ])
    if color_range == 2:  # JPEG, full range
        scale, offset = np.array([1.0, 1.0, 1.0]), np.array([0.0, 128 / 255, 128 / 255])
    else:
        scale, offset = np.array([255 / 219, 255 / 224, 255 / 224]), np.array([16 / 255, 128 / 255, 128 / 255])
    return (m * scale).astype(np.float32), offset.astype(np.float32)


def swscale_colorspace(colorspace: int, height: int) -> str:
    """libswscale's name for a picture's matrix, unspecified ones guessed as the shader does."""
    kr, _ = MATRICES.get(colorspace, (0.2126, 0.0722) if height >= 720 else (0.299, 0.114))
    return {0.2126: "ITU709", 0.299: "ITU601", 0.2627: "BT2020"}[kr]


def to_bgra(frame: av.VideoFrame, size: tuple[int, ...] | None = None) -> av.VideoFrame:
    """A picture as full-range BGRA, converted with the matrix and range it says it has,
    and scaled (bilinear) to ``size`` where given."""
    width, height = size or (frame.width, frame.height)
    return frame.reformat(width, height, format="bgra", interpolation="BILINEAR",
                          src_colorspace=swscale_colorspace(int(frame.colorspace or 2), frame.height),
                          src_color_range="JPEG" if frame.color_range == 2 else "MPEG", dst_color_range="JPEG")


def _program(fragment_shader: str) -> tuple[int, dict[str, int]]:
    """A linked program of the quad's vertex shader and ``fragment_shader``, and where its
    two attributes are."""
    program = shaders.compileProgram(
        shaders.compileShader(VERTEX_SHADER, GL.GL_VERTEX_SHADER),
        shaders.compileShader(fragment_shader, GL.GL_FRAGMENT_SHADER),
    )
    return program, {name: GL.glGetAttribLocation(program, name) for name in ("position", "texcoord")}


def letterbox(view_w: int, view_h: int, pic_w: int, pic_h: int) -> tuple[int, int, int, int]:
    """The largest rectangle of the picture's aspect centred in the view: x, y, w, h."""
    scale = min(view_w / pic_w, view_h / pic_h)
    w, h = max(1, round(pic_w * scale)), max(1, round(pic_h * scale))
    return (view_w - w) // 2, (view_h - h) // 2, w, h


@dataclass
class PresentStats:
    received: int = 0  # pictures handed over by the decoder
    presented: int = 0
    skipped: int = 0  # replaced before they were shown


class VideoWindow(QOpenGLWindow):
    """A native GL window (embedded with QWidget.createWindowContainer). Unlike a
    QOpenGLWidget it draws straight to the window surface: no extra composition pass,
    which without a GPU is most of the cost of a frame."""

    frame_arrived = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._slot: LatestSlot[Picture] = LatestSlot(on_filled=self._wake)
        self._presented = 0
        self._detached = False
        self._swapping: Picture | None = None  # drawn, its buffer swap not yet done
        self._program: int | None = None
        self.cpu_conversion = False  # set when the context is made: see the module's docstring
        self._framebuffer = 0  # reads texture 0 when it holds a BGRA picture: the blit's source
        self._uniforms: dict[str, int] = {}
        self._attributes: dict[str, int] = {}
        self._textures: list[int] = []
        self._tex_shape: tuple[object, ...] | None = None
        self._conversion: tuple[int, int, int, bool] | None = None  # what the uniforms hold now
        self._picture_size: tuple[int, int] | None = None
        self._view: tuple[int, int] | None = None  # the window in device pixels, as last painted
        # Each picture as it is shown, with when (monotonic ns): the overlay's and bench's latencies.
        self.on_presented: Callable[[Picture, int], None] | None = None
        self.sink: Sink[Picture] = Each(self._put)  # where the session's pictures go: the slot, newest wins
        self.overlay_lines: list[str] = []
        self.frame_arrived.connect(self._paint_now, Qt.ConnectionType.QueuedConnection)
        self.frameSwapped.connect(self._swapped)

    # -- the video sink (the decode thread) -----------------------------------------------

    def _put(self, picture: Picture) -> None:
        frame = picture.frame
        if self.cpu_conversion and frame.format.name != "bgra":
            view = self._view  # the GUI thread replaces it whole: one read
            size = letterbox(*view, frame.width, frame.height)[2:] if view is not None else None
            picture = replace(picture, frame=to_bgra(frame, size))
        self._slot.put(picture)

    def _swapped(self) -> None:
        """The buffer swap returned: the picture drawn is on screen (with a GPU, queued
        for the next refresh; with llvmpipe, rasterised and copied to the X server)."""
        picture, self._swapping = self._swapping, None
        if picture is not None and self.on_presented is not None:
            self.on_presented(picture, time.monotonic_ns())

    def _paint_now(self) -> None:
        """GUI thread: a picture is waiting. update() alone paints when Qt's update timer
        fires (5 ms after the request by default, a third of a frame at 60 fps): while the
        window is on screen, the update request is delivered now instead."""
        self.update()
        if self.isExposed():
            QCoreApplication.sendEvent(self, QEvent(QEvent.Type.UpdateRequest))

    def detach(self) -> None:
        """The window is going (GUI thread): pictures still on their way are dropped."""
        self._detached = True

    def _wake(self) -> None:
        if self._detached:
            return
        try:
            self.frame_arrived.emit()
        except (RuntimeError, TypeError):
            # Deleted between the check and the emit (the decoder's last frame): PySide
            # raises RuntimeError, or TypeError once the signal's C++ side is gone.
            pass

    @property
    def stats(self) -> PresentStats:
        return PresentStats(received=self._slot.received, presented=self._presented, skipped=self._slot.skipped)

    # -- GL thread (the GUI thread) ----------------------------------------------------

    def initializeGL(self) -> None:
        self._tex_shape = self._conversion = None  # a new context: new textures and programs
        renderer = bytes(GL.glGetString(GL.GL_RENDERER) or b"")
        choice = os.environ.get(CONVERSION_ENV, "")
        software = any(s in renderer for s in SOFTWARE_RENDERERS)
        # Blits are core since GL 3.0; a context without them keeps the shader.
        self.cpu_conversion = (choice == "cpu" or (choice != "shader" and software)) and bool(GL.glBlitFramebuffer)
        self._program, self._attributes = _program(FRAGMENT_SHADER)
        program = self._program
        self._uniforms = {name: GL.glGetUniformLocation(program, name)
                          for name in ("yuv_to_rgb", "offset", "nv12", "plane0", "plane1", "plane2")}
        GL.glUseProgram(program)
        for i, name in enumerate(("plane0", "plane1", "plane2")):
            GL.glUniform1i(self._uniforms[name], i)  # texture unit i; uniforms keep their values
        GL.glUseProgram(0)
        self._textures = list(GL.glGenTextures(3))
        for tex in self._textures:
            GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
            for param, value in ((GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR),
                                 (GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR),
                                 (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE),
                                 (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)):
                GL.glTexParameteri(GL.GL_TEXTURE_2D, param, value)
        if self.cpu_conversion:
            self._framebuffer = int(GL.glGenFramebuffers(1))

    def paintGL(self) -> None:
        pending = self._slot.poll()
        if pending is not None:
            if pending.frame.format.name == "bgra":
                self._upload_bgra(pending.frame)
            else:
                self._upload(pending.frame)
        ratio = self.devicePixelRatio()
        view = self._view = (int(self.width() * ratio), int(self.height() * ratio))
        target = letterbox(*view, *self._picture_size) if self._picture_size is not None else None
        bgra = self._tex_shape is not None and self._tex_shape[2] == "bgra"
        if not (bgra and target == (0, 0, *view)):
            # Cleared even where a drawn picture covers it all: a tiling rasteriser (llvmpipe)
            # would otherwise read the old frame back before drawing over it. A blit that
            # covers the window replaces every pixel without reading any.
            GL.glClearColor(0.0, 0.0, 0.0, 1.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        if target is not None:
            if bgra:
                self._blit(*target)
            else:
                self._draw(*target, *view)
        if pending is not None:
            self._presented += 1
            self._swapping = pending
        if self.overlay_lines:
            # QPainter only when there is text: its GL state juggling is not free.
            painter = QPainter(self)
            self._draw_overlay(painter)
            painter.end()

    def _upload_bgra(self, picture: av.VideoFrame) -> None:
        w, h = picture.width, picture.height
        plane = picture.planes[0]
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._textures[0])
        shape = (w, h, "bgra")
        if self._tex_shape != shape:
            # Unsized GL_RGBA: Mesa then stores the texture in the order it is given (BGRA),
            # the window's order, which the blit needs to be a plain copy.
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA, w, h, 0, GL.GL_BGRA, GL.GL_UNSIGNED_BYTE, None)
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._framebuffer)
            GL.glFramebufferTexture2D(GL.GL_READ_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D,
                                      self._textures[0], 0)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.defaultFramebufferObject())
        GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, plane.line_size // 4)
        GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_BGRA, GL.GL_UNSIGNED_BYTE,
                           np.frombuffer(memoryview(plane), dtype=np.uint8))
        GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, 0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self._tex_shape = shape
        self._picture_size = (w, h)

    def _blit(self, x: int, y: int, w: int, h: int) -> None:
        """Texture 0 (BGRA) into the window's rectangle, copied at its own size, filtered
        when scaled."""
        assert self._picture_size is not None
        pw, ph = self._picture_size
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._framebuffer)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.defaultFramebufferObject())
        # Texture row 0 is the picture's top and the window's y runs upwards: the
        # destination's rows are given top first, which for the window is no flip in memory.
        GL.glBlitFramebuffer(0, 0, pw, ph, x, y + h, x + w, y, GL.GL_COLOR_BUFFER_BIT,
                             GL.GL_NEAREST if (w, h) == (pw, ph) else GL.GL_LINEAR)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.defaultFramebufferObject())

    def _upload(self, picture) -> None:
        fmt = picture.format.name
        if fmt not in ("yuv420p", "yuvj420p", "nv12"):
            picture = picture.reformat(format="yuv420p")
            fmt = "yuv420p"
        w, h = picture.width, picture.height
        nv12 = fmt == "nv12"
        planes = [(w, h, GL.GL_RED, GL.GL_R8)]
        planes += [(w // 2, h // 2, GL.GL_RG, GL.GL_RG8)] if nv12 else [(w // 2, h // 2, GL.GL_RED, GL.GL_R8)] * 2
        shape = (w, h, nv12)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        for i, (pw, ph, layout, internal) in enumerate(planes):
            plane = picture.planes[i]
            bytes_per_px = 2 if layout == GL.GL_RG else 1
            GL.glActiveTexture(GL.GL_TEXTURE0 + i)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._textures[i])
            if self._tex_shape != shape:
                GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, pw, ph, 0, layout, GL.GL_UNSIGNED_BYTE, None)
            # Decoded rows may be padded (line_size > width): tell GL the real stride.
            GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, plane.line_size // bytes_per_px)
            data = np.frombuffer(plane, dtype=np.uint8)
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, pw, ph, layout, GL.GL_UNSIGNED_BYTE, data)
        # QPainter draws the overlay's glyphs through GL next: leave the defaults it expects.
        GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, 0)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
        self._tex_shape = shape
        self._picture_size = (w, h)
        conversion = (int(picture.colorspace or 2), int(picture.color_range or 0), h, nv12)
        if conversion != self._conversion:  # a stream's pictures all agree: once, not per frame
            matrix, offset = colour_conversion(*conversion[:3])
            GL.glUseProgram(self._program)
            GL.glUniformMatrix3fv(self._uniforms["yuv_to_rgb"], 1, GL.GL_TRUE, matrix)
            GL.glUniform3fv(self._uniforms["offset"], 1, offset)
            GL.glUniform1i(self._uniforms["nv12"], int(nv12))
            self._conversion = conversion

    def _draw(self, x: int, y: int, w: int, h: int, vw: int, vh: int) -> None:
        """The planes through the conversion shader into the window's rectangle."""
        GL.glViewport(x, y, w, h)
        GL.glUseProgram(self._program)
        for i in range(3):
            GL.glActiveTexture(GL.GL_TEXTURE0 + i)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._textures[i])
        pos, tex = self._attributes["position"], self._attributes["texcoord"]
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        GL.glEnableVertexAttribArray(pos)
        GL.glEnableVertexAttribArray(tex)
        GL.glVertexAttribPointer(pos, 2, GL.GL_FLOAT, GL.GL_FALSE, 16, QUAD)
        GL.glVertexAttribPointer(tex, 2, GL.GL_FLOAT, GL.GL_FALSE, 16, QUAD[2:])
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glDisableVertexAttribArray(pos)
        GL.glDisableVertexAttribArray(tex)
        GL.glUseProgram(0)
        for i in (2, 1, 0):
            GL.glActiveTexture(GL.GL_TEXTURE0 + i)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glViewport(0, 0, vw, vh)

    def _draw_overlay(self, painter: QPainter) -> None:
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(10)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = max(metrics.horizontalAdvance(line) for line in self.overlay_lines) + 16
        height = metrics.lineSpacing() * len(self.overlay_lines) + 12
        painter.fillRect(8, 8, width, height, QColor(0, 0, 0, 170))
        painter.setPen(QColor(230, 230, 230))
        for n, line in enumerate(self.overlay_lines):
            painter.drawText(16, 8 + 6 + metrics.ascent() + n * metrics.lineSpacing(), line)
