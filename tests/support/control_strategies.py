"""Hypothesis strategies for lumen's control messages, one per extended message type."""

from hypothesis import strategies as st

from lumen_core.control import (
    AuthChallenge,
    AuthProof,
    Goodbye,
    KeyframeRequest,
    PadArrival,
    PadRemoval,
    PairConfirm,
    PairReply,
    Ping,
    Pong,
    RateUpdate,
    ReliableInput,
    StatsReport,
)

u16 = st.integers(0, 2**16 - 1)


u32 = st.integers(0, 2**32 - 1)


u64 = st.integers(0, 2**64 - 1)


text = st.text(max_size=20)


STRATEGIES = {
    KeyframeRequest: st.builds(KeyframeRequest, last_frame=st.none() | u32),
    StatsReport: st.builds(StatsReport, frames_received=u64, frames_recovered=u64, frames_lost=u64,
                           frames_decoded=u64, decode_time_us=u32, keyframe_requests=st.none() | u64,
                           audio_packets=st.none() | u64, video_packets_expected=st.none() | u64,
                           video_packets_received=st.none() | u64, queue_delay_us=st.none() | u32),
    Ping: st.builds(Ping, token=u32, sent_ns=u64),
    Pong: st.builds(Pong, token=u32, ping_sent_ns=u64, peer_time_ns=u64),
    Goodbye: st.builds(Goodbye, code=u16, reason=text, retry_after_ms=st.none() | u32),
    ReliableInput: st.builds(ReliableInput, event=st.binary(min_size=18, max_size=18)),
    PadArrival: st.builds(PadArrival, pad=st.integers(0, 15), kind=st.integers(0, 3), buttons=u32,
                          capabilities=u16, name=text),
    PadRemoval: st.builds(PadRemoval, pad=st.integers(0, 15)),
    RateUpdate: st.builds(RateUpdate, bitrate_kbps=u32, fec_percent=st.integers(0, 1000),
                          reason=st.none() | st.text(max_size=20)),
    AuthChallenge: st.builds(AuthChallenge, nonce=st.binary(min_size=32, max_size=32)),
    AuthProof: st.builds(AuthProof, signature=st.binary(min_size=64, max_size=64)),
    PairReply: st.builds(PairReply, spake=st.binary(min_size=33, max_size=33),
                         confirm=st.binary(min_size=32, max_size=32)),
    PairConfirm: st.builds(PairConfirm, confirm=st.binary(min_size=32, max_size=32)),
}
