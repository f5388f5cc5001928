"""Build the JSON bodies the Dash renderer posts to /_dash-update-component.

Used by the callback tests and the benches, so both send what a browser sends.
"""

from __future__ import annotations

import json
from typing import Any

from dash import Dash

from monitor.ui.tiles import BED_TILES

UPDATE_URL = "/_dash-update-component"


def callback_key(app: Dash, first_output: str) -> str:
    for key in app.callback_map:
        if key.lstrip(".").startswith(first_output):
            return key
    raise KeyError(first_output)


def _prop(ident: str | dict[str, Any], prop: str, value: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ident, "property": prop}
    if value is not None:
        out["value"] = value
    return out


def _changed(ident: str | dict[str, Any], prop: str) -> str:
    key = (
        ident
        if isinstance(ident, str)
        else json.dumps(ident, sort_keys=True, separators=(",", ":"))
    )
    return f"{key}.{prop}"


def callback_body(app: Dash, first_output: str, values: dict[str, Any]) -> dict[str, Any]:
    """Any callback's request as the page sends it: `values` by "id.property", the first of
    them the input that changed; pattern-matched inputs match no component."""
    key = callback_key(app, first_output)
    spec = app.callback_map[key]

    def item(dep: dict[str, Any]) -> Any:
        if str(dep["id"]).startswith("{"):
            return []
        return _prop(dep["id"], dep["property"], values.get(f"{dep['id']}.{dep['property']}"))

    if key.startswith(".."):  # several outputs: "..a.children...b.error.."
        outputs: Any = [_prop(*part.rsplit(".", 1)) for part in key[2:-2].split("...")]
    else:
        outputs = _prop(*key.split(".", 1))
    return {
        "output": key,
        "outputs": outputs,
        "inputs": [item(d) for d in spec["inputs"]],
        "state": [item(d) for d in spec["state"]],
        "changedPropIds": [next(iter(values))],
    }


def route_body(app: Dash, path: str) -> dict[str, Any]:
    return {
        "output": callback_key(app, "page.children"),
        "outputs": _prop("page", "children"),
        "inputs": [_prop("url", "pathname", path)],
        "changedPropIds": [_changed("url", "pathname")],
        "state": [],
    }


def bed_changes_body(app: Dash, bed: str, changes: dict[str, str]) -> dict[str, Any]:
    """What live.js triggers when the pushed state names a change: the server redraws the
    alarm list, the limit lines and the session form."""
    return {
        "output": callback_key(app, "bed-alarm-list.children"),
        "outputs": [
            _prop("bed-alarm-list", "children"),
            [_prop({"type": "bed-limits", "tile": t.key}, "children") for t in BED_TILES],
            _prop("session-panel", "className"),
        ],
        "inputs": [_prop("bed-changes", "data", changes)],
        "changedPropIds": [_changed("bed-changes", "data")],
        "state": [_prop("bed-cursor", "data", {"bed": bed})],
    }


def find_component(tree: Any, component_id: str) -> dict[str, Any] | None:
    """Depth-first search of a serialised layout for the component with this id."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and props.get("id") == component_id:
            return tree
        for value in (props or {}).values() if isinstance(props, dict) else tree.values():
            found = find_component(value, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for item in tree:
            found = find_component(item, component_id)
            if found is not None:
                return found
    return None


def alarm_command_body(app: Dash, bed: str, button: str) -> dict[str, Any]:
    """Press 'bed-ack', 'bed-pause' or 'bed-reset' on a bed page."""
    buttons = ("bed-ack", "bed-pause", "bed-reset")
    return {
        "output": callback_key(app, "bed-alarm-msg.children"),
        "outputs": _prop("bed-alarm-msg", "children"),
        "inputs": [_prop(b, "n_clicks", 1 if b == button else None) for b in buttons],
        "changedPropIds": [_changed(button, "n_clicks")],
        "state": [_prop("bed-cursor", "data", {"bed": bed})],
    }


SESSION_FIELDS = (
    ("s-patient", "value"),
    ("s-weight", "value"),
    ("s-indication", "value"),
    ("s-regimen", "value"),
    ("s-plan-rate", "value"),
    ("s-conc", "value"),
    ("s-duration", "value"),
    ("s-pre", "value"),
    ("s-override", "value"),
    ("s-new-rate", "value"),
    ("s-bolus-dose", "value"),
    ("s-med-drug", "value"),
    ("s-med-dose", "value"),
    ("s-rass", "value"),
    ("s-moaas", "value"),
    *((f"s-cadss-{i}", "value") for i in range(6)),
    ("s-nausea", "value"),
    ("s-pain", "value"),
    ("s-note", "value"),
    ("s-ticked", "value"),
    ("s-discharge-override", "value"),
    ("s-close-reason", "value"),
)


def session_body(app: Dash, bed: str, button: str, **fields: Any) -> dict[str, Any]:
    """Press one of the session panel's buttons ('s-create', 's-start', ...) with field values
    given by id without the 's-' prefix and with _ for - (weight=72, plan_rate=0.5)."""
    from monitor.ui.form_errors import FIELDS
    from monitor.ui.session_panel import COMMANDS

    values = {f"s-{k.replace('_', '-')}": v for k, v in fields.items()}
    return {
        "output": callback_key(app, "s-msg.children"),
        "outputs": [_prop("s-msg", "children"), _prop("s-msg", "className")]
        + [_prop(f, "error") for f in FIELDS],
        "inputs": [_prop(c, "n_clicks", 1 if c == button else None) for c in COMMANDS],
        "changedPropIds": [_changed(button, "n_clicks")],
        "state": [_prop("bed-cursor", "data", {"bed": bed})]
        + [_prop(i, p, values.get(i)) for i, p in SESSION_FIELDS],
    }
