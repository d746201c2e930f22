#!/usr/bin/env python3
"""Build lumen-client-<version>-x86_64.AppImage from this checkout.

    ./dev appimage --runtime runtime-x86_64      (or any Python with pip: python3 packaging/appimage/build.py ...)

Everything in the image comes from the registries the project already uses: Debian's
packages (a CPython that finds its standard library next to itself, the native
libraries the wheels lack, the xcb libraries Qt's xcb plugin needs, python3-evdev,
which PyPI only has as source) through ``apt-get download``, and wheels from PyPI
through pip. The AppImage type-2 runtime is the one thing not in a registry: it comes
from ``--runtime FILE`` or ``LUMEN_APPIMAGE_RUNTIME``, and without it the build stops
after the squashfs and says what to supply. Nothing is downloaded at run time.

Steps, each into the work folder (default build/appimage/):
  1. Debian packages (kept in a cache) and wheels (pip's cache) for the image's Python.
  2. AppDir: the packages unpacked, the wheels installed into its dist-packages, Qt
     pruned to the modules lumen imports, AppRun, desktop file, icon, metainfo.
  3. Byte-compiled (a squashfs is read-only: without .pyc files every start compiles).
  4. Checked: every ELF file's libraries resolve inside the AppDir or are ones any Linux
     desktop has (HOST_LIBRARIES, after AppImage's excludelist); anything else fails.
  5. squashfs (mksquashfs), then runtime + squashfs = the AppImage.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
APP_ID = "io.lumen.client"
ARCH = "x86_64"
MULTIARCH = "x86_64-linux-gnu"

# Debian packages unpacked into the AppDir. Each entry lists alternative names, first
# match wins: Debian 13 renamed some libraries (the 64-bit time_t transition).
# {py} is the Debian release's Python, e.g. 3.11.
DEBIAN_PACKAGES: list[tuple[str, ...]] = [
    ("python{py}-minimal",),  # the interpreter
    ("libpython{py}-minimal",),  # the core of the standard library
    ("libpython{py}-stdlib",),  # the rest of it, with the extension modules
    ("libssl3t64", "libssl3"),  # hashlib
    ("libffi8",),  # ctypes
    ("libbz2-1.0",),
    ("liblzma5",),
    ("libmpdec4", "libmpdec3", ""),  # decimal; Debian 12 builds it in
    ("python3-evdev",),  # uinput gamepads on the host; PyPI has only its source
    ("libopus0",),  # Opus (opuslib-next loads it with ctypes)
    ("libportaudio2",),  # audio output (sounddevice loads it with ctypes)
    ("libjack-jackd2-0",),  # Debian's PortAudio links JACK
    ("libsamplerate0",),
    ("libdb5.3t64", "libdb5.3"),
    ("libisal2",),  # Reed-Solomon FEC (ISA-L, loaded with ctypes)
    # Qt's xcb platform plugin: the xcb utility libraries and extensions it links.
    ("libxcb-cursor0",),
    ("libxcb-icccm4",),
    ("libxcb-image0",),
    ("libxcb-keysyms1",),
    ("libxcb-randr0",),
    ("libxcb-render-util0",),
    ("libxcb-render0",),
    ("libxcb-shape0",),
    ("libxcb-shm0",),
    ("libxcb-sync1",),
    ("libxcb-util1",),
    ("libxcb-xfixes0",),
    ("libxcb-xinput0",),
    ("libxcb-xkb1",),
    ("libxkbcommon0",),
    ("libxkbcommon-x11-0",),
]

# Libraries the image expects from the system it runs on, as AppImage's excludelist
# does: the C library, the GPU driver's GL, X11's core, fonts, D-Bus, ALSA. Bundling
# these breaks more systems than it helps (a GL that does not match the driver).
HOST_LIBRARIES = {
    "ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libmvec.so.1", "libdl.so.2", "libpthread.so.0", "librt.so.1",
    "libutil.so.1", "libresolv.so.2", "libcrypt.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1",
    "libexpat.so.1", "libasound.so.2",
    "libGL.so.1", "libEGL.so.1", "libGLX.so.0", "libOpenGL.so.0", "libGLdispatch.so.0",
    "libX11.so.6", "libX11-xcb.so.1", "libXext.so.6", "libXau.so.6", "libXdmcp.so.6", "libxcb.so.1",
    "libxcb-glx.so.0",  # GLX, with the GL driver
    "libzstd.so.1",  # systemd and the package managers link it: on every system
    "libfontconfig.so.1", "libfreetype.so.6", "libdbus-1.so.3",
    "libglib-2.0.so.0", "libgthread-2.0.so.0", "libgobject-2.0.so.0", "libgio-2.0.so.0",
}

# Qt: the Python modules lumen imports; their library closure, the plugins below and
# their closure stay, every other Qt library and Python binding goes.
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtOpenGL", "QtOpenGLWidgets", "QtDBus")
QT_PLUGINS = (
    "platforms/libqxcb.so",
    "platforms/libqoffscreen.so",
    "xcbglintegrations",
    "platforminputcontexts/libcomposeplatforminputcontextplugin.so",  # dead keys
    "platforminputcontexts/libibusplatforminputcontextplugin.so",
    "imageformats/libqico.so",
    "imageformats/libqjpeg.so",
    "imageformats/libqgif.so",
    "iconengines",
    "imageformats/libqsvg.so",
    "platformthemes/libqxdgdesktopportal.so",
)
QT_DROP_DIRS = ("qml", "translations", "libexec", "metatypes", "modules", "resources", "include", "doc")

# Standard-library extension modules lumen never uses, whose libraries the image would
# otherwise have to carry (readline, curses, NIS, dbm, sqlite; uuid works without _uuid).
STDLIB_DROP = re.compile(r"^(readline|_curses|_curses_panel|nis|_dbm|_gdbm|_sqlite3|_tkinter|_uuid)\.")


class BuildError(Exception):
    pass


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"appimage: [{time.monotonic() - _STARTED:5.1f} s] {message}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if result.returncode != 0:
        raise BuildError(f"{' '.join(cmd[:3])} ... failed:\n{(result.stderr or result.stdout).strip()[-2000:]}")
    return result


# -- 1. inputs --------------------------------------------------------------------------


def apt_show(packages: Iterable[str]) -> dict[str, dict[str, str]]:
    """Candidate stanzas of the packages apt knows (one apt-cache call: each takes a second)."""
    shown = subprocess.run(["apt-cache", "show", "--no-all-versions", *packages], text=True, capture_output=True)
    stanzas = {}
    for block in shown.stdout.split("\n\n"):
        fields = dict(re.findall(r"^([\w-]+): (.*)$", block, re.M))
        if "Package" in fields:
            stanzas.setdefault(fields["Package"], fields)
    return stanzas


def debian_python() -> str:
    """The release's Python version (python3-minimal pre-depends on python3.X-minimal)."""
    fields = apt_show(["python3-minimal"]).get("python3-minimal", {})
    match = re.search(r"python(3\.\d+)-minimal", fields.get("Pre-Depends", "") + fields.get("Depends", ""))
    if match is None:
        raise BuildError("apt does not know python3-minimal: run `apt-get update` first")
    return match.group(1)


