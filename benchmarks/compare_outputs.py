"""Compare matcalc's answers between two versions: nothing may get less simple.

    python benchmarks/compare_outputs.py record before.json   # on the old version
    python benchmarks/compare_outputs.py record after.json    # on the new version
    python benchmarks/compare_outputs.py compare before.json after.json

``record`` derives the benchmark's inputs (``bench_tail``: 500 scalar and 200 vector
expressions), the problems of ``derivations/*.toml`` and the golden cases, renders each in
the four formats, and logs every call of the final simplification (``tidy``): its input
and the form it chose, with that form's operation count (``count_ops``, the measure the
simplifier minimises) and its text length (the tie-break).  ``compare`` reports how many
rendered outputs changed, and for every ``tidy`` input seen by both versions whether the
chosen form got more operations (or, at equal operations, longer text): it must not.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)
from sympy import MatrixBase, srepr

import matcalc
from matcalc.engine import simplify

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))


def _cases():
    import bench_tail as bt

    scalar, vector = bt.cases(500, 200)
    for kind, items in (("scalar", scalar), ("vector", vector)):
        for text, _, kw in items:
            yield f"{kind}:{text}", (text, "x"), kw
    from test_golden import CASES

    for name, spec in CASES.items():
        spec = dict(spec)
        yield f"golden:{name}", (spec.pop("expr"), spec.pop("wrt", None)), spec
    from matcalc.documents.problems import load

    for path in sorted((ROOT / "derivations").glob("*.toml")):
        for k, ex in enumerate(load(path).exercises):
            exprs = list(ex.exprs) if len(ex.exprs) > 1 else ex.exprs[0]
            kw = dict(
                vectors=ex.vectors,
                matrices=ex.matrices,
                functions=ex.functions,
                layout=ex.layout,
                order=ex.order,
            )
            yield f"doc:{path.name}:{k}", (exprs, ex.wrt), kw


def record(out: str) -> None:
    original = simplify.tidy
    log: dict[str, list] = {}

    def logged(expr):
        result = original(expr)
        if not isinstance(expr, MatrixBase) and not isinstance(result, MatrixBase):
            key = srepr(expr)
            if key not in log:
                log[key] = [str(result), simplify.count_ops_fast(result), len(str(result))]
        return result

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("matcalc") and (
            getattr(module, "tidy", None) is original
        ):
            module.tidy = logged
    outputs = {}
    for name, (expr, wrt), kw in _cases():
        try:
            d = matcalc.derive(expr, wrt, **kw)
            text = "\n".join((d.to_text(), d.to_markdown(), d.to_latex(), d.to_json()))
            outputs[name] = [hashlib.sha256(text.encode()).hexdigest(), d.to_text()]
        except Exception as error:
            outputs[name] = [f"{type(error).__name__}: {error}", ""]
    Path(out).write_text(json.dumps({"tidy": log, "outputs": outputs}), encoding="utf-8")
    print(f"{len(outputs)} cases, {len(log)} tidy calls recorded in {out}")


def compare(before: str, after: str) -> int:
    old = json.loads(Path(before).read_text(encoding="utf-8"))
    new = json.loads(Path(after).read_text(encoding="utf-8"))
    changed = [k for k in old["outputs"] if old["outputs"][k][0] != new["outputs"].get(k, [""])[0]]
    print(f"rendered outputs: {len(old['outputs'])} cases, {len(changed)} changed")
    for k in changed:
        print(f"  changed: {k}")
    common = old["tidy"].keys() & new["tidy"].keys()
    worse, better, same = [], [], 0
    for key in common:
        (s0, ops0, len0), (s1, ops1, len1) = old["tidy"][key], new["tidy"][key]
        if s0 == s1:
            same += 1
        elif (ops1, len1) > (ops0, len0):
            worse.append((s0, s1, ops0, ops1))
        else:
            better.append((s0, s1, ops0, ops1))
    print(
        f"tidy: {len(common)} inputs seen by both: {same} same form, "
        f"{len(better)} simpler or equal, {len(worse)} less simple"
    )
    for s0, s1, ops0, ops1 in better[:20]:
        print(f"  simpler: {s0}  ({ops0} ops)  ->  {s1}  ({ops1} ops)")
    for s0, s1, ops0, ops1 in worse:
        print(f"  WORSE: {s0}  ({ops0} ops)  ->  {s1}  ({ops1} ops)")
    return 1 if worse else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "record":
        record(args[1])
    elif len(args) == 3 and args[0] == "compare":
        sys.exit(compare(args[1], args[2]))
    else:  # --help, or a slip: the usage, not a traceback
        print(__doc__.strip())
        sys.exit(0 if args[:1] in (["--help"], ["-h"]) else 2)
