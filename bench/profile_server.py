"""py-spy profile of the running server during a load run: top self-time entries, by function and by library.

py-spy is a bench-only tool: installed with pip into ``.tools/bench`` (never into the project environment) when
it is not on PATH. It samples at 250 Hz and keeps only samples of the thread holding the GIL (``--gil``): the event
loop waiting in epoll releases it, so percentages are shares of the time the server ran Python code (work in C
that releases the GIL, such as SQLite's own engine, is not counted).
"""

# ruff: noqa: S603 - a benchmark runs local tools by design
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_support import ROOT

BENCH_VENV = ROOT / ".tools" / "bench"
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
LIBRARIES = (
    ("sqlalchemy", "SQLAlchemy"),
    ("advanced_alchemy", "advanced-alchemy"),
    ("asyncmy", "asyncmy (driver)"),
    ("aiosqlite", "aiosqlite (driver)"),
    ("sqlite3", "sqlite3 (driver)"),
    ("dishka", "dishka"),
    ("litestar", "Litestar"),
    ("msgspec", "msgspec"),
    ("uvicorn", "uvicorn"),
    ("h11", "h11 (HTTP parser)"),
    ("httptools", "httptools"),
    ("spotopt", "spotopt"),
    ("asyncio", "asyncio"),
)


def py_spy() -> str:
    found = shutil.which("py-spy") or (BENCH_VENV / "bin" / "py-spy").as_posix()
    if Path(found).exists():
        return found
    print("# installing py-spy into .tools/bench (pip, bench only)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    return (BENCH_VENV / "bin" / "py-spy").as_posix()


def library(path: str) -> str:
    for needle, name in LIBRARIES:
        if f"/{needle}/" in path or path.startswith(f"{needle}/") or Path(path).stem == needle:
            return name
    return "other (stdlib, uvloop, …)" if path else "native"


def summarise(raw: str, top: int = 20) -> str:
    functions: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        match = FRAME.match(leaf)
        func, path = (match["func"], match["file"]) if match else (leaf, "")
        functions[f"{func} ({_short(path)})"] += int(count)
        libraries[library(path)] += int(count)
        total += int(count)
    if not total:
        return "profile: no samples"
    lines = [f"heartbeat profile: {total:,} samples holding the GIL at 250 Hz; self time by library:", ""]
    lines += ["| library | self time |", "|---|---|"]
    lines += [f"| {name} | {n / total:.0%} |" for name, n in libraries.most_common()]
    lines += ["", f"top {top} functions by self time:", "", "| function | self time |", "|---|---|"]
    lines += [f"| `{name}` | {n / total:.1%} |" for name, n in functions.most_common(top)]
    return "\n".join(lines)


def _short(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def profile_heartbeat(pid: int, load: Callable[[], Any], seconds: int = 12) -> str:
    """Record ``pid`` for ``seconds`` while ``load`` runs in a thread (it should last a little longer)."""
    spy = py_spy()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        runner = threading.Thread(target=load)
        runner.start()
        argv = [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250", "--format", "raw"]
        subprocess.run([*argv, "--gil", "--output", str(out)], check=True, capture_output=True)
        runner.join()
        return summarise(out.read_text())
