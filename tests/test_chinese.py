"""``--lang zh`` is Chinese throughout: prose, rule names, notes, verdicts and errors.

Every problem of ``derivations/*.toml``, the goldens' inputs, inputs that produce notes, and
inputs that produce errors are rendered in Chinese (text, Markdown, JSON), and no run of
ASCII letters may stand outside math.  What counts as math:

- in Markdown, what the renderer marks: ``$…$`` and ``$$…$$`` (but the ``\\text{…}`` inside
  them is prose, and is checked), and code spans;
- in text and JSON, which mark nothing, a word is math when it is a name of the input language
  (sin, softmax, trace, …) or of matcalc's notation (diag, vec, tr), or a name the input itself
  uses (a variable, a declared function);
- in errors, what the user typed: quoted text ('x'), options (--wrt) and the input's names.

A few proper names stay as they are in any language (SymPy, PyTorch, Matrix Cookbook, …):
``PROPER`` lists them.  Single letters are variables.  The expected truth is the catalogue's
Chinese, never the English: a sentence that escaped the catalogue shows up as English words.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_golden import CASES as GOLDEN_CASES

import matcalc
from matcalc import cli, documents
from matcalc.cli import main
from matcalc.parse import CONSTANTS, FUNCTIONS, VECTOR_FUNCTIONS
from matcalc.render.messages import CATALOGUES, EN, ZH

DERIVATIONS = Path(__file__).parent.parent / "derivations"

PROPER = {
    "SymPy",  # the reference
    "PyTorch",
    "NumPy",
    "Matrix",  # "Matrix Cookbook" (the source of a rule)
    "Cookbook",
    "Kronecker",
    "Frobenius",
    "Srinivasan",  # Srinivasan & Panda, arXiv:1911.06491 (the symmetric-matrix gradient)
    "Panda",
    "arXiv",
    "matcalc",
    "LaTeX",
    "PDF",
    "TOML",
    "UTF",
    "CJK",
    "texlive",  # the package texlive-latex-base
    "latex",
    "base",
    "pdflatex",
    "Python",
    "one",  # one-hot, a term of the trade kept in Chinese texts
    "hot",
    "grad",  # PyTorch's .grad
}
NOTATION = {"diag", "vec", "tr", "sign", "ln", "log", "exp", "sqrt", "max", "min", "sum"}
FORMULA = {"A", "B", "X", "K"}
"""The names of the formulas quoted in rule names: ∂tr(AXB)/∂X = AᵀBᵀ, K vec(X) = vec(Xᵀ)."""
CODE = {
    *documents.TOP_FIELDS,
    *documents.SECTION_FIELDS,
    *documents.PROBLEM_FIELDS,
    *documents.TEXT_KEYS,
    *documents.LAYOUTS,
    *cli.DERIVE_FORMATS,
    *cli.DOC_FORMATS,
    *cli.LANGS,
    *(suffix[1:] for suffix in documents.SUFFIXES),
    "toml",
    "txt",
    "none",
    "NAME",  # --dim NAME=SIZE
    "SIZE",
}
"""What the user types besides math: problem-file fields, option values, file suffixes."""
TYPED = {*FUNCTIONS, *VECTOR_FUNCTIONS}
MATH = PROPER | NOTATION | CODE | TYPED | set(CONSTANTS)
MATH |= {part for name in TYPED for part in name.split("_")}  # matrix_power: "matrix", "power"
WORD = re.compile(r"[A-Za-z]{2,}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def foreign(text: str, *inputs: object) -> list[str]:
    """The runs of ASCII letters in ``text`` that are not math (see the module docstring)."""
    used = {n for item in inputs for n in NAME.findall(str(item))}
    pieces = set()
    for name in used:  # w_1, X_11, y_x: the parts of a subscripted name are math too
        pieces |= set(name.split("_"))
    allowed = MATH | used | pieces
    return [
        w
        for w in WORD.findall(text)
        if w not in allowed
        and not _derivative(w, allowed)
        and not _product(w, used | pieces | FORMULA)
    ]


def _product(word: str, names: set[str]) -> bool:
    """Xw, xb, AXB: a product of the input's names written side by side, as text prints it."""
    ends = {0}
    for i in range(1, len(word) + 1):
        if any(j in ends and word[j:i] in names for j in range(i)):
            ends.add(i)
    return len(word) in ends


