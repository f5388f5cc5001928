"""A live channel: numbered messages a viewer resumes from, and when it needs a fresh start."""

from __future__ import annotations

from monitor.ui.broadcast import RING, Channel


def test_a_viewer_resumes_after_its_last_message() -> None:
    channel = Channel()
    for i in range(3):
        channel.publish({"i": i})
    items, complete = channel.after(1)
    assert complete and [n for n, _, _ in items] == [2, 3]
    assert b'"i":1' in items[0][2] and items[0][1].startswith(b"id: 2\nevent: frame\n")
    assert channel.after(3) == ([], True)  # up to date


def test_a_viewer_too_far_behind_or_from_before_a_restart_starts_afresh() -> None:
    channel = Channel()
    for i in range(RING + 5):
        channel.publish({"i": i})
    assert channel.after(2)[1] is False  # the ring no longer holds what it missed
    assert channel.after(channel.last + 100) == ([], False)  # numbered by an older run


def test_waiting_ends_with_news_or_when_the_channel_closes() -> None:
    channel = Channel()
    assert channel.wait(0, 0.01) is False
    channel.publish({})
    assert channel.wait(0, 0.01) is True
    channel.close()
    assert channel.wait(1, 0.01) is False and channel.closed
