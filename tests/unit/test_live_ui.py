"""The pure builders behind the live pages: tiles, freshness, banner, extendData."""

from __future__ import annotations

from monitor.feed import BedInfo, BedSnapshot
from monitor.model import ActiveAlarm, Priority, Reading
from monitor.ui import live
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
    fresh = live.freshness(_snap(latest, status, []), BED_TILES, per_bed=False)
    assert fresh["age"]["HR"] == 2.0
    assert fresh["age"]["SPO2"] == 1.0  # a current status is as fresh as the feed
    assert fresh["age"]["TEMP"] is None  # never seen: NO DATA
    assert fresh["limit"]["NIBP"] == 360.0 and fresh["limit"]["HR"] == 3.0


def test_nibp_tile_and_alarm_colour() -> None:
    latest = {
        s: Reading("b", T0, s, v, "mmHg")
        for s, v in (("NIBP_SYS", 182), ("NIBP_DIA", 95), ("NIBP_MEAN", 124))
    }
    alarm = ActiveAlarm("NIBP_SYS_VERY_HIGH", "NIBP_SYS", Priority.HIGH, T0, 182, 182, 180, ">=")
    assert live.tile_texts(BED_TILES, latest)[2] == "182/95"
    assert live.tile_subs(BED_TILES, latest, {})[2] == "(124)"
    fresh = live.freshness(_snap(latest, {}, [alarm]), BED_TILES, per_bed=True)
    assert fresh["alarm"] == {"b|NIBP": "high"}
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
