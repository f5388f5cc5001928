"""The debrief in words: flapping alarms folded, harmful actions flagged, the trend chart
drawn with SVG traces in the bedside colours."""

from __future__ import annotations

from monitor.signals import colour, label
from monitor.training import ChecklistItem, Debrief, TimelineEntry, fold_flaps, result_words
from monitor.ui.pages.debrief import trend_figure

T0 = 1_000_000.0


def test_repeated_onsets_of_one_alarm_fold_into_one_line_with_a_count() -> None:
    flaps = [
        TimelineEntry(T0 + 120 + 60 * i, "alarm", "SPO2_LOW medium", "SPO2_LOW") for i in range(7)
    ]
    timeline = [
        TimelineEntry(T0, "state", "infusing (start)"),
        *flaps[:3],
        TimelineEntry(T0 + 250, "trainee", "acknowledge SPO2_LOW"),
        *flaps[3:],
        TimelineEntry(T0 + 2000, "alarm", "SPO2_LOW medium", "SPO2_LOW"),  # a new episode
        TimelineEntry(T0 + 2001, "alarm", "HR_HIGH medium", "HR_HIGH"),
    ]
    folded = fold_flaps(timeline, T0)
    assert [e.text for e in folded] == [
        "infusing (start)",
        "SPO2_LOW ×7 between 02:00 and 08:00",
        "acknowledge SPO2_LOW",
        "SPO2_LOW medium",
        "HR_HIGH medium",
    ]


def test_a_harmful_action_reads_as_flagged() -> None:
    taken = ChecklistItem("Do not give a drug", "give", "not avoided", -10, 0, 12.0)
    assert result_words(taken) == "✗ avoided action taken: give a drug −10 points"
    done = ChecklistItem("Pause", "rate_reduced or pause_infusion", "done", 10, 10, 30.0)
    assert result_words(done) == "✓ done"


def test_the_trend_chart_is_svg_in_the_bedside_colours() -> None:
    trend = {
        "HR": [(T0 + s, 70.0 + s) for s in range(5)],
        "SPO2": [(T0 + s, 98.0) for s in range(5)],
        "NIBP_SYS": [(T0 + 60, 120.0)],
        "NIBP_DIA": [(T0 + 60, 80.0)],
        "RR": [(T0 + s, 14.0) for s in range(5)],
        "RATE": [(T0 + 30, 0.35)],
    }
    figure = trend_figure(Debrief("x", "X", T0, [], [], trend))
    traces = {tr["name"]: tr for tr in figure["data"]}
    assert {tr["type"] for tr in figure["data"]} == {"scatter"}  # never scattergl (CSP)
    for code in ("HR", "SPO2", "NIBP_SYS", "NIBP_DIA", "RR"):
        assert traces[label(code)]["line"]["color"] == colour(code)
    assert traces["SpO₂"]["y"] == [98.0] * 5 and traces["Rate"]["x"] == [0.5]
