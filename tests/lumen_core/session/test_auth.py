"""Client authentication and PIN pairing in the session cores, sans-IO (extension
version 2): the challenge, the proof, the SPAKE2 exchange and every way each can fail.
The same exchanges over real QUIC, with the host's policy and stores, are in
test_pairing.py."""

from __future__ import annotations

import os
import random
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from session_pair import CLIENT, KEY, OFFER, Pair, of

from lumen_core.control import (
    AuthChallenge,
    AuthProof,
    GoodbyeCode,
    Hello,
    HelloExtension,
    PairConfirm,
    decode_message,
    encode_block,
    frame,
)
from lumen_core.control.framing import FrameReader
from lumen_core.session import EXTENDED_V1, EXTENDED_V2, ClientSession, HostSession
from lumen_core.session.auth import (
    PairingExchange,
    key_id,
    parse_pin_code,
    public_key_bytes,
    sign_proof,
    verify_proof,
)
from lumen_core.session.events import HelloReceived, Paired, PairingRequested, PairingSucceeded, SessionEnded

HOST_FP = "ab" * 32
OTHER_FP = "cd" * 32
PIN = "123456"


def keyed(identity: Ed25519PrivateKey | None = None, pin: str | None = None) -> Pair:
    client = replace(CLIENT, identity=identity or Ed25519PrivateKey.generate(), pair_pin=pin)
    return Pair(ClientSession(client), HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0))


def ended(events: list[object]) -> SessionEnded:
    [end] = of(SessionEnded, events)
    return end


def host_messages(p: Pair) -> list[object]:
    return [decode_message(m) for m in FrameReader().feed(p.host.control_data_to_send())]


def test_a_keyed_client_proves_its_key_before_the_welcome() -> None:
    identity = Ed25519PrivateKey.generate()
    p = keyed(identity)
    p.client.connect(p.now, HOST_FP)
    p.pump()
    [hello] = of(HelloReceived, p.host_events)
    assert hello.mode == EXTENDED_V2 and hello.client_key == public_key_bytes(identity)
    assert p.client.authenticated
    p.host.accept(p.now, width=1280, height=720, refresh_hz=60)
    p.pump()
    assert p.client.streaming and p.host.streaming


def test_a_client_without_a_key_is_not_challenged() -> None:
    p = Pair(ClientSession(CLIENT), HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0))
    p.client.connect(p.now, HOST_FP)
    p.pump()
    [hello] = of(HelloReceived, p.host_events)
    assert hello.client_key is None and not p.client.authenticated


def test_a_version_1_client_runs_version_1_without_a_challenge() -> None:
    host = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    block = encode_block(HelloExtension(codecs=b"\x01", client_key=os.urandom(32)), 1)
    host.receive_control(frame(Hello(width=1280, height=720, refresh_hz=60).encode() + block), 0.0)
    [hello] = of(HelloReceived, list(iter(host.next_event, None)))
    assert hello.mode == EXTENDED_V1 and hello.client_key is None
    assert host.control_data_to_send() == b""


def forged_hello(claimed_key: bytes, pair: bytes | None = None) -> bytes:
    block = encode_block(HelloExtension(codecs=b"\x01", client_name="mallory", client_key=claimed_key, pair=pair))
    return frame(Hello(width=1280, height=720, refresh_hz=60).encode() + block)


def test_another_clients_public_key_without_its_private_key_is_refused() -> None:
    victim = public_key_bytes(Ed25519PrivateKey.generate())
    mallory = Ed25519PrivateKey.generate()
    host = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    host.receive_control(forged_hello(victim), 0.0)
    [challenge] = [decode_message(m) for m in FrameReader().feed(host.control_data_to_send())]
    assert isinstance(challenge, AuthChallenge)
    # Mallory signs with the key she has: the proof is not the victim's.
    host.receive_control(AuthProof(signature=sign_proof(mallory, challenge.nonce, HOST_FP)).encode(), 0.0)
    events = list(iter(host.next_event, None))
    assert not of(HelloReceived, events)
    end = ended(events)
    assert end.code == GoodbyeCode.PROTOCOL_ERROR and "does not verify" in end.reason


