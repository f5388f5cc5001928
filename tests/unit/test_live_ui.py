"""The pure builders behind the live pages: tiles, their times and limits, banner, extendData."""

from __future__ import annotations

from monitor.feed import BedInfo, BedSnapshot
from monitor.model import ActiveAlarm, Priority, Reading
from monitor.ui import frames, live
from monitor.ui.tiles import BED_TILES

T0 = 1_767_225_600.0
BED = BedInfo("b", "B", "live", {"HR": 1.0, "SPO2": 1.0, "NIBP_SYS": 180.0}, "e")


def _snap(
    latest: dict[str, Reading],
    status: dict[str, str],
    alarms: list[ActiveAlarm],
    now: float = T0 + 2,
) -> BedSnapshot:
    return BedSnapshot(BED, now, latest, alarms, None, {}, 1, status, T0 + 1, None, 0.0)


def test_status_shows_dashes_and_the_reason() -> None:
    latest = {"HR": Reading("b", T0, "HR", 72, "/min")}
    status = {"SPO2": "over range"}
    texts = dict(zip([t.key for t in BED_TILES], live.tile_texts(BED_TILES, latest), strict=True))
    subs = dict(
        zip([t.key for t in BED_TILES], live.tile_subs(BED_TILES, latest, status), strict=True)
    )
    assert (texts["HR"], texts["SPO2"], subs["SPO2"]) == ("72", "---", "over range")
    tiles = frames.tiles(_snap(latest, status, []))  # what live.js ages on the browser's clock
    assert tiles["HR"]["t"] == T0
    assert tiles["SPO2"]["t"] == T0 + 1  # a current status is as fresh as the feed
    assert tiles["TEMP"]["t"] is None  # never seen: NO DATA
    assert tiles["NIBP"]["lim"] == 360.0 and tiles["HR"]["lim"] == 3.0


def test_nibp_tile_and_alarm_colour() -> None:
    latest = {
        s: Reading("b", T0, s, v, "mmHg")
        for s, v in (("NIBP_SYS", 182), ("NIBP_DIA", 95), ("NIBP_MEAN", 124))
    }
    alarm = ActiveAlarm("NIBP_SYS_VERY_HIGH", "NIBP_SYS", Priority.HIGH, T0, 182, 182, 180, ">=")
    assert live.tile_texts(BED_TILES, latest)[2] == "182/95"
    assert live.tile_subs(BED_TILES, latest, {})[2] == "(124)"
    tiles = frames.tiles(_snap(latest, {}, [alarm]))
    assert {k for k, t in tiles.items() if t["alarm"]} == {"NIBP"}
    assert tiles["NIBP"]["alarm"] == "high" and tiles["NIBP"]["long"] is False
    lines, cls = live.banner([alarm])
    assert (lines, cls) == (["*** NBP sys 182 ≥ 180"], "banner banner-high")
    assert live.banner([]) == ([], "banner banner-none")


def test_extend_data_groups_points_per_trace() -> None:
    readings = [Reading("b", T0 + i, "HR", 70 + i, "/min") for i in range(3)]
    readings.append(Reading("b", T0 + 3, "NIBP_SYS", 120, "mmHg"))
    update, indices, max_points = live.extend_data(readings, BED)  # type: ignore[misc]
    hr, nibp = live.TRACE_INDEX["HR"], live.TRACE_INDEX["NIBP_SYS"]
    assert indices == [hr, nibp]
    assert update["y"] == [[70, 71, 72], [120]]
    assert update["x"][0][0] == round(T0 * 1000)
    assert max_points == {"x": [902, 7], "y": [902, 7]}
    assert live.extend_data([], BED) is None


def test_the_infusion_strip_shows_the_pumps_rate_beside_the_charted_one() -> None:
    from monitor.session import Phase, SessionView
    from monitor.ui.session_text import infusion_strip

    def view(pump: float | None, phase: Phase = Phase.INFUSING) -> SessionView:
        return SessionView(phase, "K-1", 0.5, 3.5, 12.0, 0.17, {}, [], 1_000_600.0, 90.0,
                           80.0, {}, 1, 1_000_000.0, None, pump)  # fmt: skip

    items = {label: (value, cls) for label, value, cls in infusion_strip(view(3.5), 1_000_100.0)}
    assert items["Rate"] == ("0.5 mg/kg/h · 3.5 mL/h", "") and items["Pump"] == ("3.5 mL/h", "")
    assert items["Next assessment"] == ("in 8:20", "")
    off = dict((k, c) for k, _, c in infusion_strip(view(5.0), 1_000_100.0))
    assert off["Pump"] == "strip-warn"  # 43 % over the chart
    paused = dict((k, c) for k, _, c in infusion_strip(view(3.5, Phase.PAUSED), 1_000_100.0))
    assert paused["Pump"] == "strip-warn"  # still running while the chart says paused
    assert "Pump" not in {k for k, _, _ in infusion_strip(view(None), 1_000_100.0)}
