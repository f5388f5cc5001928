"""A bed's device made of a serial link and a protocol's codec.

The link (devices/transport.py) owns the port and reconnects; the codec (devices/protocols)
turns bytes into items. This class joins the two for any registered protocol: it sends the
protocol's host requests when the link is made and again when the monitor falls silent, feeds
what arrives to the codec and hands the items to the station. Real monitors and the virtual
one take this same path; only the port differs (devices/simulator/virtual_device.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from devices.protocols import Codec, HostReply
from devices.transport import LinkState, SerialLink, SerialSettings, Writer
from monitor.clock import Clock
from monitor.model import DeviceEvent, Reading, Source, Waveform
from monitor.ports import DeviceSink

log = logging.getLogger(__name__)

HostRequests = Callable[[int], Sequence[bytes]]
"""silences so far -> the bytes that make the monitor transmit."""


class CodecDevice:
    """Implements the station's Device protocol and the link's LinkProtocol."""

    source: Source = "live"

    def __init__(
        self,
        bed: str,
        settings: SerialSettings,
        codec: Codec,
        host_requests: HostRequests,
        expected_interval_s: dict[str, float],
        clock: Clock,
    ) -> None:
        self.bed = bed
        self.settings = settings
        self.decoder = codec  # one for the bed's life: it may remember state across reconnects
        self.host_requests = host_requests
        self.expected_interval_s = dict(expected_interval_s)
        self.clock = clock
        self.waveform_blocks = 0
        self._sink: DeviceSink | None = None
        self._writer: Writer | None = None  # for the replies a monitor's dialog asks for

    # -- Device --------------------------------------------------------------------------

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        self._sink = sink
        SerialLink(self.settings, self, self.clock).run(stop)

    def infusion_changed(self, mg_per_h: float) -> None:
        """A real monitor does not know the pump; nothing to tell it."""

    # -- LinkProtocol --------------------------------------------------------------------

    def _request(self, writer: Writer, attempt: int) -> None:
        for data in self.host_requests(attempt):
            writer.write(data)

    def connection_made(self, writer: Writer) -> None:
        self._writer = writer
        self.decoder.reset()
        self._request(writer, 0)

    def silence(self, writer: Writer, attempt: int) -> None:
        self._request(writer, attempt)

    def data_received(self, data: bytes) -> None:
        assert self._sink is not None
        for item in self.decoder.feed(data):
            if isinstance(item, (Reading, DeviceEvent, Waveform)):
                self._sink(item)
            elif isinstance(item, HostReply):
                if self._writer is not None:
                    self._writer.write(item.data)
            else:  # the protocol's own waveform block
                self.waveform_blocks += 1
                self._sink(item.waveform())

    def connection_lost(self, error: Exception | None) -> None:
        self._writer = None
        self.decoder.reset()

    def state_changed(self, state: LinkState, detail: str) -> None:
        if self._sink is not None:
            self._sink(
                DeviceEvent(
                    self.bed, self.clock.now(), "link", {"state": str(state), "detail": detail}
                )
            )