def test_a_recorded_proof_does_not_open_a_second_connection() -> None:
    identity = Ed25519PrivateKey.generate()
    first = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    first.receive_control(forged_hello(public_key_bytes(identity)), 0.0)
    [challenge] = [decode_message(m) for m in FrameReader().feed(first.control_data_to_send())]
    assert isinstance(challenge, AuthChallenge)
    recorded = AuthProof(signature=sign_proof(identity, challenge.nonce, HOST_FP)).encode()
    second = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    second.receive_control(forged_hello(public_key_bytes(identity)) + recorded, 0.0)
    events = list(iter(second.next_event, None))
    assert not of(HelloReceived, events) and ended(events).code == GoodbyeCode.PROTOCOL_ERROR


def test_a_proof_made_for_another_host_fingerprint_is_refused() -> None:
    """A relay in the middle has its own certificate: the proof names that one."""
    identity = Ed25519PrivateKey.generate()
    p = keyed(identity)
    p.client.connect(p.now, OTHER_FP)  # the certificate the client saw was not the host's
    p.pump()
    assert not of(HelloReceived, p.host_events)
    assert ended(p.host_events).code == GoodbyeCode.PROTOCOL_ERROR
    assert "does not verify" in ended(p.client_events).reason


def test_proof_primitives_reject_what_is_not_a_proof() -> None:
    identity = Ed25519PrivateKey.generate()
    key, nonce = public_key_bytes(identity), os.urandom(32)
    good = sign_proof(identity, nonce, HOST_FP)
    assert verify_proof(key, good, nonce, HOST_FP)
    assert not verify_proof(key, good, os.urandom(32), HOST_FP)
    assert not verify_proof(key, good, nonce, OTHER_FP)
    assert not verify_proof(key, bytes(64), nonce, HOST_FP)
    assert not verify_proof(b"\xff" * 32, good, nonce, HOST_FP)  # not a point on the curve
    assert len(key_id(key)) == 19 and key_id(key) != key_id(public_key_bytes(Ed25519PrivateKey.generate()))


# -- pairing ------------------------------------------------------------------------


def test_pairing_with_the_right_pin_authorizes_the_client_and_pins_the_host() -> None:
    identity = Ed25519PrivateKey.generate()
    p = keyed(identity, pin=PIN)
    p.client.connect(p.now, HOST_FP)
    p.pump()
    [asked] = of(PairingRequested, p.host_events)
    assert asked.client_key == public_key_bytes(identity) and asked.client_name == "test client"
    assert not of(HelloReceived, p.host_events)
    p.host.answer_pairing(PIN, p.now)
    p.pump()
    [done] = of(PairingSucceeded, p.host_events)
    assert done.client_key == public_key_bytes(identity)
    assert not p.client.ended  # nothing is final until the host has stored the client
    p.host.finish_pairing(p.now)
    p.pump()
    assert of(Paired, p.client_events) == [Paired(host_fingerprint=HOST_FP)]
    assert not ended(p.client_events).error and not ended(p.host_events).error
    assert not p.client.streaming and not p.host.streaming


def test_a_wrong_pin_fails_on_both_sides_and_the_host_never_hears_success() -> None:
    p = keyed(pin="654321")
    p.client.connect(p.now, HOST_FP)
    p.pump()
    p.host.answer_pairing(PIN, p.now)
    p.pump()
    assert not of(PairingSucceeded, p.host_events) and not of(Paired, p.client_events)
    client_end, host_end = ended(p.client_events), ended(p.host_events)
    assert client_end.error and client_end.code == GoodbyeCode.PAIRING_FAILED and "wrong PIN" in client_end.reason
    assert host_end.error and host_end.code == GoodbyeCode.PAIRING_FAILED


