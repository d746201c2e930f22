"""The AppImage build (packaging/appimage/build.py): the AppDir runs on its own.

The AppDir and its squashfs are built once per test run (the Debian packages and wheels
come from caches after the first time); with LUMEN_TEST_APPIMAGE_WORK=DIR a build there
is reused while the sources it was made from are unchanged. Everything the image runs is started through
``sandboxed``: a private mount namespace in which the checkout, the virtualenv, the
Python that runs the tests and the system's Python are hidden, every system copy of a
library the image carries is replaced by an empty file, and the environment is empty
but for HOME, a plain PATH and the XDG folders. What still works there works because
the AppDir carries it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from desktop import die_with_parent
from hosts import free_udp_port
from project import ROOT

from lumen_core import __version__

SYSTEM_LIB_DIRS = (Path("/usr/lib/x86_64-linux-gnu"), Path("/lib/x86_64-linux-gnu"))

pytestmark = pytest.mark.timeout(900)  # the build is in the first test's setup


def _load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("appimage_build", ROOT / "packaging/appimage/build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build_module()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("mksquashfs", "unsquashfs", "apt-get", "dpkg-deb", "readelf", "unshare"):
        assert shutil.which(tool), f"{tool} is missing (./dev installs what the tests need)"
    reuse = os.environ.get("LUMEN_TEST_APPIMAGE_WORK")
    folder = Path(reuse) if reuse else tmp_path_factory.mktemp("appimage")
    digest = folder / "inputs.sha256"
    if reuse and digest.exists() and digest.read_text().strip() == build.inputs_digest() != "":
        return folder  # built from these very sources
    result = subprocess.run([sys.executable, str(ROOT / "packaging/appimage/build.py"), "--squashfs-only",
                             "--work", str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


@pytest.fixture(scope="module")
def appdir(work: Path) -> Path:
    return work / "AppDir"


@pytest.fixture(scope="module")
def image(work: Path) -> Path:
    (found,) = work.glob("lumen-client-*-x86_64.squashfs")
    return found


def _hidden_paths(appdir: Path) -> tuple[list[Path], list[Path]]:
    """Folders to cover with an empty tmpfs; library files to cover with /dev/null."""
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    folders = {ROOT, Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path("/usr/lib/python3"),
               Path("/usr/local/lib") / minor, *Path("/usr/lib").glob("python3.*")}
    libraries = set()
    for carried in (appdir / "usr/lib/x86_64-linux-gnu").iterdir():
        for folder in SYSTEM_LIB_DIRS:
            if (folder / carried.name).is_file() and not carried.is_dir():
                libraries.add((folder / carried.name).resolve())
    folders = {f for f in folders if f.is_dir()}
    outermost = [f for f in folders if not any(other in f.parents for other in folders)]
    hiding_it = [f for f in outermost if f in appdir.parents]
    assert not hiding_it, f"the AppDir must be built outside what the sandbox hides ({hiding_it})"
    return sorted(outermost), sorted(libraries)


def sandboxed(appdir: Path, home: Path, *cmd: str, extra_env: tuple[str, ...] = ()) -> list[str]:
    folders, libraries = _hidden_paths(appdir)
    script = "set -e\n"
    script += "".join(f"mount -t tmpfs -o ro,size=4k lumen-hidden '{f}'\n" for f in folders)
    script += "".join(f"mount --bind /dev/null '{lib}'\n" for lib in libraries)
    script += 'exec "$@"\n'
    env = [f"HOME={home}", "PATH=/usr/bin:/bin", f"XDG_CONFIG_HOME={home}/.config", f"XDG_CACHE_HOME={home}/.cache",
           f"XDG_RUNTIME_DIR={home}/run", "LANG=C.UTF-8", *extra_env]
    (home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sandbox", "env", "-i", *env, *cmd]


def run_sandboxed(appdir: Path, home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(sandboxed(appdir, home, str(appdir / "AppRun"), *args), capture_output=True, text=True,
                          timeout=timeout)


def test_the_sandbox_really_hides_the_build_machine(appdir: Path, tmp_path: Path) -> None:
    folders, libraries = _hidden_paths(appdir)
    assert ROOT in folders and any(lib.name.startswith("libopus.so") for lib in libraries), (folders, libraries)
    probe = subprocess.run(sandboxed(appdir, tmp_path, "sh", "-c", f"ls -A '{ROOT}' | wc -l; wc -c < '{libraries[0]}'"),
                           capture_output=True, text=True, timeout=30)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["0", "0"]


def test_apprun_version_for_client_and_host(appdir: Path, tmp_path: Path) -> None:
    client = run_sandboxed(appdir, tmp_path, "--version")
    assert (client.returncode, client.stdout.strip()) == (0, f"lumen-client {__version__}"), client.stderr
    host = run_sandboxed(appdir, tmp_path, "--host", "--version")
    assert (host.returncode, host.stdout.strip()) == (0, f"lumen-host {__version__}"), host.stderr
    # a link named lumen-host starts the host too (ARGV0 is what the AppImage runtime sets)
    link = tmp_path / "lumen-host"
    link.symlink_to(appdir / "AppRun")
    linked = subprocess.run(sandboxed(appdir, tmp_path, str(link), "--version"), capture_output=True, text=True,
                            timeout=60)
    assert linked.stdout.strip() == f"lumen-host {__version__}", linked.stderr


def test_apprun_python_is_the_appdirs_own(appdir: Path, tmp_path: Path) -> None:
    python = next((appdir / "usr/bin").glob("python3.*"))
    probe = subprocess.run(
        sandboxed(appdir, tmp_path, "sh", "-c",
                  f'LD_LIBRARY_PATH="{appdir}/usr/lib/x86_64-linux-gnu" exec "{python}" -I -c "$0"',
                  "import sys, json, ssl, ctypes, lzma, bz2, decimal, opuslib_next, sounddevice;"
                  "import lumen_core.fec.isal as i, lumen_core.video.crypto as c;"
                  "print(json.dumps([sys.prefix, sys.path, i.load_isal() is not None, c.native_available()]))"),
        capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    prefix, path, isal, native_aead = json.loads(probe.stdout)
    assert prefix == str(appdir / "usr")
    assert all(entry.startswith(str(appdir)) for entry in path if entry), path
    assert isal, "ISA-L not loaded from the AppDir"
    # lumen's C module, linked against the libcrypto the image carries (the system's is hidden).
    assert native_aead, "lumen_core.video._gcm did not load in the AppDir"


def test_apprun_input_test_without_a_controller(appdir: Path, tmp_path: Path) -> None:
    result = run_sandboxed(appdir, tmp_path, "--input-test", "--list")
    assert result.returncode == 0, result.stderr
    assert "No game controllers found" in result.stdout
    assert "Traceback" not in result.stderr


def test_apprun_shows_the_main_window(appdir: Path, tmp_path: Path, xvfb_display: str) -> None:
    assert shutil.which("xdotool"), "xdotool is missing (./dev installs what the tests need)"
    app = subprocess.Popen(sandboxed(appdir, tmp_path, str(appdir / "AppRun"), extra_env=(f"DISPLAY={xvfb_display}",)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^lumen$"], capture_output=True,
                             env={**os.environ, "DISPLAY": xvfb_display}).returncode != 0:
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "no main window in 60 s"
            time.sleep(0.05)
        maps = Path(f"/proc/{app.pid}/maps").read_text()
    finally:
        app.terminate()
        _, err = app.communicate(timeout=15)
    for carried in ("PySide6/Qt/plugins/platforms/libqxcb.so", "x86_64-linux-gnu/libxcb-icccm.so"):
        assert any(line.endswith(carried) or f"/{carried}." in line for line in maps.splitlines()
                   if str(appdir) in line), f"{carried} not loaded from the AppDir"
    assert "Traceback" not in err, err


@pytest.fixture
def sandboxed_host(appdir: Path, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, video_port = free_udp_port(), free_udp_port()
    stats, log = tmp_path / "host.json", tmp_path / "host.log"
    home = tmp_path / "host-home"
    home.mkdir()
    proc = subprocess.Popen(
        sandboxed(appdir, home, str(appdir / "AppRun"), "--host", "--port", str(port), "--video-port",
                  str(video_port), "--size", "640x360", "--fps", "60", "--bitrate", "4000", "--max-sessions", "1",
                  "--stats-json", str(stats)),
        stdout=log.open("wb"), stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    deadline = time.monotonic() + 30
    while "listening on" not in log.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.05)
    yield port, stats
    if proc.poll() is None:
        proc.terminate()
    proc.wait(timeout=15)


def test_headless_stream_from_the_appdirs_host_to_its_client(
        appdir: Path, tmp_path: Path, sandboxed_host: tuple[int, Path]) -> None:
    port, host_stats = sandboxed_host
    client_stats, home = tmp_path / "client.json", tmp_path / "client-home"
    home.mkdir()
    client = subprocess.Popen(
        sandboxed(appdir, home, str(appdir / "AppRun"), "stream", f"127.0.0.1:{port}", "--headless", "--duration", "3",
                  "--no-gamepads", "--stats-json", str(client_stats)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
    # unshare, sh, env and AppRun all exec: this pid becomes the client's Python
    maps, deadline = "", time.monotonic() + 20
    while "libopus.so" not in maps and client.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            maps = Path(f"/proc/{client.pid}/maps").read_text()
        except OSError:  # exited meanwhile
            break
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, out + err
    shared_object = re.compile(r"\.so(\.\d+)*$")  # not /etc/ld.so.cache, which the loader maps while it works
    loaded = {path for line in maps.splitlines() if shared_object.search(path := line.split()[-1])}
    assert any(p.startswith(str(appdir)) and "libopus.so" in p for p in loaded), sorted(loaded)
    outside = [p for p in loaded if not p.startswith(str(appdir)) and not p.startswith(("/usr/lib/", "/lib/"))]
    assert not outside, outside
    stats = json.loads(client_stats.read_text())
    deadline = time.monotonic() + 15
    while not host_stats.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    served = json.loads(host_stats.read_text())[0]
    assert stats["frames_decoded"] >= 0.9 * served["frames_sent"] > 100, (stats, served)
    assert 180 <= stats["audio_packets_per_s"] <= 220, stats


def test_squashfs_has_apprun_desktop_file_and_icon_at_its_root(image: Path) -> None:
    listing = subprocess.run(["unsquashfs", "-l", str(image)], capture_output=True, text=True, check=True).stdout
    entries = {line.removeprefix("squashfs-root/") for line in listing.splitlines()}
    assert {"AppRun", "io.lumen.client.desktop", "io.lumen.client.png", ".DirIcon"} <= entries
    assert "usr/share/metainfo/io.lumen.client.appdata.xml" in entries


def test_the_appdirs_desktop_file_and_metainfo_validate(appdir: Path) -> None:
    desktop = subprocess.run(["desktop-file-validate", str(appdir / "io.lumen.client.desktop")],
                             capture_output=True, text=True)
    assert desktop.returncode == 0 and not desktop.stdout.strip(), desktop.stdout + desktop.stderr
    metainfo = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic",
                               str(appdir / "usr/share/metainfo/io.lumen.client.appdata.xml")],
                              capture_output=True, text=True)
    assert metainfo.returncode == 0, metainfo.stdout + metainfo.stderr


def test_the_library_check_names_what_an_appdir_lacks(appdir: Path, tmp_path: Path) -> None:
    # The build ran the check on the whole AppDir already (it fails otherwise); here it
    # must also catch a library missing from a smaller one: PortAudio without JACK.
    assert (appdir / "usr/lib/python3/dist-packages/PySide6/Qt/plugins/platforms/libqxcb.so").is_file()
    carried = appdir / "usr/lib/x86_64-linux-gnu"
    small = tmp_path / "AppDir/usr/lib/x86_64-linux-gnu"
    small.mkdir(parents=True)
    for pattern in ("libportaudio.so.2*", "libxcb-icccm.so.4*"):
        for lib in carried.glob(pattern):
            shutil.copy(lib, small / lib.name, follow_symlinks=False)
    problems = build.check_libraries(tmp_path / "AppDir")
    assert problems and all("libportaudio.so" in p and "libjack.so.0" in p for p in problems), problems
    for lib in carried.glob("libjack.so.0*"):
        shutil.copy(lib, small / lib.name, follow_symlinks=False)
    problems = build.check_libraries(tmp_path / "AppDir")  # PortAudio is whole; JACK now lacks Berkeley DB
    assert problems and all(p.startswith("usr/lib/x86_64-linux-gnu/libjack.so") and "libdb-5.3.so" in p
                            for p in problems), problems


def test_assembling_the_appimage(image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Without a runtime the build stops and says exactly what to supply.
    assert build.assemble(image, None, tmp_path) == 3
    assert "--runtime FILE or LUMEN_APPIMAGE_RUNTIME=FILE" in capsys.readouterr().err
    # A file that is not a type-2 runtime is refused.
    with pytest.raises(build.BuildError, match="not an AppImage type-2 runtime"):
        build.assemble(image, Path("/bin/true"), tmp_path)
    # The runtime is an ELF program with 'AI\x02' in its header padding, followed by the
    # squashfs it mounts from its own end. This ELF is a stand-in (the real runtime is
    # not in any registry): what is tested is the layout the build writes.
    elf = bytearray(Path("/bin/true").read_bytes())
    elf[8:11] = b"AI\x02"
    runtime = tmp_path / "runtime-x86_64"
    runtime.write_bytes(bytes(elf))
    assert build.assemble(image, runtime, tmp_path / "out") == 0
    (appimage,) = (tmp_path / "out").glob("*.AppImage")
    assert appimage.name == f"lumen-client-{__version__}-x86_64.AppImage"
    assert os.access(appimage, os.X_OK)
    listing = subprocess.run(["unsquashfs", "-o", str(len(elf)), "-l", str(appimage)],
                             capture_output=True, text=True, check=True).stdout
    assert "squashfs-root/AppRun" in listing.splitlines()
