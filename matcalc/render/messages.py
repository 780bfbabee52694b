"""Every sentence a renderer writes, in every language: one catalogue.

``message(key, lang, **kw)`` looks ``key`` up in ``CATALOGUES[lang]`` (falling back to
English) and fills its ``{placeholders}``.  Rule names are translated by their
English text (``rule_name``), falling back to the English itself; a catalogue key
with a ``{name}`` placeholder, such as "derivative of {name}", also matches rule
names of that shape.  Renderers that must escape prose (Markdown, LaTeX) pass
``escape``, which is applied to the template's own text and to values marked
``Prose`` (rule names, say), never to other values (already formatted math).

To add a language, add one dict to ``CATALOGUES`` with the same keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

EN: dict[str, str] = {
    # the problem
    "problem.derivative": "Differentiate with respect to {wrt}:",
    "problem.partial": "Take the partial derivative with respect to {wrt}, "
    "holding the other variables constant:",
    "problem.gradient": "Find the gradient with respect to {wrt}:",
    "problem.jacobian": "Find the Jacobian with respect to {wrt}:",
    "problem.vector": "Differentiate with respect to {wrt}:",
    "layout.numerator": "Layout: numerator (rows are gradients).",
    "layout.denominator": "Layout: denominator (columns are gradients).",
    # section titles
    "step": "Step {n} — {title}",
    "section.intermediates": "Introduce intermediate variables",
    "section.derivatives": "Differentiate each intermediate variable",
    "section.differentiate": "Differentiate",
    "section.chain_rule": "Combine with the chain rule",
    "section.vector_chain_rule": "Combine with the vector chain rule",
    "section.total_derivative": "Combine with the total-derivative chain rule",
    "section.substitute": "Substitute the intermediate variables back",
    "section.simplify": "Simplify",
    "section.part": "Partial derivative {name}",
    "section.assemble.gradient": "Assemble the gradient",
    "section.assemble.jacobian": "Assemble the Jacobian",
    "section.result": "Result",
    "section.explicit": "Check in components, at {sizes}",
    # lines
    "note": "Note: {text}",
    "note.kink": "{max0} has no derivative at {at}. matcalc uses 0 there, as the paper "
    "does, and writes {step} for the derivative of {max0}; min is treated the same "
    "way, and the derivative of {abs} is {sign}, which is also 0 at 0.",
    "substitute.using": "Substitute {pairs}:",
    "reason": "({rule})",
    "reason.held": "({rule}, {names} held constant)",
    "assemble.numerator.gradient": "In numerator layout the gradient is a {shape} row.",
    "assemble.numerator.jacobian": "In numerator layout the Jacobian is {shape}: "
    "row i is the gradient of the i-th function.",
    "assemble.denominator.gradient": "In denominator layout the gradient is a {shape} "
    "column, the transpose of numerator layout.",
    "assemble.denominator.jacobian": "In denominator layout the Jacobian is {shape}: "
    "column i is the gradient of the i-th function, the transpose of numerator layout.",
    "verify.symbolic": "Verified: equal to SymPy's derivative (symbolic check).",
    "verify.numeric": "Verified: equal to SymPy's derivative "
    "(numeric check at {points} points).",
    "verify.numeric.where": "Verified where {where} is real: equal to SymPy's derivative "
    "there (numeric check at {points} points).",
    "verify.symbolic.where": "Verified: equal to SymPy's derivative (symbolic check).",
    "verify.substitution": "Verified by substitution: with {functions} for the unknown "
    "functions, equal to SymPy's derivative of the substituted expression (symbolic check).",
    "verify.substitution.numeric": "Verified by substitution: with {functions} for the unknown "
    "functions, equal to SymPy's derivative of the substituted expression (numeric check at "
    "up to {points} points).",
    "verify.substitution.where": "Verified by substitution where {where} is real: with "
    "{functions} for the unknown functions, equal to SymPy's derivative of the substituted "
    "expression there (symbolic check).",
    "verify.substitution.numeric.where": "Verified by substitution where {where} is real: with "
    "{functions} for the unknown functions, equal to SymPy's derivative of the substituted "
    "expression there (numeric check at up to {points} points).",
    "note.real": "the rule d{abs}/d{u} = {sign} (and d {sign}/d{u} = 0) holds only where {u} is "
    "real, and {arg} is not real at every point where the expression is defined. The result "
    "holds where {arg} is real, and it is checked there.",
    "verify.undecided": "Not verified: SymPy could not decide whether the result "
    "equals its own derivative.",
    "verify.failed": "NOT VERIFIED — this is a bug: the result differs from SymPy's derivative.",
    "verify.reference": "SymPy's derivative: {expr}",
    "verify.explicit": "Compared entry by entry with SymPy's Jacobian of the components at {sizes}.",
    # plain-prose explanations (JSON), when a step carries none
    "explain.intermediate": "Introduce the intermediate variable {name}.",
    "explain.local_derivative": "Differentiate {of} with respect to {wrt} ({rule}).",
    "explain.local_derivative.held": "Differentiate {of} with respect to {wrt}, "
    "holding {names} constant ({rule}).",
    "explain.chain_rule": "Multiply the local derivatives (chain rule).",
    "explain.vector_chain_rule": "Multiply the Jacobians (vector chain rule).",
    "explain.total_derivative": "Add the contributions of every path from {wrt} to "
    "{of} (total-derivative chain rule).",
    "explain.substitute": "Replace each intermediate variable by its definition.",
    "explain.simplify": "Simplify.",
    "explain.note": "A convention: {topic}.",
    "explain.part": "The partial derivative of {of} with respect to {wrt}.",
    "explain.assemble": "Place the entries in the {kind} ({layout} layout).",
    # worked-solution documents (matcalc.documents)
    "doc.title": "Worked solutions",
    "doc.author": "Author: {author}",
    "doc.generated": "Generated by matcalc from {source}; edit that file and regenerate "
    "rather than editing this one.",
    "doc.contents": "Contents",
    "doc.problem": "Problem {n}: {title}",
    "doc.notes": "Notes",
    "doc.failed": "Failed: {message}",
    "doc.failed.toc": "(failed)",
    "doc.progress": "Deriving",
    # names used in explanations and JSON
    "gradient": "gradient",
    "jacobian": "Jacobian",
    "numerator": "numerator",
    "denominator": "denominator",
}

ZH: dict[str, str] = {
    "problem.derivative": "对 {wrt} 求导：",
    "problem.partial": "对 {wrt} 求偏导数（其他变量视为常数）：",
    "problem.gradient": "求关于 {wrt} 的梯度：",
    "problem.jacobian": "求关于 {wrt} 的雅可比矩阵：",
    "problem.vector": "对 {wrt} 求导：",
    "layout.numerator": "布局：分子布局（按行排列梯度）。",
    "layout.denominator": "布局：分母布局（按列排列梯度）。",
    "step": "第 {n} 步 — {title}",
    "section.intermediates": "引入中间变量",
    "section.derivatives": "计算各中间变量的导数",
    "section.differentiate": "求导",
    "section.chain_rule": "用链式法则结合",
    "section.vector_chain_rule": "用向量链式法则结合",
    "section.total_derivative": "用全导数链式法则结合",
    "section.substitute": "将中间变量替换回原来的表示",
    "section.simplify": "化简",
    "section.part": "偏导数 {name}",
    "section.assemble.gradient": "组成梯度",
    "section.assemble.jacobian": "组成雅可比矩阵",
    "section.result": "结果",
    "section.explicit": "按分量写出，取 {sizes}",
    "note": "注意：{text}",
    "note.kink": "{max0} 在 {at} 处不可导。与论文一致，matcalc 在该处取 0，"
    "并把 {max0} 的导数写作 {step}；min 同理，{abs} 的导数为 {sign}，在 0 处也取 0。",
    "substitute.using": "代入 {pairs}：",
    "reason": "({rule})",
    "reason.held": "({rule}，{names} 视为常数)",
    "assemble.numerator.gradient": "分子布局下，梯度是 {shape} 的行向量。",
    "assemble.numerator.jacobian": "分子布局下，雅可比矩阵是 {shape} 的矩阵：第 i 行是第 i 个函数的梯度。",
    "assemble.denominator.gradient": "分母布局下，梯度是 {shape} 的列向量，即分子布局的转置。",
    "assemble.denominator.jacobian": "分母布局下，雅可比矩阵是 {shape} 的矩阵：第 i 列是第 i "
    "个函数的梯度，即分子布局的转置。",
    "verify.symbolic": "已验证：与 SymPy 求得的导数相等（符号验证）。",
    "verify.numeric": "已验证：与 SymPy 求得的导数相等（在 {points} 个点上数值验证）。",
    "verify.numeric.where": "已在 {where} 为实数处验证：与 SymPy 求得的导数相等（在 {points} 个点上数值验证）。",
    "verify.symbolic.where": "已验证：与 SymPy 求得的导数相等（符号验证）。",
    "verify.substitution": "已用代入法验证：未知函数依次取 {functions}，结果与 SymPy 对代入后表达式求得的"
    "导数相等（符号验证）。",
    "verify.substitution.numeric": "已用代入法验证：未知函数依次取 {functions}，结果与 SymPy 对代入后表达式"
    "求得的导数相等（最多在 {points} 个点上数值验证）。",
    "verify.substitution.where": "已用代入法在 {where} 为实数处验证：未知函数依次取 {functions}，"
    "结果与 SymPy 对代入后表达式求得的导数相等（符号验证）。",
    "verify.substitution.numeric.where": "已用代入法在 {where} 为实数处验证：未知函数依次取 "
    "{functions}，结果与 SymPy 对代入后表达式求得的导数相等（最多在 {points} 个点上数值验证）。",
    "note.real": "法则 d{abs}/d{u} = {sign}（以及 d {sign}/d{u} = 0）只在 {u} 为实数处成立，而 {arg} 并非在"
    "表达式有定义的每一点都是实数。所得结果在 {arg} 为实数处成立，验证也只在这些点上进行。",
    "verify.undecided": "未验证：SymPy 无法判定结果是否与其导数相等。",
    "verify.failed": "验证失败 — 这是一个错误：结果与 SymPy 求得的导数不同。",
    "verify.reference": "SymPy 求得的导数：{expr}",
    "verify.explicit": "在 {sizes} 时按分量与 SymPy 的雅可比矩阵逐项比较。",
    "explain.intermediate": "引入中间变量 {name}。",
    "explain.local_derivative": "求 {of} 对 {wrt} 的导数（{rule}）。",
    "explain.local_derivative.held": "求 {of} 对 {wrt} 的偏导数，{names} 视为常数（{rule}）。",
    "explain.chain_rule": "将各中间变量的导数相乘（链式法则）。",
    "explain.vector_chain_rule": "将各雅可比矩阵相乘（向量链式法则）。",
    "explain.total_derivative": "把从 {wrt} 到 {of} 的每条路径的贡献相加（全导数链式法则）。",
    "explain.substitute": "把每个中间变量替换为它的定义。",
    "explain.simplify": "化简。",
    "explain.note": "约定：{topic}。",
    "explain.part": "{of} 对 {wrt} 的偏导数。",
    "explain.assemble": "把各项排成{kind}（{layout}）。",
    "doc.title": "习题解答",
    "doc.author": "作者：{author}",
    "doc.generated": "本文件由 matcalc 从 {source} 生成；请修改该文件后重新生成，不要直接编辑本文件。",
    "doc.contents": "目录",
    "doc.problem": "第 {n} 题：{title}",
    "doc.notes": "注",
    "doc.failed": "失败：{message}",
    "doc.failed.toc": "（失败）",
    "doc.progress": "推导中",
    "gradient": "梯度",
    "jacobian": "雅可比矩阵",
    "numerator": "分子布局",
    "denominator": "分母布局",
    # rule names, keyed by their English text
    "power rule": "幂法则",
    "power rule (square root)": "幂法则（平方根）",
    "sum rule": "加法法则",
    "difference rule": "减法法则",
    "constant rule": "常数法则",
    "constant multiple rule": "常数倍法则",
    "identity rule": "恒等法则",
    "product rule": "乘积法则",
    "quotient rule": "商法则",
    "exponential rule": "指数法则",
    "logarithmic differentiation": "对数求导法",
    "derivative of |x| (sign)": "|x| 的导数（符号函数）",
    "derivative of an unknown function {name}": "未知函数 {name} 的导数",
    "derivative of {name}": "{name} 的导数",
    "derivative": "求导",
    "chain rule": "链式法则",
    "vector chain rule": "向量链式法则",
    "total-derivative chain rule": "全导数链式法则",
    # vector rule names; a rule "A; B" is translated clause by clause
    "element-wise, so diagonal": "按元素运算，故为对角矩阵",
    "scalar expansion": "标量扩展",
    "sum reduction (1ᵀ)": "求和归约（1ᵀ）",
    "derivative of the norm": "范数的导数",
    "matrix-vector product": "矩阵-向量乘积",
    "matrix by which a vector is multiplied (outer product)": "与向量相乘的矩阵（外积）",
    "derivative of the trace": "迹的导数",
    "derivative of each component": "逐分量求导",
    "Jacobian; each component depends on its own g_i, so it is diagonal": "雅可比矩阵；"
    "每个分量只依赖于它自己的 g_i，故为对角矩阵",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


class Prose(str):
    """A value to escape together with the sentence around it (a rule name, a shape)."""


def _catalogue(lang: str) -> dict[str, str]:
    try:
        return CATALOGUES[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(CATALOGUES)}") from None


def message(
    key: str, lang: str = "en", *, escape: Callable[[str], str] | None = None, **kw: object
) -> str:
    """The sentence ``key`` in ``lang`` with its placeholders filled from ``kw``."""
    template = _catalogue(lang).get(key) or EN.get(key, key)
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        text = "".join(prose)
        if text:
            out.append(escape(text) if escape else text)
        prose.clear()

    for i, part in enumerate(_PLACEHOLDER.split(template)):
        value = kw[part] if i % 2 else Prose(part)
        if isinstance(value, Prose):
            prose.append(value)
        else:
            flush()
            out.append(str(value))
    flush()
    return "".join(out)


def rule_name(rule: str, lang: str = "en") -> str:
    """A rule's name in ``lang``: whole, else clause by clause ("A; B"), else part by part.

    "element-wise, so diagonal; power rule" is translated as its two clauses, and
    "constant multiple rule, power rule" as its two parts.
    """
    if lang == "en":
        return rule
    catalogue = _catalogue(lang)
    zh = lang.startswith("zh")

    def one(text: str) -> str | None:
        return catalogue.get(text) or _pattern_rule(text, catalogue)

    clauses = []
    for clause in [rule] if one(rule) else rule.split("; "):
        parts = [clause] if one(clause) else clause.split(", ")
        clauses.append(("，" if zh else ", ").join(one(p) or p for p in parts))
    return ("；" if zh else "; ").join(clauses)


def _pattern_rule(rule: str, catalogue: dict[str, str]) -> str | None:
    for key, template in catalogue.items():
        if "{name}" not in key or key.startswith(("explain.", "section.")):
            continue
        pattern = re.escape(key).replace(r"\{name\}", "(?P<name>.+)")
        match = re.fullmatch(pattern, rule)
        if match:
            return template.replace("{name}", match["name"])
    return None
