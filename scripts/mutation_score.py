"""The mutation score of the last `mutmut run` (make mutation).

    .venv/bin/python scripts/mutation_score.py              # per file, the total, the score
    .venv/bin/python scripts/mutation_score.py --survivors  # and every surviving mutant
    .venv/bin/python scripts/mutation_score.py --min 90     # exit 1 under 90 % (the default)

Reads mutmut's results (mutants/**/*.py.meta) and the equivalent mutants listed, each with its
reason, in docs/testing.md under "Mutation testing". The score is killed / (total - equivalent):
a timeout counts as killed (the tests noticed), a mutant no test runs counts as survived.
Exits 1 when the score is under --min, when a mutant was not checked, or when the list of
equivalent mutants names one that no longer survives (the list is stale: fix it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
TESTING_DOC = ROOT / "docs" / "testing.md"

# mutmut's exit codes (mutmut.stats.status_by_exit_code), in the terms of the score.
KILLED = {1: "killed", 3: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout"}
KILLED.update({255: "timeout", -11: "killed", -9: "killed", 37: "killed"})
NOT_KILLED = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
# A mutant name as mutmut prints it: module.x_function__mutmut_N (or x\u01c1Class\u01c1method).
MUTANT_NAME = re.compile(r"`([\w.]+\.x[\w\u01c1]+__mutmut_\d+)`")


def results(mutants: Path = MUTANTS) -> dict[str, dict[str, int | None]]:
    """Source file -> mutant name -> exit code (None: not checked)."""
    found = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        source = meta.relative_to(mutants).as_posix().removesuffix(".meta")
        found[source] = data["exit_code_by_key"]
    return found


def equivalent_mutants(doc: Path = TESTING_DOC) -> set[str]:
    """The mutant names in the "Mutation testing" section of docs/testing.md."""
    text = doc.read_text()
    start = text.find("## Mutation testing")
    if start < 0:
        return set()
    end = text.find("\n## ", start + 1)
    return set(MUTANT_NAME.findall(text[start : end if end > 0 else len(text)]))


def status(code: int | None) -> str:
    if code is None:
        return "not checked"
    return KILLED.get(code) or NOT_KILLED.get(code) or "suspicious"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=90.0, help="lowest passing score, in %%")
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = parser.parse_args(argv)

    by_file = results()
    if not by_file:
        print("no mutmut results under mutants/: run `make mutation` first", file=sys.stderr)
        return 1
    equivalent = equivalent_mutants()
    total: Counter[str] = Counter()
    survivors: list[str] = []
    print(f"{'file':42} {'mutants':>7} {'killed':>7} {'survived':>8} {'equivalent':>10}")
    for source, codes in by_file.items():
        counts: Counter[str] = Counter()
        for name, code in codes.items():
            kind = status(code)
            if kind in ("killed", "timeout"):
                counts["killed"] += 1
                counts["timeout"] += kind == "timeout"
            elif name in equivalent and kind == "survived":
                counts["equivalent"] += 1
            elif kind == "not checked":
                counts["not checked"] += 1
            else:
                counts["survived"] += 1
                survivors.append(f"{name} ({kind})")
        counts["mutants"] = len(codes)
        total.update(counts)
        print(
            f"{source:42} {counts['mutants']:>7} {counts['killed']:>7} {counts['survived']:>8} "
            f"{counts['equivalent']:>10}"
        )
    judged = total["mutants"] - total["equivalent"] - total["not checked"]
    score = 100.0 * total["killed"] / judged if judged else 0.0
    print(
        f"{'total':42} {total['mutants']:>7} {total['killed']:>7} {total['survived']:>8} "
        f"{total['equivalent']:>10}"
    )
    print(
        f"killed {total['killed']} (timeouts {total['timeout']}), survived {total['survived']}, "
        f"equivalent {total['equivalent']}, total {total['mutants']}"
    )
    print(
        f"mutation score: {score:.1f} % of the non-equivalent mutants killed "
        f"(minimum {args.min:g} %)"
    )
    if args.survivors and survivors:
        print("surviving mutants (mutmut show NAME):")
        for survivor in survivors:
            print(f"  {survivor}")
    failed = False
    if total["not checked"]:
        print(f"error: {total['not checked']} mutants were not checked", file=sys.stderr)
        failed = True
    names = {name: status(code) for codes in by_file.values() for name, code in codes.items()}
    stale = sorted(name for name in equivalent if names.get(name) != "survived")
    for name in stale:
        print(
            f"error: docs/testing.md lists {name} as equivalent, but it "
            f"{'was ' + names[name] if name in names else 'does not exist'}",
            file=sys.stderr,
        )
    return 1 if failed or stale or score < args.min else 0


if __name__ == "__main__":
    sys.exit(main())