def fetch_debs(py: str, cache: Path) -> list[Path]:
    cache.mkdir(parents=True, exist_ok=True)
    entries = [[a.format(py=py) for a in alternatives] for alternatives in DEBIAN_PACKAGES]
    known = apt_show(name for names in entries for name in names if name)
    wanted: list[tuple[str, Path]] = []
    for names in entries:
        for name in names:
            if not name:
                break  # optional on this release
            if name in known:
                fields = known[name]
                version = fields["Version"].replace(":", "%3a")
                wanted.append((name, cache / f"{name}_{version}_{fields['Architecture']}.deb"))
                break
        else:
            raise BuildError(f"no Debian package among {names} (after `apt-get update`)")
    missing = [name for name, path in wanted if not path.exists()]
    if missing:
        log(f"downloading {len(missing)} Debian packages")
        try:
            run(["apt-get", "download", *missing], cwd=cache)
        except BuildError:
            if os.geteuid() != 0:
                raise BuildError("apt-get download failed: the package lists may be stale (apt-get update)") from None
            # Stale lists name versions the mirror has replaced: refresh them once.
            log("apt-get download failed; refreshing the package lists")
            run(["apt-get", "update", "-qq"])
            return fetch_debs(py, cache)
    debs = [path for _, path in wanted]
    for path in debs:
        if not path.exists():
            raise BuildError(f"apt-get download did not produce {path.name}")
    return debs


