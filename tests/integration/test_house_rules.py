"""ARCHITECTURE.md rule 1: dependencies point one way."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _violations(folder: Path, banned: tuple[str, ...], skip: str | None = None) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        if skip and skip in path.relative_to(folder).parts:
            continue
        for name in _imports(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    return bad


def test_core_imports_neither_dash_nor_serial_nor_devices() -> None:
    assert (
        _violations(
            REPO / "monitor",
            ("dash", "dash_mantine_components", "plotly", "serial", "devices", "flask"),
            skip="ui",
        )
        == []
    )


def test_ui_imports_no_serial_and_no_devices() -> None:
    assert _violations(REPO / "monitor" / "ui", ("serial", "devices")) == []


def test_devices_know_nothing_of_the_web() -> None:
    assert (
        _violations(
            REPO / "devices", ("dash", "dash_mantine_components", "plotly", "flask", "monitor.ui")
        )
        == []
    )


def test_the_rule_checker_sees_imports(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import serial\nfrom dash import html\n")
    assert _imports(tmp_path / "m.py") == {"serial", "dash"}


def test_only_the_transport_imports_serial() -> None:
    found = _violations(REPO / "devices", ("serial",))
    assert found == ["devices/transport.py imports serial"]


def test_codecs_do_no_io() -> None:
    assert (
        _violations(
            REPO / "devices" / "protocols",
            ("serial", "socket", "select", "os", "io", "devices.transport"),
        )
        == []
    )


def test_devices_import_no_runtime_storage_or_ui() -> None:
    banned = ("monitor.runtime", "monitor.storage", "monitor.ui", "monitor.ward")
    assert _violations(REPO / "devices", banned) == []


def test_pages_read_through_ports_not_storage() -> None:
    banned = ("monitor.storage", "monitor.runtime", "sqlite3")
    assert _violations(REPO / "monitor" / "ui", banned) == []


DOMAIN = ("domain", "alarms")  # the bed's decisions
DOMAIN_MODULES = ("gates.py", "session.py", "pk.py", "model.py", "signals.py", "session_config.py")


def test_the_domain_has_no_threads_no_database_and_no_clock() -> None:
    banned = ("threading", "sqlite3", "time", "monitor.runtime", "monitor.storage", "logging")
    bad = [v for folder in DOMAIN for v in _violations(REPO / "monitor" / folder, banned)]
    for name in DOMAIN_MODULES:
        path = REPO / "monitor" / name
        bad += [f"monitor/{name} imports {m}" for m in _imports(path) if m in banned]
    assert bad == []


def test_no_module_is_over_500_lines() -> None:
    long = [
        f"{path.relative_to(REPO)}: {n}"
        for folder in ("monitor", "devices", "bench")
        for path in sorted((REPO / folder).rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    ]
    assert long == []
