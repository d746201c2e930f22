"""Known answers: lumen/1 as lumen's M3 commit produces it, byte for byte.

Two sources: the vectors of LUMEN-M3-WIRE.md §12.2, written out below so they run
everywhere, and ``../shared/lumen-m3/vectors.json``, produced by M3's own lumen-core with
fixed inputs (control messages, every input kind, audio, rumble, AES-GCM both ways, GF8
and GF16 parity and reconstruction, whole video sessions datagram by datagram, and
reassembly under loss, reordering and tampering with M3's expected frames and counters).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest
from m3 import lcg_bytes, pattern, sha256, vectors

from lumen_core.control import Hello, Start, Welcome, decode_hello, decode_start, decode_welcome, frame
from lumen_core.datagrams import AudioPacket, InputEvent, Rumble, parse_datagram
from lumen_core.errors import ProtocolError
from lumen_core.fec import GF8, GF16, NumpyEngine, engine_for, recover
from lumen_core.fec.gf8 import parity_rows
from lumen_core.trust import fingerprint
from lumen_core.video import PacketHeader, Packetizer, Reassembler, VideoConfig, parse_header
from lumen_core.video.config import ConfigError
from lumen_core.video.crypto import CLIENT, HOST, AuthError, Opener, Sealer, direction_salt, native_available

KEY7 = bytes([7]) * 16
NATIVE = [True, False] if native_available() else [False]

# -- LUMEN-M3-WIRE.md §12.2, everywhere ------------------------------------------------


def test_wire_doc_control_and_side_plane_hex() -> None:
    hello = Hello(width=1280, height=720, refresh_hz=120).encode()
    assert hello.hex() == "4c4d4e310100000000050000d002000078000000"
    assert frame(hello).hex() == "1400" + hello.hex()
    welcome = Welcome(udp_port=9999, width=2560, height=1440, refresh_hz=240, fec_scheme=GF16, fec_percent=20,
                      max_data_per_block=4096, shard_payload=1200, encrypt=True, key=KEY7,
                      salt=bytes([1, 2, 3, 4]), frames=600)
    assert welcome.encode().hex() == (
        "4c4d4e31" "01000000" "0f27" "000a0000" "a0050000" "f0000000" "01" "14" "0010" "b004" "01"
        "07070707070707070707070707070707" "01020304" "58020000")
    assert Start(client_udp_port=1234).encode().hex() == "4c4d4e31d204"
    move = InputEvent(kind=2, code=0, x=-12, y=34, flags=0xABCD).encode()
    assert move.hex() == "c802" "00000000" "f4ffffff" "22000000" "cdab0000"
    audio = AudioPacket(seq=7, pts_ns=1_000_000_123, payload=b"\x42" * 97).encode()
    assert audio[:13].hex() == "c9" "07000000" "7bca9a3b00000000" and len(audio) == 110
    assert sha256(audio) == "5afa5c19f0d676f73f3b8837503a5132c44027ea2aacadada0c2cd4d494b1531"
    assert Rumble(pad=1, low=0x1234, high=0xFFFF).encode().hex() == "ca" "0100" "3412" "ffff"


def test_wire_doc_video_header() -> None:
    header = PacketHeader(pts_ns=0, frame_index=0, stream_seq=0, frame_bytes=16, user_flags=0, block_index=0,
                          block_count=1, data_shards=1, recovery_shards=0, shard_index=0, shard_bytes=16,
                          fec_scheme=0, flags=1)
    assert header.encode().hex() == ("0000000000000000" "00000000" "00000000" "10000000" "00000000"
                                     "0000" "0100" "0100" "0000" "0000" "1000" "c9" "01" "00" "01")
    assert parse_header(header.encode()) == header


@pytest.mark.parametrize("native", NATIVE)
def test_wire_doc_aes_gcm(native: bool) -> None:
    salt = bytes([1, 2, 3, 4])
    wires = {
        HOST: "000000000000002a" "90fc462d147cc45c37af3720c6876d1ed6a797" "b9fa75fac23e05c579b65cc551f5bed0",
        CLIENT: "000000000000002a" "67641117a46c0eddc7104bc07bed7dd4cf7e45" "7e05b1c94c3c20f0081f7da5c6fec741",
    }
    for role, wire in wires.items():
        sealer = Sealer(KEY7, salt, role, native=native)
        sealer.reserve(42)
        assert sealer.seal(b"the quick brown fox").hex() == wire
    assert direction_salt(b"lmn1", HOST).hex() == "6c6d6e31"
    assert direction_salt(b"lmn1", CLIENT).hex() == "ec6d6e31"
    assert direction_salt(bytes(4), CLIENT).hex() == "80000000"


def test_wire_doc_small_frame_and_synthetic_frame_0() -> None:
    cfg = VideoConfig(key=KEY7)  # M3's host offer: GF16, 20 %, 4096, 1200, encrypted, "lmn1"
    small = Packetizer(cfg).packetize(pattern(7, 100), pts_ns=1_000_000_000, user_flags=5)
    wire0, wire1 = (bytes(d) for b in small for d in b.datagrams())  # data shard, then recovery shard
    assert len(wire0) == len(wire1) == 1264
    assert sha256(wire0) == "f4750bc18d5a7b1918d8c04425eb756628f5d581f21825044f618575098d8f11"
    assert sha256(wire1) == "6742ca6e367e5d786e467a527779dd77ffe82e2eeea7bba98941675c0535f2c8"
    assert wire0[:16].hex() == "0000000000000000" "001065f0a0a8d3fe"
    assert wire0[-16:].hex() == "67e98562b81b91117dd541952c697820"
    frame0 = pattern(0, 65536)
    assert sha256(frame0) == "3f557149b5f3c9754f263a1320c7fb868ac60bc7f769fd7e643add30c0ecd210"
    blocks = Packetizer(cfg).packetize(frame0, pts_ns=0, user_flags=5)
    wires = [bytes(d) for b in blocks for d in b.datagrams()]
    assert len(wires) == 66
    assert sha256(b"".join(wires)) == "a63c0728dfd90d8c68963c2dcfdbf78b5e588c568d4335da4072b4709a14b0c8"
    opener = Opener(KEY7, b"lmn1", CLIENT)
    packets = [opener.open(w)[1] for w in wires]
    plaintexts = b"".join(p for p in packets if p)
    assert sha256(plaintexts) == "1274b36e4991009dd197c5c5b5f884f0f0fddd44383f2c7340bab971b0f0c583"
    assert packets[0] is not None and packets[0][:40].hex() == (
        "0000000000000000" "00000000" "00000000" "00000100" "05000000" "0000" "0100" "3700" "0b00" "0000" "b004"
        "c9010105")


@pytest.mark.parametrize("scheme", [GF8, GF16])
def test_wire_doc_fec_table(scheme: int) -> None:
    cases = {  # data shards, then (GF8 recovery, GF16 recovery) in hex
        "D": (["0102", "0304"], ["8e00"], ["0206"]),
        "E": (["0a00", "1400", "1e00", "2800"], ["8800", "0000"], ["c600", "ee00"]),
        "H": ([f"{i:02x}" * 8 for i in range(6)], ["6b" * 8, "dc" * 8, "f2" * 8],
              ["1919191909090909", "b6b6b6b60d0d0d0d", "d3d3d3d30c0c0c0c"]),
        "I": (["00010203", "04050607", "08090a0b", "0c0d0e0f"], ["02982bb1", "50ca79e3"], ["94940505", "94940505"]),
    }
    engine = engine_for(scheme)
    for data, gf8, gf16 in cases.values():
        expected = gf8 if scheme == GF8 else gf16
        shards = np.zeros((len(data) + len(expected), len(data[0]) // 2), dtype=np.uint8)
        shards[: len(data)] = [np.frombuffer(bytes.fromhex(d), dtype=np.uint8) for d in data]
        engine.encode_into(shards, len(data))
        assert [row.tobytes().hex() for row in shards[len(data) :]] == expected
    if scheme == GF8:
        assert parity_rows(4, 2).tolist() == [[142, 244, 71, 167], [244, 142, 167, 71]]


# -- vectors.json (M3's own lumen-core), where ../shared/lumen-m3 is -------------------


def _welcome(fields: dict[str, Any]) -> Welcome:
    return Welcome(
        abi_version=fields["abi_version"], udp_port=fields["udp_port"], width=fields["width"],
        height=fields["height"], refresh_hz=fields["refresh_hz"],
        fec_scheme=GF16 if fields["fec_scheme"] == "gf16" else GF8, fec_percent=fields["fec_percent"],
        max_data_per_block=fields["max_data_per_block"], shard_payload=fields["shard_payload"],
        encrypt=fields["encrypt"], key=bytes.fromhex(fields["key_hex"]), salt=bytes.fromhex(fields["salt_hex"]),
        frames=fields["frames"],
    )


def test_control_messages() -> None:
    control = vectors()["control"]
    for case in control["hello"]:
        hello = Hello(**case["fields"])
        assert hello.encode().hex() == case["payload_hex"] and frame(hello.encode()).hex() == case["framed_hex"]
        assert decode_hello(bytes.fromhex(case["payload_hex"])) == (hello, b"")
    for case in control["welcome"]:
        welcome = _welcome(case["fields"])
        assert welcome.encode().hex() == case["payload_hex"], case["name"]
        assert frame(welcome.encode()).hex() == case["framed_hex"]
        assert decode_welcome(bytes.fromhex(case["payload_hex"])) == (welcome, b"")
    for case in control["start"]:
        start = Start(**case["fields"])
        assert start.encode().hex() == case["payload_hex"] and frame(start.encode()).hex() == case["framed_hex"]


def test_control_decoding_edge_cases() -> None:
    decoders = {"hello": decode_hello, "welcome": decode_welcome, "start": decode_start}
    for case in vectors()["control"]["decode"]:
        data, expected = bytes.fromhex(case["bytes_hex"]), case["result"]
        if not expected["ok"]:
            with pytest.raises(ProtocolError):
                decoders[case["message"]](data)
            continue
        message, _ = decoders[case["message"]](data)
        if case["message"] == "welcome":
            assert message == _welcome(expected["fields"]), case["name"]
        else:
            assert {k: getattr(message, k) for k in expected if k != "ok"} == {k: v for k, v in expected.items()
                                                                                 if k != "ok"}, case["name"]


def test_offer_validation_and_reassembler_limits() -> None:
    control = vectors()["control"]
    for case in control["offer_validation"] + control["welcome"]:
        config, expected = _welcome(case["fields"]).video_config(), case["session_config"]
        if not expected["valid"]:
            with pytest.raises(ConfigError):
                config.validate()
            continue
        config.validate()
        assert {
            "shard_bytes": config.shard_payload, "max_data_shards": config.max_data_per_block,
            "max_total_shards": config.max_total_shards, "max_blocks": config.max_blocks,
            "max_frame_bytes": config.max_frame_bytes,
        } == expected["reassembler_limits"], case["name"]


def test_side_planes() -> None:
    planes = vectors()["side_planes"]
    for case in planes["input"]["events"]:
        event = InputEvent(kind=case["kind"], code=case["code"], x=case["x"], y=case["y"], flags=case["flags"])
        assert event.encode().hex() == case["datagram_hex"], case["name"]
        assert parse_datagram(bytes.fromhex(case["datagram_hex"])) == event
    for case in planes["audio"]["datagrams"]:
        packet = AudioPacket(seq=case["seq"], pts_ns=case["pts_ns"], payload=bytes.fromhex(case["payload_hex"]))
        assert sha256(packet.encode()) == case["datagram_sha256"] and len(packet.encode()) == case["datagram_len"]
        assert parse_datagram(packet.encode()) == packet
    for case in planes["rumble"]["datagrams"]:
        rumble = Rumble(pad=case["pad"], low=case["low"], high=case["high"])
        assert rumble.encode().hex() == case["datagram_hex"] and parse_datagram(rumble.encode()) == rumble
    for plane, kind in (("input", InputEvent), ("audio", AudioPacket), ("rumble", Rumble)):
        for case in planes[plane]["decode"]:
            try:
                got = parse_datagram(bytes.fromhex(case["bytes_hex"]))
            except ProtocolError:
                got = None
            assert isinstance(got, kind) == case["result"]["ok"], case["name"]
            if isinstance(got, kind):
                fields = {k: v for k, v in case["result"].items() if k != "ok"}
                if "payload_hex" in fields:
                    fields["payload"] = bytes.fromhex(fields.pop("payload_hex"))
                assert got == kind(**fields), case["name"]
    for case in planes["fingerprint"]:
        assert fingerprint(case["der_utf8"].encode()) == case["fingerprint_hex"]


@pytest.mark.parametrize("native", NATIVE)
def test_crypto(native: bool) -> None:
    for case in vectors()["crypto"]:
        key, salt, seq = bytes.fromhex(case["key_hex"]), bytes.fromhex(case["base_salt_hex"]), case["seq"]
        plaintext = bytes.fromhex(case["plaintext_hex"])
        wires = {}
        for role, field in ((HOST, "host_wire_hex"), (CLIENT, "client_wire_hex")):
            sealer = Sealer(key, salt, role, native=native)
            sealer.reserve(seq)
            wires[role] = sealer.seal(plaintext)
            assert wires[role].hex() == case[field], case["name"]
        checks = case["checks"]
        for role, other in ((HOST, CLIENT), (CLIENT, HOST)):
            assert Opener(key, salt, other, native=native).open(wires[role]) == (seq, plaintext)
            with pytest.raises(AuthError):
                Opener(key, salt, role, native=native).open(wires[role])
        assert checks["client_opens_host_seal"] and checks["host_opens_client_seal"]
        assert not checks["host_opens_own_seal"] and not checks["client_opens_own_seal"]
        if seq < 2**64 - 1:
            moved = (seq + 1).to_bytes(8, "big") + wires[HOST][8:]
            with pytest.raises(AuthError):
                Opener(key, salt, CLIENT, native=native).open(moved)
        flipped = bytearray(wires[HOST])
        flipped[-1] ^= 1
        with pytest.raises(AuthError):
            Opener(key, salt, CLIENT, native=native).open(bytes(flipped))


def _case_data(case: dict[str, Any]) -> np.ndarray:
    data = case["data"]
    k, n = data["count"], data["shard_bytes"]
    if "hex" in data:
        raw = b"".join(bytes.fromhex(h) for h in data["hex"])
    elif case["case"] in ("B", "B9"):
        raw = pattern(0, 65536) + bytes(k * n - 65536)
    else:  # F and L: the LCG
        raw = lcg_bytes(k * n)
    assert sha256(raw) == data["sha256"], case["case"]
    return np.frombuffer(raw, dtype=np.uint8).reshape(k, n)


@pytest.mark.parametrize("scheme", [GF8, GF16])
def test_fec_parity_and_reconstruction(scheme: int) -> None:
    name = "gf8" if scheme == GF8 else "gf16"
    engines = [engine_for(scheme)] + ([NumpyEngine()] if scheme == GF8 else [])
    for case in vectors()["fec"]["cases"]:
        result = case.get(name)
        if result is None or "error" in result:
            continue
        k, m = case["k"], case["m"]
        data = _case_data(case)
        for engine in engines:
            if engine.name.endswith("numpy") and k * data.shape[1] > 100_000:
                continue  # the reference engine is slow; ISA-L covers the big blocks
            shards = np.zeros((k + m, data.shape[1]), dtype=np.uint8)
            shards[:k] = data
            engine.encode_into(shards, k)
            assert sha256(shards[k:].tobytes()) == result["recovery"]["sha256"], (case["case"], engine.name)
            for trial in result["reconstruct"]:
                present = {i: shards[i].tobytes() for i in range(k + m) if i not in trial["lost"]}
                if not trial["ok"]:
                    with pytest.raises(ValueError):
                        recover(engine, k, m, present)
                    continue
                missing, rebuilt = recover(engine, k, m, present)
                restored = shards[:k].copy()
                restored[[i for i in trial["lost"] if i < k]] = 0
                if missing:
                    restored[missing] = rebuilt
                assert sha256(restored.tobytes()) == trial["restored_sha256"], (case["case"], trial["lost"])


def test_gf8_parity_matrices() -> None:
    for case in vectors()["fec"]["gf8_parity_matrices"]:
        rows = parity_rows(case["k"], case["m"])
        assert [bytes(r).hex() for r in rows] == case["rows_hex"]


def test_header_examples() -> None:
    for case in vectors()["video"]["header_examples"]:
        header = PacketHeader(**case["header"])
        assert header.encode().hex() == case["hex"] and parse_header(bytes.fromhex(case["hex"])) == header


def _stream_wires(stream: dict[str, Any], native: bool | None = None) -> list[bytes]:
    packetizer = Packetizer(_welcome(stream["welcome"]).video_config(), native_aead=native)
    wires: list[bytes] = []
    for f in stream["frames"]:
        au = pattern(f["content"]["pattern_idx"], f["content"]["len"])
        assert sha256(au) == f["frame_sha256"]
        blocks = packetizer.packetize(au, pts_ns=f["pts_ns"], user_flags=f["user_flags"])
        wires += [bytes(d) for b in blocks for d in b.datagrams()]
    return wires


@pytest.mark.parametrize("native", NATIVE)
def test_video_sessions_datagram_by_datagram(native: bool) -> None:
    for stream in vectors()["video"]["streams"]:
        wires = _stream_wires(stream, native)
        assert len(wires) == stream["datagram_total"], stream["id"]
        assert sha256(b"".join(wires)) == stream["wires_concat_sha256"], stream["id"]
        for f in stream["frames"]:
            for d in f["datagrams"]:
                wire = wires[d["i"]]
                assert len(wire) == d["wire_len"] and sha256(wire) == d["wire_sha256"], (stream["id"], d["i"])
                if "wire_hex" in d:
                    assert wire.hex() == d["wire_hex"]


def test_reassembly_under_loss_reordering_and_tampering() -> None:
    streams = {s["id"]: s for s in vectors()["video"]["streams"]}
    wires = {sid: _stream_wires(s) for sid, s in streams.items()}
    for case in vectors()["reassembly"]:
        stream = streams[case["stream"]]
        reassembler = Reassembler(_welcome(stream["welcome"]).video_config())
        mutations = {m["position"]: m for m in case.get("mutations", [])}
        for position, index in enumerate(case["delivery"]):
            datagram = bytearray(wires[case["stream"]][index])
            mutation = mutations.get(position)
            if mutation is not None and mutation["op"] == "xor":
                datagram[mutation["byte"]] ^= mutation["xor"]
            elif mutation is not None and mutation["op"] == "truncate":
                del datagram[mutation["len"] :]
            elif mutation is not None and mutation["op"] == "append":
                datagram += bytes.fromhex(mutation["bytes_hex"])
            reassembler.receive_datagram(bytes(datagram), 0)
        emitted = []
        while (event := reassembler.next_event()) is not None:
            emitted.append({"frame_index": event.frame_index, "pts_ns": event.pts_ns, "user_flags": event.user_flags,
                            "len": len(event.data), "sha256": hashlib.sha256(event.data).hexdigest()})
        assert emitted == case["expected_frames"], case["id"]
        stats = reassembler.stats
        assert {name: getattr(stats, name) for name in case["client_stats"]} == case["client_stats"], case["id"]