def build_wheel(wheels: Path) -> Path:
    shutil.rmtree(wheels, ignore_errors=True)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("lumen_stream-*.whl")
    # pip leaves the C module out when it cannot compile it; an image without it would
    # work, at twice the CPU per video datagram: refuse rather than ship that quietly.
    with zipfile.ZipFile(wheel) as zf:
        if not any(n.startswith("lumen_core/video/_gcm.") and n.endswith(".so") for n in zf.namelist()):
            raise BuildError("lumen_core/video/_gcm.c was not compiled: install gcc, libssl-dev and python3-dev")
    return wheel


def requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist for Linux without extras, minus evdev (from Debian)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(name).decode())
    reqs = []
    for req in meta.get_all("Requires-Dist") or []:
        if "extra ==" in req or req.split(";")[0].strip().startswith("evdev"):
            continue
        reqs.append(req.split(";")[0].strip())
    return reqs


def glibc_platforms(glibc: tuple[int, int]) -> list[str]:
    """pip's --platform tags for wheels that run on this glibc (pip matches them exactly)."""
    major, minor = glibc
    tags = [f"manylinux_{major}_{m}_{ARCH}" for m in range(minor, 4, -1)]
    return [*tags, f"manylinux2014_{ARCH}", f"manylinux2010_{ARCH}", f"manylinux1_{ARCH}"]


def system_glibc() -> tuple[int, int]:
    version = os.confstr("CS_GNU_LIBC_VERSION") or "glibc 2.17"
    major, minor = version.split()[1].split(".")[:2]
    return int(major), int(minor)


def install_python_packages(wheel: Path, site: Path, py: str) -> None:
    abi = "cp" + py.replace(".", "")
    common = [sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--no-warn-script-location",
              "--disable-pip-version-check", "--target", str(site)]
    target = ["--only-binary=:all:", "--implementation", "cp", "--python-version", py,
              "--abi", abi, "--abi", "abi3", "--abi", "none"]
    for tag in glibc_platforms(system_glibc()):
        target += ["--platform", tag]
    log(f"installing lumen's dependencies for CPython {py}")
    run([*common, *target, *requirements(wheel)])
    run([*common, "--no-deps", str(wheel)])
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts point at the build's Python


# -- 2. AppDir --------------------------------------------------------------------------


def unpack(debs: Iterable[Path], appdir: Path) -> None:
    for deb in debs:
        run(["dpkg-deb", "-x", str(deb), str(appdir)])
    # Debian 12 still puts some libraries in /lib: one library folder is enough.
    legacy = appdir / "lib" / MULTIARCH
    if legacy.is_dir():
        target = appdir / "usr/lib" / MULTIARCH
        target.mkdir(parents=True, exist_ok=True)
        for entry in legacy.iterdir():
            entry.rename(target / entry.name)
        shutil.rmtree(appdir / "lib")
    for junk in ("usr/share/doc", "usr/share/man", "usr/share/lintian", "usr/share/binfmts", "usr/share/pixmaps",
                 "usr/share/applications", "etc", "usr/lib/valgrind"):
        shutil.rmtree(appdir / junk, ignore_errors=True)
    relink_absolute(appdir)


def relink_absolute(appdir: Path) -> None:
    """Debian's absolute symlinks would point into the running system: make them relative
    when the target is in the AppDir, else remove them."""
    for link in [p for p in appdir.rglob("*") if p.is_symlink()]:
        target = os.readlink(link)
        if not target.startswith("/"):
            continue
        inside = appdir / target.lstrip("/")
        link.unlink()
        if inside.exists():
            link.symlink_to(os.path.relpath(inside, link.parent))


