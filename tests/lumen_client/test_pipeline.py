"""The client's stages: a sink is opened, fed and closed; Tee keeps that order for each of
its sinks; Sinks lists the ones a session has."""

from __future__ import annotations

from lumen_client.pipeline import NO_SINKS, Each, Rumble, Sinks, Tee


class Recorder:
    """A sink that writes down what it was asked to do."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def open(self) -> None:
        self.log.append(f"{self.name} open")

    def push(self, item: int) -> None:
        self.log.append(f"{self.name} {item}")

    def close(self) -> None:
        self.log.append(f"{self.name} close")


def test_each_hands_every_item_to_its_function() -> None:
    seen: list[int] = []
    sink = Each(seen.append)
    sink.open()
    for i in range(3):
        sink.push(i)
    sink.close()
    assert seen == [0, 1, 2]


def test_a_tee_feeds_its_sinks_in_order() -> None:
    log: list[str] = []
    tee = Tee(Recorder("a", log), Recorder("b", log))
    tee.open()
    tee.push(7)
    tee.close()
    assert log == ["a open", "b open", "a 7", "b 7", "a close", "b close"]


def test_sinks_lists_only_the_stages_present() -> None:
    rumble = Each[Rumble](lambda r: None)
    assert NO_SINKS.all() == [] and Sinks(rumble=rumble).all() == [rumble]
    video, audio = Each(print), Each(print)
    assert Sinks(video=video, audio=audio, rumble=rumble).all() == [video, audio, rumble]
