"""Count the wrong verdicts on the published-style notebooks (tests/notebooks/published/), by kind.

Grades each notebook with the `grade` command of the grader on PYTHONPATH
(so the same script measures another checkout: `PYTHONPATH=/other/checkout
python benchmarks/published_verdicts.py`) and compares every item's status
with the verdict the notebook deserves (tests/published.py).

    python benchmarks/published_verdicts.py [--json-dir DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from published import EXPECTED, wrong_verdicts  # noqa: E402


def grade(name: str, out: Path) -> dict:
    expected = EXPECTED[name]
    report = out / f"{name}.json"
    proc = subprocess.run([sys.executable, "-m", "grader", str(expected.path(name)), "-a", expected.assignment, "--json", str(report)],
                          capture_output=True, text=True, timeout=900)
    if not report.exists():
        return {"items": [], "error": proc.stderr.strip().splitlines()[-1:] or ["no report"]}
    return json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-dir", type=Path, help="keep the reports here")
    parser.add_argument("--only", nargs="+", choices=sorted(EXPECTED), metavar="NAME", help="grade only these notebooks")
    args = parser.parse_args()
    names = args.only or list(EXPECTED)
    out = args.json_dir or Path(tempfile.mkdtemp(prefix="published-"))
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = dict(zip(names, pool.map(lambda name: grade(name, out), names)))
    by_kind = {kind: 0 for name in names for kind in EXPECTED[name].kinds}
    for name, report in reports.items():
        expected = EXPECTED[name]
        wrong = wrong_verdicts(name, report)
        print(f"{name} ({expected.assignment}): {len(wrong)} wrong of {len(expected.verdicts)}"
              + (f" {report['error']}" if "error" in report else ""))
        for line in wrong:
            item = line.split(":")[0]
            by_kind[expected.kind(item)] += 1
            other = f"  [needs {expected.elsewhere[item]}]" if item in expected.elsewhere else ""
            print(f"    {line}  ({expected.kind(item)}){other}")
    print("wrong verdicts by kind:", ", ".join(f"{kind} {count}" for kind, count in by_kind.items()),
          f"(total {sum(by_kind.values())})")


if __name__ == "__main__":
    main()