def _derivative(word: str, allowed: set[str]) -> bool:
    """dy, dx, du, dX (d/dx, dy/dx in text): d and a variable."""
    return word[0] == "d" and (len(word) == 2 or word[1:] in allowed)


def markdown_prose(markdown: str) -> str:
    """The prose of Markdown: math and code spans removed, ``\\text{…}`` inside math kept."""
    texts: list[str] = []

    def math(match: re.Match[str]) -> str:
        texts.extend(re.findall(r"\\text\{([^{}]*)\}", match.group(0)))
        return " "

    markdown = re.sub(r"\$\$.*?\$\$", math, markdown, flags=re.S)
    markdown = re.sub(r"\$[^$\n]+\$", math, markdown)
    markdown = re.sub(r"`[^`\n]*`", " ", markdown)
    return "\n".join([markdown, *texts])


def json_prose(data: object) -> str:
    """The prose fields of a JSON rendering (rule names, explanations, messages, verdicts)."""
    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("rule", "explanation", "message", "verdict_text", "text") and isinstance(
                    item, str
                ):
                    out.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return "\n".join(out)


def error_prose(text: str) -> str:
    """An error line without what the user typed: quoted text, TOML tables and options."""
    text = re.sub(r"'[^'\n]*'|\[\[[\w.]+\]\]", " ", text)
    return re.sub(r"--?[A-Za-z][\w-]*", " ", text)


def assert_chinese(rendered: dict[str, str], *inputs: object) -> None:
    """Each rendering (format -> output) has no English outside math."""
    for fmt, out in rendered.items():
        prose = {
            "markdown": markdown_prose,
            "json": lambda s: json_prose(json.loads(s)),
        }.get(fmt, lambda s: s)(out)
        words = foreign(prose, *inputs)
        assert not words, f"{fmt}: English in Chinese output: {sorted(set(words))}\n{out}"


def render_all(shown) -> dict[str, str]:
    return {
        "text": shown.to_text(lang="zh", width=0),
        "markdown": shown.to_markdown(lang="zh"),
        "json": shown.to_json(lang="zh"),
    }


# -- the catalogue ----------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_english_key_has_a_chinese_entry_with_the_same_placeholders():
    for lang, catalogue in CATALOGUES.items():
        missing = sorted(set(EN) - set(catalogue))
        assert not missing, f"{lang} lacks {missing}"
        extra = sorted(set(catalogue) - set(EN))
        assert not extra, f"{lang} has keys English lacks: {extra}"
        for key, template in EN.items():
            ours, theirs = (
                set(PLACEHOLDER.findall(template)),
                set(PLACEHOLDER.findall(catalogue[key])),
            )
            assert ours == theirs, f"{lang} {key}: {sorted(theirs)} != {sorted(ours)}"


def test_chinese_entries_are_chinese():
    """Every Chinese sentence has Chinese in it (a copied English entry would pass the key
    test): short technical entries (joins, math-only templates) excepted."""
    latin_only = [
        k
        for k, v in ZH.items()
        if not re.search(r"[\u4e00-\u9fff]", v) and WORD.search(PLACEHOLDER.sub("", v))
    ]
    assert latin_only == [], latin_only


# -- derivations: every problem of derivations/*.toml --------------------------------------------
def _problems():
    for source in sorted(DERIVATIONS.glob("*.toml")):
        for exercise in documents.load(source).exercises:
            yield pytest.param(exercise, id=f"{source.stem}-{exercise.number}")


@pytest.mark.parametrize("exercise", list(_problems()))
def test_every_derivation_problem_is_chinese_throughout(exercise):
    assert not exercise.error
    exprs = list(exercise.exprs) if len(exercise.exprs) > 1 else exercise.exprs[0]
    options = dict(
        vectors=exercise.vectors,
        matrices=exercise.matrices,
        functions=exercise.functions,
        layout=exercise.layout,
        order=exercise.order,
    )
    if exercise.answers:
        answers = list(exercise.answers)
        shown = matcalc.check(
            exprs, answers if len(answers) > 1 else answers[0], exercise.wrt, **options
        )
    else:
        shown = matcalc.derive(exprs, exercise.wrt, **options)
    names = [*exercise.exprs, *exercise.vectors, *exercise.matrices, *exercise.functions]
    assert_chinese(render_all(shown), *names, *exercise.answers)


