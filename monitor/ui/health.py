"""`/health`: whether every bed's core is evaluating its alarms, for a supervisor or a probe.

200 with {"ok": true, "beds": {bed: seconds since its last evaluation}} while every bed's
watchdog tick ran lately, else 503 with the same body (a bed not yet evaluated shows null).
Public even with logins on (the gate lets it through): it tells nothing about any patient.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

from monitor.feed import LiveFeed


def register(server: Flask, feed: LiveFeed) -> None:
    @server.route("/health")
    def health() -> tuple[Response, int]:
        ok, ages = feed.health()
        beds = {bed: None if age is None else round(age, 3) for bed, age in ages.items()}
        response = jsonify(ok=ok, beds=beds)
        response.headers["Cache-Control"] = "no-store"
        return response, 200 if ok else 503
