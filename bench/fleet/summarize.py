"""Markdown for docs/benchmarks.md from fleet-run JSON files (``bench/fleet/fleet.py`` or ``spotopt simulate --json``).

python bench/fleet/summarize.py data/fleet/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from spotopt.entrypoints.simulator.summary import render


def section(path: Path) -> str:
    summary = json.loads(path.read_text())
    lines = [f"#### {path.stem}", "", "```", render(summary), "```"]
    run = summary.get("run")
    if run:
        unanswered = sum(route["errors"].get("0", 0) for route in summary["routes"].values())
        requests = max(1, summary["requests_total"] - unanswered)  # answered: the server finished them
        lines += [
            "",
            f"- command: `spotopt {run['command']}`",
            f"- machine: {run['machine']}; {run['versions']}",
            f"- load average before → after: {run['load_before']} → {run['load_after']}",
            f"- server CPU (server, worker, Valkey processes): {run['server_cpu_seconds']:.0f} s = "
            f"{run['server_cpu_seconds'] * 1000 / requests:.2f} ms per answered request; MariaDB threads of the fleet's connections "
            f"{run['db_cpu_seconds']:.0f} s = {run['db_cpu_seconds'] * 1000 / requests:.2f} ms per answered request (all of mariadbd, "
            f"shared with other work: {run.get('mariadbd_cpu_seconds', 0):.0f} s)",
        ]
    reconciliation = summary.get("reconciliation")
    if reconciliation:
        checked = ", ".join(f"{k} {v:,}" for k, v in sorted(reconciliation["checked"].items()))
        verdict = "all present" if reconciliation["ok"] else f"{len(reconciliation['missing'])} missing"
        lines.append(f"- reconciliation: {checked}: {verdict}")
    timeline = summary.get("timeline", {})
    bad = {t: {k: v for k, v in b.items() if k != "requests"} for t, b in timeline.items()}
    bad = {t: b for t, b in bad.items() if b}
    if bad:
        shown = "; ".join(
            f"{t} s: " + ", ".join(f"{'no answer' if k == '0' else k}×{v}" for k, v in b.items())
            for t, b in list(bad.items())[:12]
        )
        lines.append(f"- non-2xx by 10 s window: {shown}")
    return "\n".join(lines)


def main() -> None:
    print("\n\n".join(section(Path(p)) for p in sys.argv[1:]))


if __name__ == "__main__":
    main()
