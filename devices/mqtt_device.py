"""A central station's bed whose chair publishes over MQTT (kind: mqtt).

It subscribes to the chair's topics and hands the station's bed core what the agent read, so
alarms, sessions and gates run here exactly as for a local bed. Each message is taken once
(per run and seq), whatever a QoS-1 redelivery or a spool replay sends again. A chair that is
gone (its retained or last-will `offline`, or silent for twice its keep-alive) is a lost link:
the same technical alarm as a serial port that vanished, named "chair offline". A simulated
chair is told the pump rate, boluses and the trainee's actions through its `cmd` topic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

import paho.mqtt.client as mqtt

from devices import mqtt_link
from devices.link_watch import LinkWatch
from devices.mqtt_codec import OFFLINE, Dedupe, Encoder, PayloadError, Topics, decode
from devices.simulator.inprocess import CONTINUOUS, CUFF
from monitor.clock import Clock
from monitor.device_config import MqttDevice
from monitor.model import Source
from monitor.ports import DeviceSink

log = logging.getLogger(__name__)

SILENT_FACTOR = 2.0  # keep-alives without a message before the chair counts as offline
CHECK_S = 0.25
# A message is acknowledged to the broker only this long after it was handed to the bed: by
# then the store (which writes at least once a second) holds it. If this station dies first,
# the broker sends it again to the station that comes back, and the record misses nothing.
ACK_AFTER_S = 2.0
SUBSCRIBED = ("status", "numerics", "wave", "events")


class MqttChair:
    """Implements the station's Device (and Dosable, for a simulated chair)."""

    def __init__(self, bed: str, config: MqttDevice, clock: Clock) -> None:
        self.bed, self.config, self.clock = bed, config, clock
        self.source: Source = config.source
        self.expected_interval_s = dict.fromkeys(CONTINUOUS, config.interval_s)
        self.expected_interval_s.update(dict.fromkeys(CUFF, config.nibp_interval_s))
        self.topics = Topics(config.clinic, config.topic_id or bed)
        self.dedupe = Dedupe()
        self.bad_payloads = 0
        self.commands = Encoder(bed)  # the central's own numbering of its commands
        silent_after_s = SILENT_FACTOR * config.broker.keepalive_s
        self.watch = LinkWatch(bed, clock, silent_after_s, "chair offline")
        self._lock = threading.Lock()
        self._sink: DeviceSink | None = None
        self._client: mqtt.Client | None = None
        self._mg_per_h: float | None = None
        self._unacked: deque[tuple[float, int, int]] = deque()  # (due, mid, qos)

    # -- Device ---------------------------------------------------------------------------

    def run(self, sink: DeviceSink, stop: threading.Event) -> None:
        self._sink = self.watch.sink = sink
        self.watch.heard()  # silence counts from when we start listening
        # One lasting broker session per bed: what the chair publishes while this station is
        # down (a crash, a restart) is queued by the broker and arrives when it is back.
        client = mqtt_link.make_client(
            self.config.broker, f"central-{self.topics.clinic}-{self.topics.bed}", False
        )
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.manual_ack_set(True)
        self._client = client
        mqtt_link.start(client, self.config.broker)
        try:
            while not self.clock.sleep(CHECK_S, stop):
                self.watch.check_silence()
                self._acknowledge(client, time.monotonic())
        finally:
            self._client = None
            client.disconnect()
            client.loop_stop()

    def infusion_changed(self, mg_per_h: float) -> None:
        self._mg_per_h = mg_per_h
        self.send("infusion", mg_per_h=mg_per_h)

    def bolus(self, mg: float) -> None:
        self.send("bolus", mg=mg)

    def trainee_action(self, action: str, detail: str = "") -> None:
        self.send("trainee_action", action=action, detail=detail)

    # -- paho's thread --------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("bed %s: broker refused the connection: %s", self.bed, reason)
            return
        client.subscribe([(self.topics.of(ch), 1) for ch in SUBSCRIBED])

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.qos:
            with self._lock:
                self._unacked.append((time.monotonic() + ACK_AFTER_S, msg.mid, msg.qos))
        try:
            channel = self.topics.channel(msg.topic)
            message = decode(channel, msg.payload, self.topics.bed)
        except PayloadError as err:
            self.bad_payloads += 1
            if self.bad_payloads == 1 or self.bad_payloads % 100 == 0:
                log.warning("bed %s: %s (%d bad so far)", self.bed, err, self.bad_payloads)
            return
        if channel == "status":
            if message.state == OFFLINE:
                self.watch.change(False, "chair offline: the agent has gone")
            elif message.source != self.source:
                self.watch.change(
                    False, f"chair offline: it is {message.source}, the bed {self.source}"
                )
            else:
                self.watch.heard()
                if self.watch.change(True, "chair online") and self._mg_per_h is not None:
                    self.send("infusion", mg_per_h=self._mg_per_h)  # it may have missed it
            return
        self.watch.heard()
        self.watch.change(True, "chair online")
        if not self.dedupe.fresh(message):
            return
        assert self._sink is not None
        for item in message.items:
            self._sink(item)

    # -- helpers --------------------------------------------------------------------------

    def _acknowledge(self, client: mqtt.Client, now: float) -> None:
        """PUBACK what the store has had time to write (see ACK_AFTER_S)."""
        with self._lock:
            due = []
            while self._unacked and self._unacked[0][0] <= now:
                due.append(self._unacked.popleft())
        for _, mid, qos in due:
            client.ack(mid, qos)

    def send(self, name: str, **args: Any) -> None:
        """Only a simulated chair takes commands; a real monitor knows no pump."""
        client = self._client
        if self.source != "simulated" or client is None:
            return
        payload = self.commands.command(name, self.clock.now(), **args)
        client.publish(self.topics.of("cmd"), payload, qos=1)
