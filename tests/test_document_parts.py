"""Problem sheets, answer keys and the compact layout (issue 14 §2).

``matcalc doc … --part sheet`` writes the problems only, ``--part key`` each problem with
its result, and ``--compact`` (or ``compact = true``) sets two problems or more to a page.
The expected results below are written by hand from the rules of calculus, not taken
from matcalc's output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run

from matcalc import documents
from matcalc.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
PAPER = ROOT / "derivations" / "paper.toml"

# Problem number of derivations/paper.toml -> its derivative, in LaTeX, by hand.
EXPECTED = {
    1: r"9 + 18 x",  # d/dx 9(x + x²)
    2: r"6 x y",  # ∂/∂x 3x²y
    3: r"3 x^{2}",  # ∂/∂y 3x²y
    8: r"&= I",  # ∂x/∂x
    11: r"&= I",  # ∂(w − x)/∂w
    12: r"&= - I",  # ∂(w − x)/∂x
    13: r"\operatorname{diag}\left(\mathbf{x}\right)",  # ∂(w ⊗ x)/∂w
    19: r"z I",  # ∂(xz)/∂x
    21: r"\mathbf{1}^{T}",  # ∂ sum(x)/∂x
    24: r"2 x \cos{\left(x^{2} \right)}",  # d/dx sin(x²)
    26: r"1 + 2 x",  # d/dx (x + x²)
    28: r"3 x^{2}",  # d/dx x·x²
    30: r"\mathbf{x}^{T}",  # ∂(w·x)/∂w
}
STEP_WORDS = ("Step ", "Stage ", "intermediate", "chain rule", "Substitute", "Simplify")


def problems_of(text: str, heading: str) -> dict[int, str]:
    """The text of each problem, from its heading to the next heading of any level."""
    pattern = re.compile(heading)
    marks = [(int(m.group(1)), m.start()) for m in pattern.finditer(text)]
    ends = [m.start() for m in re.finditer(r"(?m)^(#+ |\\(sub)?section\*)", text)]
    out = {}
    for number, start in marks:
        end = min((e for e in ends if e > start), default=len(text))
        out[number] = text[start:end]
    return out


@pytest.fixture(scope="module")
def paper_parts(tmp_path_factory) -> dict[str, str]:
    """derivations/paper.toml as a sheet and a key, in Markdown (en, zh) and LaTeX."""
    tmp = tmp_path_factory.mktemp("parts")
    out = {}
    for part in ("sheet", "key"):
        for name, extra in ((f"{part}.md", []), (f"{part}.zh.md", ["--lang", "zh"])):
            path = tmp / name
            result = run("doc", str(PAPER), "-o", str(path), "--part", part, "--jobs", "2", *extra)
            assert result.exit_code == 0, result.output
            out[name] = path.read_text(encoding="utf-8")
        path = tmp / f"{part}.tex"
        result = run("doc", str(PAPER), "-o", str(path), "--part", part, "--jobs", "2")
        assert result.exit_code == 0, result.output
        out[f"{part}.tex"] = path.read_text(encoding="utf-8")
    return out


HEADINGS = {
    "md": r"(?m)^### Problem (\d+):",
    "zh.md": r"(?m)^### 第 (\d+) 题：",
    "tex": r"\\subsection\*\{Problem (\d+):",
}


@pytest.mark.parametrize("kind", ["md", "zh.md", "tex"])
def test_the_sheet_has_every_problem_and_no_step_or_result(paper_parts, kind):
    text = paper_parts[f"sheet.{kind}"]
    problems = problems_of(text, HEADINGS[kind])
    assert sorted(problems) == list(range(1, 37))
    for number, body in problems.items():
        for word in (*STEP_WORDS, "Result", "Verified", "结果", "已验证", "步骤", "Notes", "注"):
            assert word not in body, f"problem {number} of the sheet shows {word!r}"
        # no derivative is named, so none is given: dy/dx, ∂f/∂w, ∇f, J, H
        derivative = re.search(r"\\frac\{(d|\\partial)[ ^]|\\nabla|^[JH] &=", body, re.M)
        assert derivative is None, f"problem {number} of the sheet shows a derivative"
        # the problem as stated: one expression, in one display
        assert len(re.findall(r"\\begin\{align(ed|\*)\}", body)) == 1, number
    assert ("Problem sheet" if kind != "zh.md" else "习题") in text
    if kind == "tex":
        assert r"\vspace{8\baselineskip}" in text  # room to work
        assert r"\tableofcontents" not in text


@pytest.mark.parametrize("kind", ["md", "zh.md", "tex"])
def test_the_key_has_every_result(paper_parts, kind):
    text = paper_parts[f"key.{kind}"]
    problems = problems_of(text, HEADINGS[kind])
    assert sorted(problems) == list(range(1, 37))
    result_word, verified = ("结果", "已验证") if kind == "zh.md" else ("Result", "Verified")
    for number, body in problems.items():
        assert body.count(result_word) == 1, f"problem {number} of the key has no result"
        assert verified in body, f"problem {number} of the key has no verification line"
        for word in STEP_WORDS + ("步骤",):
            assert word not in body, f"problem {number} of the key shows {word!r}"
    for number, expected in EXPECTED.items():
        result = problems[number].split(result_word, 1)[1]
        assert expected in result, f"problem {number}: expected {expected!r} in the key"
    assert ("Answer key" if kind != "zh.md" else "参考答案") in text


def test_sheet_and_key_drop_a_students_answer_and_the_notes(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[[problem]]\nexpr = "x**3"\nanswer = "3*x"\nnotes = "A hint: $2x$."\n',
        encoding="utf-8",
    )
    key = run("doc", str(path), "-o", "-", "--part", "key")
    assert key.exit_code == 0 and key.stderr == ""  # no verdict on stderr
    assert "Your answer" not in key.stdout and "hint" not in key.stdout
    assert "3 x^{2}" in key.stdout.split("**Result**", 1)[1]  # (x³)' = 3x²
    sheet = run("doc", str(path), "-o", "-", "--part", "sheet")
    assert sheet.exit_code == 0
    assert "hint" not in sheet.stdout and "3 x^{2}" not in sheet.stdout
    solutions = run("doc", str(path), "-o", "-")
    assert "hint" in solutions.stdout and "Your answer" in solutions.stdout


def test_compact_markdown_is_shorter_and_keeps_every_result(tmp_path):
    full = run("doc", str(PAPER), "-o", "-", "--jobs", "2")
    compact = run("doc", str(PAPER), "-o", "-", "--jobs", "2", "--compact")
    assert full.exit_code == 0 and compact.exit_code == 0
    assert "## Contents" not in compact.stdout and "**Step 1" not in compact.stdout
    assert len(compact.stdout.splitlines()) < 0.85 * len(full.stdout.splitlines())
    problems = problems_of(compact.stdout, HEADINGS["md"])
    for number, expected in EXPECTED.items():
        assert expected in problems[number].split("**Result**", 1)[1], number
    # display math is still a $$ block with blank lines around it
    lines = compact.stdout.split("\n")
    for i, line in enumerate(lines):
        if line == "$$" and i + 1 < len(lines) and lines[i + 1].startswith(r"\begin{aligned}"):
            assert lines[i - 1] == "", i


def test_compact_from_the_problem_file(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('compact = true\n[[problem]]\nexpr = "sin(x**2)"\n', encoding="utf-8")
    sets = documents.load(path)
    assert sets.compact
    tex = documents.render(documents.build(sets, fmt="latex", lang="en"))
    assert r"\documentclass[10pt]{article}" in tex and r"\usepackage{multicol}" in tex
    assert tex.count(r"\begin{multicols}{2}") == tex.count(r"\end{multicols}") == 1
    assert "**Step 1" not in documents.render(documents.build(sets, fmt="markdown", lang="en"))
    plain = documents.build(sets, fmt="latex", lang="en", compact=False)
    assert r"\documentclass[11pt]{article}" in documents.render(plain)
    path.write_text('compact = "yes"\n[[problem]]\nexpr = "x"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="field 'compact' must be true or false, not a string"):
        documents.load(path)


def test_the_help_explains_parts_and_compact():
    result = run("doc", "--help")
    assert "--part [solutions|sheet|key]" in result.output
    assert "--compact" in result.output
    assert "matcalc doc derivations/paper.toml -o sheet.pdf --part sheet" in result.output
    assert run("doc", str(PAPER), "-o", "-", "--part", "answers").exit_code == 2


def _across(tex: str) -> list[int]:
    """The problems set across the page: between an end of the columns and the next start."""
    return [
        int(n)
        for chunk in tex.split(r"\end{multicols}")[:-1]
        for n in re.findall(
            r"\\(?:sub)?section\*\{Problem (\d+):", chunk.split(r"\begin{multicols}")[0]
        )
    ]


def test_compact_latex_sets_a_problem_too_wide_for_a_column_across_the_page(tmp_path):
    """A quotient whose numerator and denominator cannot be broken is too wide for a column:
    that problem alone is set across the page, the others in two columns."""
    wide = "(sin(x)**3 + cos(x)**2*exp(x))/(1 + x**2 + x**4 + exp(x)*ln(x))"
    path = tmp_path / "wide.toml"
    path.write_text(
        "compact = true\n"
        + "".join(f'[[problem]]\nexpr = "{e}"\n' for e in ("sin(x**2)", wide, "x**3")),
        encoding="utf-8",
    )
    tex = documents.render(documents.build(documents.load(path), fmt="latex", lang="en"))
    assert tex.count(r"\begin{multicols}{2}") == tex.count(r"\end{multicols}") == 2
    assert _across(tex) == [2]


def test_compact_latex_sets_the_paper_in_columns():
    """The paper's problems fit a column (the MSE loss's chain-rule products, 35 and 36, were
    set across until bold capitals were measured at their width, which breaks their rows
    where they fit; pdflatex reports no overfull box either way)."""
    sets = documents.load(PAPER)
    tex = documents.render(documents.build(sets, fmt="latex", lang="en", jobs=2, compact=True))
    assert tex.count(r"\begin{multicols}{2}") == tex.count(r"\end{multicols}")
    assert set(_across(tex)) <= {35, 36}
    columns = tex.split(r"\begin{multicols}{2}", 1)[1].split(r"\end{multicols}", 1)[0]
    assert r"\subsection*{Problem 1:" in columns and r"\subsection*{Problem 34:" in columns


def test_a_file_without_a_title_is_titled_by_its_part():
    sets = documents.loads_text("x**2\n")
    for part, lang, title in (("sheet", "en", "# Problem sheet\n"), ("key", "zh", "# 参考答案\n")):
        doc = documents.build(sets, fmt="markdown", lang=lang, part=part)
        assert documents.render(doc).startswith(title)
    doc = documents.build(sets, fmt="markdown", lang="en")
    assert documents.render(doc).startswith("# Worked solutions\n")
