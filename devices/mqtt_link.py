"""A paho client set up from a `broker:` config entry: credentials, TLS, reconnect pacing.

The agent and the central station's mqtt beds both connect this way. paho keeps the
connection (keep-alive, reconnect with backoff, resending unacknowledged QoS-1 messages);
nothing here re-implements that.
"""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from monitor.device_config import Broker

RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 4.0  # a broker back after an outage is found fast


def make_client(broker: Broker, client_id: str, clean_session: bool = True) -> mqtt.Client:
    """`clean_session=False` asks the broker to keep the client's subscriptions and queue its
    QoS-1 messages while it is away (the recorder's case, simulator-and-scale.md §2.3)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,  # 3.1.1 keeps the NATS/VerneMQ broker tiers open (§2.8)
        clean_session=clean_session,
    )
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.secret())
    if broker.tls is not None:
        client.tls_set(
            ca_certs=broker.tls.ca_file,
            certfile=broker.tls.cert_file,
            keyfile=broker.tls.key_file,
        )
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
    return client


def start(client: mqtt.Client, broker: Broker) -> None:
    """Connect in the background; paho's thread keeps retrying until the broker answers."""
    client.connect_async(broker.host, broker.port, keepalive=broker.keepalive_s)
    client.loop_start()
