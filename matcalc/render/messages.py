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
    "reason.shaped": "{shape}; {rule}",
    "assemble.numerator.gradient": "In numerator layout the gradient is a {shape} row.",
    "assemble.numerator.jacobian": "In numerator layout the Jacobian is {shape}: "
    "row i is the gradient of the i-th function.",
    "assemble.denominator.gradient": "In denominator layout the gradient is a {shape} "
    "column, the transpose of numerator layout.",
    "assemble.denominator.jacobian": "In denominator layout the Jacobian is {shape}: "
    "column i is the gradient of the i-th function, the transpose of numerator layout.",
    "reshape.numerator": "The gradient by the matrix {var} is the {before} matrix above; in the "
    "row it is listed as vec: {var}'s entries with its rows stacked, as a row of shape {after}.",
    "reshape.denominator": "The gradient by the matrix {var} is the {before} matrix above; in the "
    "column it is listed as vec: {var}'s entries with its rows stacked, as a column of shape {after}.",
    "reshape.matrix.numerator": "Arrange the {before} row by vec({var}) as a matrix: entry (j, i) "
    "is the derivative by the entry (i, j) of {var}, so the gradient is {after}, the transpose "
    "of {var}'s shape (numerator layout).",
    "reshape.matrix.denominator": "Arrange the {before} column by vec({var}) as a matrix of "
    "{var}'s shape: entry (i, j) is the derivative by the entry (i, j) of {var}, so the gradient "
    "is {after}.",
    "section.reshape": "Arrange as a matrix",
    "shape.row": "Shape: {shape}, a row.",
    "shape.column": "Shape: {shape}, a column.",
    "shape.matrix": "Shape: {shape}.",
    "shape.by_vec": "Shape: {shape}, by vec({var}): the columns follow {var}'s entries with its "
    "rows stacked (rows, in denominator layout).",
    "shape.variable": "Shape: {shape}, laid out as {var}: entry (i, j) is the derivative by the "
    "entry (i, j) of {var} (denominator layout; PyTorch's .grad has this shape too).",
    "shape.transposed": "Shape: {shape}, laid out as the transpose of {var}: entry (j, i) is the "
    "derivative by the entry (i, j) of {var} (numerator layout; denominator layout, like "
    "PyTorch's .grad, lays it out as {var}).",
    "verify.symbolic": "Verified: equal to SymPy's derivative (symbolic check).",
    "verify.numeric": "Verified: equal to SymPy's derivative "
    "(numeric check at {points} random points).",
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
    "explain.reshape": "The same entries arranged differently: by vec({wrt}), {wrt}'s rows stacked, "
    "or as a matrix.",
    "explain.shape": "The shape of the result.",
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
    "reason.shaped": "{shape}；{rule}",
    "assemble.numerator.gradient": "分子布局下，梯度是 {shape} 的行向量。",
    "assemble.numerator.jacobian": "分子布局下，雅可比矩阵是 {shape} 的矩阵：第 i 行是第 i 个函数的梯度。",
    "assemble.denominator.gradient": "分母布局下，梯度是 {shape} 的列向量，即分子布局的转置。",
    "assemble.denominator.jacobian": "分母布局下，雅可比矩阵是 {shape} 的矩阵：第 i 列是第 i "
    "个函数的梯度，即分子布局的转置。",
    "reshape.numerator": "对矩阵 {var} 的梯度是上面 {before} 的矩阵；在行向量中把它写成 vec，"
    "即把 {var} 的各行依次排成 {after} 的行向量：",
    "reshape.denominator": "对矩阵 {var} 的梯度是上面 {before} 的矩阵；在列向量中把它写成 vec，"
    "即把 {var} 的各行依次排成 {after} 的列向量：",
    "reshape.matrix.numerator": "把对 vec({var}) 的 {before} 行向量排成矩阵：第 (j, i) 项是对 {var} "
    "的第 (i, j) 项的导数，因此梯度是 {after} 的矩阵，即 {var} 形状的转置（分子布局）。",
    "reshape.matrix.denominator": "把对 vec({var}) 的 {before} 列向量排成与 {var} 形状相同的矩阵："
    "第 (i, j) 项是对 {var} 的第 (i, j) 项的导数，因此梯度是 {after} 的矩阵。",
    "section.reshape": "排成矩阵",
    "shape.row": "形状：{shape}，行向量。",
    "shape.column": "形状：{shape}，列向量。",
    "shape.matrix": "形状：{shape}。",
    "shape.by_vec": "形状：{shape}，按 vec({var})：各列依次对应 {var} 按行排列的各项（分母布局下为各行）。",
    "shape.variable": "形状：{shape}，按 {var} 排列：第 (i, j) 项是对 {var} 的第 (i, j) 项的导数"
    "（分母布局；PyTorch 的 .grad 也是这个形状）。",
    "shape.transposed": "形状：{shape}，按 {var} 的转置排列：第 (j, i) 项是对 {var} 的第 (i, j) 项的导数"
    "（分子布局；分母布局与 PyTorch 的 .grad 一样，按 {var} 排列）。",
    "verify.symbolic": "已验证：与 SymPy 求得的导数相等（符号验证）。",
    "verify.numeric": "已验证：与 SymPy 求得的导数相等（在 {points} 个随机点上数值验证）。",
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
    "explain.reshape": "同样的各项换一种排列：按 vec({wrt})（{wrt} 的各行依次排列），或排成矩阵。",
    "explain.shape": "结果的形状。",
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
    "derivative of sign (0 away from 0)": "sign 的导数（在 0 以外为 0）",
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
    "derivative of the trace of a product, one term per factor X or Xᵀ (Matrix Cookbook eq. 101: "
    "∂tr(AXB)/∂X = AᵀBᵀ with the shape of X)": "乘积的迹的导数，X 或 Xᵀ 每出现一次贡献一项"
    "（Matrix Cookbook 式 101：∂tr(AXB)/∂X = AᵀBᵀ，与 X 同形）",
    "matrix product, by vec (rows stacked): ∂vec(AXB)/∂vec(X) = A ⊗ Bᵀ, a Kronecker product":
    "矩阵乘积，按 vec（按行堆叠）：∂vec(AXB)/∂vec(X) = A ⊗ Bᵀ，即 Kronecker 积",
    "transpose, by vec (rows stacked): K vec(X) = vec(Xᵀ), K the commutation matrix":
    "转置，按 vec（按行堆叠）：K vec(X) = vec(Xᵀ)，K 为交换矩阵",
    "transpose of a column (a row has the same entries)": "列向量的转置（行向量的元素与之相同）",
    "scalar multiple of a matrix, by vec (rows stacked)": "矩阵的标量倍，按 vec（按行堆叠）",
    "a matrix by a scalar, by vec (rows stacked)": "矩阵对标量求导，按 vec（按行堆叠）",
    "sum of all entries (a matrix of ones)": "所有元素之和（全 1 矩阵）",
    "derivative of the Frobenius norm": "Frobenius 范数的导数",
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