def prune_stdlib(appdir: Path, py: str) -> None:
    stdlib = appdir / "usr/lib" / f"python{py}"
    for module in (stdlib / "lib-dynload").iterdir():
        if STDLIB_DROP.match(module.name):
            module.unlink()
    for name in ("idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "test", "config-" + py + "-" + MULTIARCH):
        shutil.rmtree(stdlib / name, ignore_errors=True)


def elf_needs(path: Path) -> list[str]:
    """DT_NEEDED of an ELF file: the libraries it names itself, not theirs."""
    out = subprocess.run(["readelf", "-d", str(path)], text=True, capture_output=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def prune_qt(site: Path) -> None:
    """Keep the Qt modules lumen imports, the plugins it needs, and their closure."""
    pyside = site / "PySide6"
    qt = pyside / "Qt"
    libs = {p.name: p for p in (qt / "lib").iterdir()}
    keep_libs: set[str] = set()
    roots = [pyside / f"{m}.abi3.so" for m in QT_MODULES]
    for plugin in QT_PLUGINS:
        found = qt / "plugins" / plugin
        roots += sorted(found.glob("*.so")) if found.is_dir() else [found] if found.exists() else []
    roots += list(pyside.glob("libpyside6.abi3.so.*"))
    pending = list(roots)
    while pending:
        for need in elf_needs(pending.pop()):
            if need in libs and need not in keep_libs:
                keep_libs.add(need)
                pending.append(libs[need])
    for name, path in libs.items():
        if name not in keep_libs:  # the wheel holds each library under its soname alone
            path.unlink()
    keep_modules = set(QT_MODULES)
    for binding in pyside.glob("Qt*.abi3.so"):
        if binding.name.split(".")[0] not in keep_modules:
            binding.unlink()
            binding.with_name(binding.name.split(".")[0] + ".pyi").unlink(missing_ok=True)
    for tool in ("assistant", "designer", "linguist", "lrelease", "lupdate", "qmlformat", "qmllint", "qmlls",
                 "svgtoqml", "typesystems", "include", "glue", "doc", "scripts", "support"):
        target = pyside / tool
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
    for lib in pyside.glob("libpyside6qml*"):
        lib.unlink()
    for name in QT_DROP_DIRS:
        shutil.rmtree(qt / name, ignore_errors=True)
    plugins = qt / "plugins"
    kept = {(plugins / p).resolve() for p in QT_PLUGINS}
    for entry in sorted(plugins.rglob("*.so")):
        if entry.resolve() not in kept and entry.parent.resolve() not in kept:
            entry.unlink()
    for folder in sorted(plugins.iterdir()):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def prune_site(site: Path) -> None:
    """Test suites, examples and type stubs: never imported, a tenth of the image."""
    for pattern in ("numpy/**/tests", "pygame/tests", "pygame/examples", "pygame/docs", "OpenGL/Tk"):
        for folder in list(site.glob(pattern)):
            shutil.rmtree(folder, ignore_errors=True)
    for stub in site.rglob("*.pyi"):
        stub.unlink()


def add_desktop_files(appdir: Path, py: str) -> None:
    resources = ROOT / "resources"
    apprun = (HERE / "AppRun").read_text().replace("@PYTHON@", f"python{py}")
    (appdir / "AppRun").write_text(apprun)
    (appdir / "AppRun").chmod(0o755)
    shutil.copy(HERE / "sitecustomize.py", appdir / "usr/lib" / f"python{py}" / "sitecustomize.py")
    desktop = resources / f"{APP_ID}.desktop"
    shutil.copy(desktop, appdir / desktop.name)
    applications = appdir / "usr/share/applications"
    applications.mkdir(parents=True, exist_ok=True)
    shutil.copy(desktop, applications / desktop.name)
    metainfo = appdir / "usr/share/metainfo"
    metainfo.mkdir(parents=True, exist_ok=True)
    shutil.copy(resources / f"{APP_ID}.metainfo.xml", metainfo / f"{APP_ID}.appdata.xml")
    shutil.copy(resources / "icons/hicolor/256x256/apps" / f"{APP_ID}.png", appdir / f"{APP_ID}.png")
    (appdir / ".DirIcon").symlink_to(f"{APP_ID}.png")
    shutil.copytree(resources / "icons/hicolor", appdir / "usr/share/icons/hicolor", dirs_exist_ok=True)
    scalable = appdir / "usr/share/icons/hicolor/scalable/apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copy(resources / f"{APP_ID}.svg", scalable / f"{APP_ID}.svg")
    bin_dir = appdir / "usr/bin"
    for name, module in (("lumen-client", "lumen_client.cli"), ("lumen-host", "lumen_host.cli")):
        # inside the image (from a terminal after --appimage-extract, say)
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec "$(dirname "$(readlink -f "$0")")/python{py}" -I -m {module} "$@"\n')
        script.chmod(0o755)


# -- 3 and 4 ----------------------------------------------------------------------------


def byte_compile(appdir: Path, py: str) -> None:
    python = appdir / "usr/bin" / f"python{py}"
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": library_path(appdir)}
    # unchecked-hash: the .pyc is trusted as is, whatever the squashfs says of mtimes
    subprocess.run([str(python), "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    str(appdir / "usr/lib")], env=env, capture_output=True, text=True)
    # Some packages ship files that are not Python 3 (templates, tests): not an error.
    check = subprocess.run([str(python), "-I", "-c", "import lumen_client.cli, lumen_host.cli, PySide6.QtWidgets"],
                           env=env, capture_output=True, text=True)
    if check.returncode != 0:
        raise BuildError(f"the AppDir's Python cannot import lumen:\n{check.stderr.strip()[-2000:]}")


def library_path(appdir: Path) -> str:
    return f"{appdir}/usr/lib/{MULTIARCH}:{appdir}/usr/lib"


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def check_libraries(appdir: Path) -> list[str]:
    """Every ELF file's own needs (DT_NEEDED) resolve inside the AppDir or are in
    HOST_LIBRARIES. What a host library needs in turn is the host's business."""
    problems = []
    env = {"LD_LIBRARY_PATH": library_path(appdir), "PATH": "/usr/bin:/bin"}
    root = str(appdir.resolve())
    for path in sorted(appdir.rglob("*")):
        if path.is_symlink() or not path.is_file() or not is_elf(path):
            continue
        out = subprocess.run(["ldd", str(path)], env=env, text=True, capture_output=True).stdout
        resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", out, re.M))
        for name in elf_needs(path):
            where = resolved.get(name, "not")
            if where == "not" and (path.parent / name).exists():
                continue  # a wheel's vendored sibling, loaded by the module that loads this one
            if where.startswith("/") and os.path.realpath(where).startswith(root):
                continue
            if name not in HOST_LIBRARIES:
                problems.append(f"{path.relative_to(appdir)}: {name} => {where}")
    return problems


# -- 5 ----------------------------------------------------------------------------------


def make_squashfs(appdir: Path, image: Path, compression: str) -> None:
    image.unlink(missing_ok=True)
    run(["mksquashfs", str(appdir), str(image), "-root-owned", "-noappend", "-no-progress", "-quiet",
         "-comp", compression])


def check_runtime(runtime: Path) -> None:
    """The type-2 runtime is an ELF executable with the AppImage magic 'AI\\x02' at byte 8."""
    head = runtime.read_bytes()[:16]
    if head[:4] != b"\x7fELF" or head[8:11] != b"AI\x02":
        raise BuildError(f"{runtime} is not an AppImage type-2 runtime (no ELF header with the 'AI 2' magic)")


def version() -> str:
    text = (ROOT / "lumen_core/__init__.py").read_text()
    return re.search(r'__version__\s*=\s*"([^"]+)"', text).group(1)


def inputs_digest() -> str:
    """What the AppDir is made from, to tell whether a previous build is current
    (empty outside a git checkout: nothing to compare with)."""
    digest = hashlib.sha256()
    if not (ROOT / ".git").exists():
        return ""
    tracked = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "pyproject.toml",
                   "setup.py", "lumen_core", "lumen_client", "host", "resources", "packaging/appimage"], cwd=ROOT)
    tracked = tracked.stdout.split("\0")
    for name in sorted(filter(None, tracked)):
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes())
    return digest.hexdigest()


def build(work: Path, out: Path, runtime: Path | None, squashfs_only: bool, compression: str) -> int:
    started = time.monotonic()
    if shutil.which("mksquashfs") is None:
        raise BuildError("mksquashfs is missing: install Debian's squashfs-tools")
    py = debian_python()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lumen" / "appimage-debs"
    debs = fetch_debs(py, cache)
    wheel = build_wheel(work / "wheels")
    appdir = work / "AppDir"
    shutil.rmtree(appdir, ignore_errors=True)
    appdir.mkdir(parents=True)
    log(f"AppDir with Debian's CPython {py} and {len(debs)} Debian packages")
    unpack(debs, appdir)
    prune_stdlib(appdir, py)
    site = appdir / "usr/lib/python3/dist-packages"
    install_python_packages(wheel, site, py)
    log("pruning Qt to what lumen uses")
    prune_qt(site)
    prune_site(site)
    add_desktop_files(appdir, py)
    log("byte-compiling")
    byte_compile(appdir, py)
    log("checking the libraries every ELF file needs")
    problems = check_libraries(appdir)
    if problems:
        raise BuildError("libraries the AppDir needs but neither carries nor may expect of a desktop:\n  "
                         + "\n  ".join(problems))
    (work / "inputs.sha256").write_text(inputs_digest() + "\n")
    size = sum(p.stat().st_size for p in appdir.rglob("*") if p.is_file() and not p.is_symlink())
    image = work / f"lumen-client-{version()}-{ARCH}.squashfs"
    log(f"squashfs ({compression}) of {size / 2**20:.0f} MiB")
    make_squashfs(appdir, image, compression)
    log(f"{image} ({image.stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - started:.0f} s")
    if squashfs_only:
        return 0
    return assemble(image, runtime, out)


RUNTIME_MISSING = """\
appimage: stopped after the squashfs: the AppImage type-2 runtime is needed to finish.
  Supply runtime-x86_64 from https://github.com/AppImage/type2-runtime/releases as
  --runtime FILE or LUMEN_APPIMAGE_RUNTIME=FILE (this build downloads nothing itself)."""


def assemble(image: Path, runtime: Path | None, out: Path) -> int:
    """The AppImage: the runtime, then the squashfs it mounts from its own end."""
    if runtime is None:
        print(RUNTIME_MISSING, file=sys.stderr)
        return 3
    check_runtime(runtime)
    out.mkdir(parents=True, exist_ok=True)
    appimage = out / image.with_suffix(".AppImage").name
    with appimage.open("wb") as f:
        f.write(runtime.read_bytes())
        with image.open("rb") as src:
            shutil.copyfileobj(src, f)
    appimage.chmod(0o755)
    log(f"{appimage} ({appimage.stat().st_size / 2**20:.1f} MiB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/appimage/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime", type=Path, default=os.environ.get("LUMEN_APPIMAGE_RUNTIME") or None,
                        help="the AppImage type-2 runtime (runtime-x86_64); or LUMEN_APPIMAGE_RUNTIME")
    parser.add_argument("--work", type=Path, default=ROOT / "build/appimage",
                        help="work folder (default build/appimage)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the AppImage goes (default dist/)")
    parser.add_argument("--squashfs-only", action="store_true", help="stop after the squashfs, on purpose")
    parser.add_argument("--compression", default="zstd", choices=("zstd", "xz", "gzip"),
                        help="squashfs compression (default zstd; the type-2 runtime reads all three)")
    args = parser.parse_args(argv)
    if args.runtime is not None and not args.runtime.is_file():
        print(f"appimage: no runtime file at {args.runtime}", file=sys.stderr)
        return 2
    try:
        return build(args.work.resolve(), args.out.resolve(), args.runtime, args.squashfs_only, args.compression)
    except BuildError as exc:
        print(f"appimage: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