def test_a_forged_client_confirmation_is_refused_by_the_host() -> None:
    """A client that skips the key check and answers anything learns nothing and gets
    nothing: the host checks the confirmation itself."""
    identity = Ed25519PrivateKey.generate()
    exchange = PairingExchange("client", "000000", public_key_bytes(identity), HOST_FP)
    host = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    host.receive_control(forged_hello(public_key_bytes(identity), pair=exchange.message), 0.0)
    [challenge] = [decode_message(m) for m in FrameReader().feed(host.control_data_to_send())]
    assert isinstance(challenge, AuthChallenge)
    host.receive_control(AuthProof(signature=sign_proof(identity, challenge.nonce, HOST_FP)).encode(), 0.0)
    assert of(PairingRequested, list(iter(host.next_event, None)))
    host.answer_pairing(PIN, 0.0)
    host.receive_control(PairConfirm(confirm=os.urandom(32)).encode(), 0.0)
    events = list(iter(host.next_event, None))
    assert not of(PairingSucceeded, events) and ended(events).code == GoodbyeCode.PAIRING_FAILED


def test_a_pairing_message_that_is_not_a_spake2_element_is_refused_cleanly() -> None:
    identity = Ed25519PrivateKey.generate()
    host = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    host.receive_control(forged_hello(public_key_bytes(identity), pair=b"B" + b"\xff" * 32), 0.0)
    [challenge] = [decode_message(m) for m in FrameReader().feed(host.control_data_to_send())]
    host.receive_control(AuthProof(signature=sign_proof(identity, challenge.nonce, HOST_FP)).encode(), 0.0)
    list(iter(host.next_event, None))
    host.answer_pairing(PIN, 0.0)
    events = list(iter(host.next_event, None))
    end = ended(events)
    assert end.code == GoodbyeCode.PAIRING_FAILED and "not valid" in end.reason


def test_pairing_without_a_key_is_a_protocol_error() -> None:
    host = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    block = encode_block(HelloExtension(codecs=b"\x01", pair=bytes(33)))
    host.receive_control(frame(Hello(width=1280, height=720, refresh_hz=60).encode() + block), 0.0)
    end = ended(list(iter(host.next_event, None)))
    assert end.code == GoodbyeCode.PROTOCOL_ERROR and "client key" in end.reason


def test_an_abandoned_pairing_times_out_with_nothing_authorized() -> None:
    p = keyed(pin=PIN)
    p.client.connect(p.now, HOST_FP)
    p.pump()
    p.host.answer_pairing(PIN, p.now)
    p.client_cut = True  # the client's confirmation never arrives
    p.pump()
    p.advance(11.0)
    assert not of(PairingSucceeded, p.host_events)
    assert ended(p.host_events).code == GoodbyeCode.TIMEOUT


@pytest.mark.parametrize("seed", range(40))
def test_arbitrary_bytes_during_the_key_challenge_end_the_handshake_with_a_protocol_error(seed: int) -> None:
    rng = random.Random(seed)
    host = HostSession(replace(OFFER, fingerprint=HOST_FP), key=KEY, now=0.0)
    host.receive_control(forged_hello(public_key_bytes(Ed25519PrivateKey.generate())), 0.0)
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
    host.receive_control(frame(b"LMNE" + junk) if seed % 2 else frame(junk), 0.0)
    events = list(iter(host.next_event, None))
    assert not of(HelloReceived, events)
    if host.ended:  # a message it understood as wrong, or bytes that are no message
        assert ended(events).code == GoodbyeCode.PROTOCOL_ERROR
    else:  # an unknown message type: a newer client's, ignored; the challenge still stands
        assert type(decode_message(b"LMNE" + junk)).__name__ == "UnknownMessage"


@pytest.mark.parametrize(("text", "digits"), [("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456")])
def test_pins_are_read_the_way_people_type_them(text: str, digits: str) -> None:
    assert parse_pin_code(text) == digits


@pytest.mark.parametrize("text", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_pins_that_are_not_six_digits_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="6 digits"):
        parse_pin_code(text)