def test_a_chinese_document_frame_is_chinese(tmp_path):
    """The document around the problems: contents, headings, failures (a problem's title
    and notes are the author's words, here Chinese)."""
    source = tmp_path / "题.toml"
    source.write_text(
        'title = "习题"\nlang = "zh"\n'
        '[[problem]]\ntitle = "第一题"\nexpr = "sin(x**2)"\n'
        '[[problem]]\ntitle = "错题"\nexpr = "foo(x)"\n'
        '[[problem]]\ntitle = "坏字段"\nexpr = "x"\nlayout = "sideways"\n'
        '[[problem]]\ntitle = "答案"\nexpr = "cos(x)"\nanswer = "sin(x)"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.md"
    result = CliRunner().invoke(main, ["doc", str(source), "-o", str(out)])
    assert result.exit_code == 1  # two problems failed
    text = out.read_text(encoding="utf-8")
    assert "失败" in text
    assert not foreign(markdown_prose(text), "foo", "sideways", "题")
    assert not foreign(error_prose(result.stderr), "foo", "sideways"), result.stderr


# -- the goldens' inputs, and inputs that produce notes ------------------------------------------
CASES = {
    **GOLDEN_CASES,  # the goldens' inputs
    # notes and rules
    "tie_of_max_and_min": dict(expr="max(min(x**2, x), x) + x**2"),
    "kink": dict(expr="max(0, 3*x + 1)"),
    "abs": dict(expr="abs(x**3 - x)"),
    "sign": dict(expr="sign(x) * x**2"),
    "modulus_of_power": dict(expr="abs(sqrt(x))"),
    "unknown_functions": dict(expr="f(g(x))"),
    "declared_function": dict(expr="phi(x**2)", functions=["phi"]),
    "sum_to_one": dict(expr="-sum(y*ln(softmax(z)))", wrt="z", vectors=["y:m", "z:m"]),
    "unused_variable": dict(expr="sum(x)", wrt="w", vectors=["w", "x"]),
    "trace_vector_by_matrix": dict(expr="trace(X.T @ A @ X)", wrt="X", matrices=["X", "A"]),
    "bilinear_by_matrix": dict(expr="a @ X @ b", wrt="X", vectors=["a", "b"], matrices=["X"]),
    "vector_by_matrix": dict(expr="X @ w", wrt="X", vectors=["w"], matrices=["X"]),
    "frobenius": dict(expr="norm(X)", wrt="X", matrices=["X"]),
    "matrix_by_scalar": dict(expr="trace(t * X)", wrt="t", matrices=["X"]),
    "vector_chain_rule": dict(expr="sum(exp(x * w))", wrt="x", vectors=["w"]),
    "functions_of_one_scalar": dict(expr=["ln(x**2)", "sin(3*x)"], wrt="x"),
    "several_variables_vec": dict(
        expr="a @ X @ b + c @ b", wrt="X,b", vectors=["a", "b", "c"], matrices=["X"]
    ),
    "hessian": dict(expr="x**2*y + exp(x*y)", wrt="x,y", order=2),
    "second_derivative": dict(expr="x**3*sin(x)", order=2),
    "vector_hessian": dict(expr="x @ A @ x", wrt="x", vectors=["x"], matrices=["A"], order=2),
    "denominator": dict(expr=["3*x**2*y", "2*x + y**8"], wrt="x,y", layout="denominator"),
    "denominator_vector": dict(
        expr="max(0, w @ x + b)", wrt="w", vectors=["w", "x"], layout="denominator"
    ),
    "quotient_and_log": dict(expr="x**x / (1 + x**2)"),
    "constant_multiple": dict(expr="3*x**2*y", wrt="x"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_notes_rules_and_steps_are_chinese(case):
    spec = dict(CASES[case])
    expr, wrt = spec.pop("expr"), spec.pop("wrt", None)
    d = matcalc.derive(expr, wrt, **spec)
    assert d.verified is True
    rendered = render_all(d)
    sizes = {getattr(s, "name", None) for x in d.problem.declarations for s in (x.rows, x.cols)}
    sizes.discard(None)
    if sizes and d.problem.order == 1:  # the components at a concrete size (--dim)
        rendered["text"] += d.with_explicit(**dict.fromkeys(sizes, 2)).to_text(lang="zh", width=0)
    assert_chinese(
        rendered,
        expr,
        *spec.get("vectors", ()),
        *spec.get("matrices", ()),
        *spec.get("functions", ()),
    )


VERDICTS = [
    ("cos(x)", "sin(x)", {}),  # wrong sign
    ("sin(x)", "cos(x)", {}),  # right
    ("x**3", "6*x**2", {}),  # a constant factor
    ("sin(x**2)", "cos(x**2)", {}),  # a missing chain-rule factor
    ("w @ x", "x.T", dict(wrt="w", vectors=["w", "x"])),  # right
    ("w @ x", "x", dict(wrt="w", vectors=["w", "x"])),  # the other layout
    ("-sum(y*ln(softmax(z)))", "softmax(z) - y", dict(wrt="z", vectors=["y:m", "z:m"])),
    ("x.T @ A @ x", "2 * A @ x", dict(wrt="x", vectors=["x"], matrices=["A"])),  # symmetric A
    ("f(x)", "2*x", {}),  # cannot judge
]


@pytest.mark.parametrize(("expr", "answer", "options"), VERDICTS)
def test_check_verdicts_are_chinese(expr, answer, options):
    options = dict(options)
    wrt = options.pop("wrt", None)
    c = matcalc.check(expr, answer, wrt, **options)
    names = (expr, answer, *options.get("vectors", ()), *options.get("matrices", ()))
    assert_chinese(render_all(c), *names)


# -- errors -----------------------------------------------------------------------------------------
ERRORS = [
    ["derive", "sin(x"],
    ["derive", "det(w)", "--vector", "w", "--wrt", "w"],
    ["derive", "inv(X)", "--matrix", "X:3,2", "--wrt", "X"],
    ["derive", "matrix_power(X, -1)", "--matrix", "X", "--wrt", "X"],
    ["derive", "matrix_power(X, 9)", "--matrix", "X", "--wrt", "X"],
    ["derive", "norm(inv(X))", "--matrix", "X", "--wrt", "X"],
    ["derive", "abs(det(X))", "--matrix", "X", "--wrt", "X"],
    ["derive", "inv(X)", "--matrix", "X", "--wrt", "X"],
    ["derive", "det(X) + det(Y)", "--matrix", "X,Y", "--wrt", "X,Y"],
    ["derive", "trace(inv(X))*x", "--matrix", "X", "--wrt", "x"],
    ["derive", "1/2x"],
    ["derive", "foo(x)"],
    ["derive", "sinn(x)"],
    ["derive", "x*y"],
    ["derive", "x*y", "--wrt", "W"],
    ["derive", "x**2", "--wrt", "x,x"],
    ["derive", "x**99999999999"],
    ["derive", "factorial(100000)"],
    ["derive", "x" * 5000],
    ["derive", "(" * 300 + "x" + ")" * 300],
    ["derive", "x @ y"],
    ["derive", "x if x else y"],
    ["derive", "'x'"],
    ["derive", "floor(x)"],
    ["derive", "w @ x", "--vector", "w", "--vector", "x:m"],
    ["derive", "w * X", "--vector", "w", "--matrix", "X"],
    ["derive", "sum(x)"],
    ["derive", "x**2", "--dim", "n=3"],
    ["derive", "x**2", "--dim", "n"],
    ["derive", "x**2", "--layout", "sideways"],
    ["derive", "x**2", "--bogus"],
    ["derive", "x**2", "--wrt"],
    ["derive"],
    ["derive", "x**2", "--timeout", "0"],
    ["derive", "x**2", "--order", "2", "--wrt", "x,y"],
    ["derive", "f(x)", "--order", "2"],
    ["derive", "x**2", "--format", "latex", "--standalone"],
    ["derive", "x", "--function", "sin"],
    ["derive", "x", "--matrix", "X:N"],
    ["derive", "max(sqrt(-1), x)"],
    ["derive", "1/0 + x"],
    ["check", "x**2", "--answer", "2*"],
    ["check", "x**2"],
    ["derive", "a @ inv(X - X) @ b", "--vector", "a,b", "--matrix", "X", "--wrt", "a"],
]


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a)[:40])
def test_errors_are_chinese(args):
    result = CliRunner().invoke(main, [args[0], "--lang", "zh", *args[1:]])
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    line = result.stderr.splitlines()[0]
    assert line.startswith("matcalc：错误："), result.stderr
    assert not foreign(error_prose(line), *args), result.stderr


@pytest.mark.parametrize("args", ERRORS[:12], ids=lambda a: " ".join(a)[:40])
def test_json_errors_are_chinese_and_keyed(args):
    result = CliRunner().invoke(main, [args[0], "--lang", "zh", "--format", "json", *args[1:]])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["key"] and error["key"] in EN
    assert not foreign(error_prose(error["message"]), *args), error


def test_english_errors_stay_english_with_their_key():
    result = CliRunner().invoke(main, ["derive", "sin(x", "--format", "json"])
    error = json.loads(result.stdout)["error"]
    assert error == {"kind": "parse", "message": "unclosed '('", "column": 4, "key": "err.unclosed"}
    assert result.stderr.startswith("matcalc: error: unclosed '(' (column 4)")


BAD_FILES = {
    "unknown field": '[[problem]]\nexpr = "x"\nwtr = "x"\n',
    "bad layout": '[[problem]]\nexpr = "x"\nlayout = "sideways"\n',
    "no expression": '[[problem]]\ntitle = "无"\n',
    "invalid toml": "[[problem]\nexpr = 1\n",
    "unknown top": 'colour = "red"\n[[problem]]\nexpr = "x"\n',
    "no problems": 'title = "空"\n',
    "bad math in notes": '[[problem]]\nexpr = "x"\nnotes = "$\\\\frac{1$"\n',
    "bad wrt": '[[problem]]\nexpr = "x*y"\nwrt = "z"\n',
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_problem_file_errors_follow_the_files_language(tmp_path, name):
    """No --lang: the file's lang = "zh" is the language of its errors, even of a file that
    does not parse."""
    source = tmp_path / "p.toml"
    source.write_text('lang = "zh"\n' + BAD_FILES[name], encoding="utf-8")
    out = tmp_path / "out.md"
    result = CliRunner().invoke(main, ["doc", str(source), "-o", str(out)])
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("matcalc：") for line in lines), result.stderr
    words = foreign(error_prose(result.stderr), "sideways", "wtr", "colour", "red", "frac")
    if name == "invalid toml":  # Python's TOML reader has its own (English) words
        words = [
            w for w in words if w not in re.findall(r"[A-Za-z]+", result.stderr.split("：")[-1])
        ]
    assert not words, result.stderr
    if out.exists():
        document = markdown_prose(out.read_text(encoding="utf-8"))
        assert not foreign(error_prose(document), "x", "y", "z")  # a failure quotes the file


def test_click_usage_errors_are_translated_from_the_raw_command_line():
    for args in (
        ["derive", "x", "--bogus", "--lang", "zh"],
        ["derive", "x", "--layout", "sideways", "--lang=zh"],
        ["derive", "--lang", "zh", "x", "--wrt"],
        ["derive", "--lang", "zh"],
        ["derive", "x", "--order", "x", "--lang", "zh"],
        ["check", "x", "--lang", "zh"],
        ["doc", "--lang", "zh"],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("matcalc：错误："), result.stderr
        assert "--help" in result.stderr.splitlines()[-1]
        assert not foreign(error_prose(result.stderr.splitlines()[0]), *args), result.stderr


def test_latex_in_chinese_is_refused_alike_by_derive_check_and_doc(tmp_path):
    """pdflatex with texlive-latex-base cannot typeset Chinese: one refusal, in Chinese, exit 2."""
    problems = tmp_path / "p.txt"
    problems.write_text("x**2\n", encoding="utf-8")
    runs = [
        ["derive", "x**2", "--format", "latex", "--standalone", "--lang", "zh"],
        ["check", "x**2", "--answer", "2*x", "--format", "latex", "--standalone", "--lang", "zh"],
        ["doc", str(problems), "-o", str(tmp_path / "out.tex"), "--lang", "zh"],
        ["doc", str(problems), "-o", str(tmp_path / "out.pdf"), "--lang", "zh"],
    ]
    results = [CliRunner().invoke(main, args) for args in runs]
    assert {r.exit_code for r in results} == {2}
    assert len({r.stderr for r in results}) == 1
    assert "只支持英文" in results[0].stderr
    assert not (tmp_path / "out.tex").exists() and not (tmp_path / "out.pdf").exists()
