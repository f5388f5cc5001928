"""The chair agent: runs one chair's device and publishes it over MQTT to the central station.

Readings go as one `numerics` message per second, device events on `events` (both QoS 1,
through the spool), pleth chunks on `wave` (QoS 0: a lost chunk is a gap in a strip, not in
the record). `status` is retained: `online` on connect, `offline` as the will and on a clean
stop. Commands on the chair's `cmd` topic reach a simulated device: the pump rate and
boluses, the training scenario and the instructor's and trainee's commands.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt

from devices import mqtt_link
from devices.agent_config import AgentConfig
from devices.mqtt_codec import OFFLINE, ONLINE, Dedupe, Encoder, Item, PayloadError, Topics, decode
from devices.spool import Spool
from monitor.clock import Clock
from monitor.model import Reading, Waveform
from monitor.ports import Device, Dosable, Trainable

log = logging.getLogger(__name__)

QUEUE_BOUND = 10_000  # items between the device thread and the publisher (~30 s of a chair)
IN_FLIGHT = 50  # spooled messages handed to paho before their PUBACKs come back
BATCH_WAIT_S = 0.2  # a second's readings are in one burst; flush when it has passed
DEVICE_RESTART_S = 2.0
STOP_PUBLISH_S = 2.0


class Agent:
    def __init__(self, config: AgentConfig, device: Device, clock: Clock) -> None:
        self.config, self.device, self.clock = config, device, clock
        self.topics = Topics(config.clinic, config.bed)
        self.encoder = Encoder(config.bed)
        self.spool = Spool(config.spool)
        self.items: queue.Queue[Item] = queue.Queue(QUEUE_BOUND)
        self.dropped_items = 0
        self.dropped_waves = 0  # while disconnected: QoS 0 is never spooled
        self.bad_commands = 0
        self.commands = Dedupe()
        self._batch: list[Reading] = []
        self._connected = threading.Event()
        self._acked: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._in_flight: dict[int, int] = {}  # paho mid -> spool row id
        self._last_sent = 0  # the highest spool row handed to paho
        self.client = mqtt_link.make_client(config.broker, f"agent-{config.bed}")
        status = self.topics.of("status")
        offline = self.encoder.status(OFFLINE, clock.now(), device.source)
        self.client.will_set(status, offline, qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    # -- paho's thread --------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("chair %s: broker refused the connection: %s", self.config.bed, reason)
            return
        client.subscribe(self.topics.of("cmd"), qos=1)
        online = self.encoder.status(ONLINE, self.clock.now(), self.device.source)
        client.publish(self.topics.of("status"), online, qos=1, retain=True)
        self._connected.set()
        log.info("chair %s: connected to %s", self.config.bed, self.config.broker.host)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        log.warning("chair %s: broker link lost (%s); spooling", self.config.bed, reason)

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        self._acked.put(mid)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            cmd = decode("cmd", msg.payload, self.config.bed)
        except PayloadError as err:
            self.bad_commands += 1
            log.warning("chair %s: command refused: %s", self.config.bed, err)
            return
        if not self.commands.fresh(cmd):  # a bolus redelivered must not be given twice
            return
        try:
            self.apply(cmd.command, cmd.args)
        except (ValueError, TypeError, KeyError) as err:
            self.bad_commands += 1
            log.warning("chair %s: command %s failed: %s", self.config.bed, cmd.command, err)

    def apply(self, command: str, args: dict[str, Any]) -> None:
        """One command from the central station to the chair's (simulated) device."""
        device = self.device
        if command == "infusion":
            device.infusion_changed(float(args["mg_per_h"]))
        elif command == "bolus" and isinstance(device, Dosable):
            device.bolus(float(args["mg"]))
        elif command == "scenario" and isinstance(device, Trainable):
            device.start_scenario(str(args["id"]))
        elif command == "instructor" and isinstance(device, Trainable):
            level = args.get("level")
            device.instructor(
                str(args["command"]), str(args["value"]), None if level is None else float(level)
            )
        elif command == "trainee_action" and isinstance(device, Trainable):
            device.trainee_action(str(args["action"]), str(args.get("detail", "")))
        else:
            raise ValueError(f"this chair's device takes no {command!r} command")

    # -- the device thread ----------------------------------------------------------------

    def _sink(self, item: Item) -> None:
        try:
            self.items.put_nowait(item)
        except queue.Full:
            self.dropped_items += 1
            if self.dropped_items == 1 or self.dropped_items % 1000 == 0:
                log.error("chair %s: %d items dropped", self.config.bed, self.dropped_items)

    def _run_device(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.device.run(self._sink, stop)
            except Exception:
                log.exception("chair %s: device loop failed; restarting", self.config.bed)
            if self.clock.sleep(DEVICE_RESTART_S, stop):
                return

    # -- the publisher (the calling thread) -----------------------------------------------

    def run(self, stop: threading.Event) -> None:
        mqtt_link.start(self.client, self.config.broker)
        reader = threading.Thread(target=self._run_device, args=(stop,), daemon=True,
                                  name=f"device-{self.config.bed}")  # fmt: skip
        reader.start()
        try:
            while not stop.is_set():
                try:
                    item = self.items.get(timeout=BATCH_WAIT_S)
                except queue.Empty:
                    self._flush()
                else:
                    self._take(item)
                self._send()
        finally:
            reader.join(timeout=5)
            self._close()

    def _take(self, item: Item) -> None:
        if isinstance(item, Reading):
            if self._batch and item.t != self._batch[0].t:
                self._flush()
            self._batch.append(item)
            return
        self._flush()
        if isinstance(item, Waveform):
            if self._connected.is_set():
                self.client.publish(self.topics.of("wave"), self.encoder.wave(item), qos=0)
            else:
                self.dropped_waves += 1
        else:
            self.spool.add(self.topics.of("events"), self.encoder.event(item))

    def _flush(self) -> None:
        if self._batch:
            self.spool.add(self.topics.of("numerics"), self.encoder.numerics(self._batch))
            self._batch = []

    def _send(self) -> None:
        """Forget what the broker acknowledged; hand paho the next spooled rows, in order.
        Rows paho already holds it resends itself after a reconnect."""
        done = []
        while not self._acked.empty():
            row = self._in_flight.pop(self._acked.get(), None)
            if row is not None:
                done.append(row)
        if done:
            self.spool.delete(done)
        if not self._connected.is_set() or len(self._in_flight) >= IN_FLIGHT:
            return
        room = IN_FLIGHT - len(self._in_flight)
        for row, topic, payload in self.spool.after(self._last_sent, room):
            info = self.client.publish(topic, payload, qos=1)
            self._in_flight[info.mid] = row
            self._last_sent = row

    def _close(self) -> None:
        """A clean stop: the rest of the batch to the spool, `offline` retained, disconnect."""
        self._flush()
        if self._connected.is_set():
            offline = self.encoder.status(OFFLINE, self.clock.now(), self.device.source)
            info = self.client.publish(self.topics.of("status"), offline, qos=1, retain=True)
            info.wait_for_publish(STOP_PUBLISH_S)
            self._send()
        self.client.disconnect()
        self.client.loop_stop()
        left = len(self.spool)
        self.spool.close()
        log.info("chair %s: stopped, %d messages left in the spool", self.config.bed, left)
