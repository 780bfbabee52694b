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

from sympy import Symbol

from matcalc.render.messages_errors import ERRORS_EN, ERRORS_ZH

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

EN: dict[str, str] = {
    # the problem
    "problem.derivative": "Differentiate with respect to {wrt}:",
    "problem.partial": "Take the partial derivative with respect to {wrt}, "
    "holding the other variables constant:",
    "problem.gradient": "Find the gradient with respect to {wrt}:",
    "problem.jacobian": "Find the Jacobian with respect to {wrt}:",
    "problem.order": "Find the derivative of order {order} with respect to {wrt}:",
    "problem.hessian": "Find the Hessian, the matrix of second partial derivatives, with "
    "respect to {wrt}:",
    "problem.hvp": "Find the Hessian-vector product H·{v}, the Hessian with respect to {wrt} "
    "times {v}, without forming the Hessian:",
    "stage.hvp": "Stage {order} — Multiply the Hessian by {v}, without forming it",
    "hvp.multiply": "Multiply each term of the Hessian by {v} from the right, so that every "
    "factor meets a vector and no n×n matrix is formed (H·{v} is what Newton-CG and other "
    "second-order methods use):",
    "stage.first": "Stage 1 — The first derivative",
    "stage.first.denominator": "Stage 1 — The first derivative, in denominator layout "
    "(the gradient as a column)",
    "stage.again": "Stage {order} — Differentiate the derivative of order {previous} again",
    "stage.hessian": "Stage {order} — Differentiate each entry of the gradient by every variable",
    "stage.hessian.vector": "Stage {order} — Differentiate the gradient: the Hessian is "
    "its Jacobian",
    "stage.hessian.gradient": "Write the gradient as a column (denominator layout) and "
    "differentiate it by the same variable with the vector chain rule:",
    "stage.hessian.assemble": "Row i holds the derivatives of the gradient's i-th entry; "
    "the Hessian is symmetric, since the mixed partial derivatives agree.",
    "stage.hessian.assemble.denominator": "Column i holds the derivatives of the gradient's "
    "i-th entry (denominator layout); the Hessian is symmetric, since the mixed partial "
    "derivatives agree.",
    "layout.numerator": "Layout: numerator (rows are gradients).",
    "layout.denominator": "Layout: denominator (columns are gradients).",
    "layout.numerator.stages": "Layout: numerator (rows are gradients) for the Hessian; "
    "stage 1 writes the gradient as a column, in denominator layout.",
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
    "latex.entries": "The matrix is too wide for the page; its entries, one by one:",
    # lines
    "section.differential.take": "Take the differential",
    "section.differential.cyclic": "Move the differential to the end with the cyclic property "
    "of the trace",
    "section.differential.read": "Read off the gradient",
    "differential.take": "A derivative by a matrix is read from the differential: write {df}, "
    "the change of the result, in terms of {dx}, the change of the variable, one rule per "
    "operation (the product rule, {dtr}, and the rules below):",
    "differential.using": "The rules used:",
    "differential.cyclic": "Move {dx} to the end of each trace with the cyclic property "
    "{cyclic} (a 1×1 product is its own trace), so that {df} = {form}:",
    "differential.read.denominator": "{df} = {form} for every {dx} exactly when {g} is the "
    "gradient, in denominator layout (the shape of {var}):",
    "differential.read.numerator": "{df} = {form} for every {dx} exactly when {g} is the "
    "gradient in denominator layout (the shape of {var}); in numerator layout, used here, the "
    "derivative is its transpose {gt}:",
    "note.symmetric": "{name} is symmetric: its entries at (i, j) and (j, i) are one variable, "
    "so only a symmetric {dname} is possible. The gradient is then the symmetric matrix {gs} "
    "with {pairing} for every symmetric {dname}, that is {half}, where {g} is the gradient "
    "without the constraint (below). This is the convention of Srinivasan and Panda "
    "(arXiv:1911.06491); the often-quoted {wrong} is not a gradient: its entries off the "
    "diagonal are twice those of {gs}. The check in components ties the entries the same way "
    "and takes half the derivative by an entry off the diagonal.",
    "verify.components": "Verified: equal to the derivative of the explicit components at "
    "{points} random well-conditioned points.",
    "verify.components.where": "Verified where {where} > 0: equal to the derivative of the "
    "explicit components at {points} random well-conditioned points.",
    "verify.components.two": "Verified: equal to SymPy's derivative of the explicit components "
    "at {sizes} and at {more}: the inverse, determinant and powers of the matrix of entries, "
    "differentiated entry by entry, at {points} random well-conditioned points ({kind}), in "
    "exact rational arithmetic where the result has no transcendental function.",
    "verify.components.two.where": "Verified where {where} > 0, the real domain of ln det: "
    "equal to SymPy's derivative of the explicit components at {sizes} and at {more}: the "
    "inverse, determinant and powers of the matrix of entries, differentiated entry by entry, "
    "at {points} random well-conditioned points ({kind}) at which the input is real.",
    "verify.points.near_identity": "2I + E with small E, far from singular",
    "verify.points.mixed": "2I + E with small E, far from singular, and, where the input is not "
    "real at those, −(2I + E), (2I + E)/4 or a random matrix",
    "explain.differential": "A step of the differential method: take the differential, move "
    "d{wrt} to the end of each trace, read off the gradient.",
    "note": "Note: {text}",
    "note.kink": "{m} has no derivative where {at}. There matcalc takes the step {step} "
    "to be 0, as the paper does for {max0}.",
    "note.kink.many": "{m} has no derivative where two of its arguments are equal. There "
    "matcalc takes each step of its derivative to be 0, as the paper does for {max0}.",
    "note.kink.abs": "{m} has no derivative where {at}. matcalc writes its derivative as "
    "{sign}, which is 0 there.",
    "note.kink.long": "the max, min or |·| below has no derivative where its arguments are "
    "equal (|·| where its argument is 0). There matcalc takes the step of its derivative "
    "to be 0, as the paper does for {max0}.",
    "note.tie.long": "one argument of the max or min below is the largest (or smallest) "
    "everywhere, so the max or min equals it, and that is what is differentiated:",
    "note.simplify_cut": "the result is not simplified as far as it might be: a rewrite "
    "would have taken too long, so matcalc keeps the form found so far (it is checked all "
    "the same).",
    "note.nowhere_real": "the expression is not a real number at any point matcalc tried "
    "(within 100 of 0, and beside its boundaries out to a million), or only at single points "
    "with none real beside them: it is complex or undefined there, so the derivative shown is "
    "only formal. Check that the expression is the one you meant.",
    "note.unused": "The expression does not depend on {name}, so the derivative with respect "
    "to {name} is 0.",
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
    "verify.numeric": "Verified: equal to SymPy's derivative (numeric check at {points} points).",
    "verify.substitution": "Verified by substitution: with {functions} for the unknown "
    "functions, equal to SymPy's derivative of the substituted expression (symbolic check).",
    "verify.substitution.numeric": "Verified by substitution: with {functions} for the unknown "
    "functions, equal to SymPy's derivative of the substituted expression (numeric check at "
    "up to {points} points).",
    "verify.undecided": "Not verified: SymPy could not decide whether the result "
    "equals its own derivative.",
    "verify.failed": "NOT VERIFIED — this is a bug: the result differs from SymPy's derivative.",
    "verify.undefined": "Not verified: the result is undefined at {point}, where the input has a "
    "derivative.",
    "verify.reference": "SymPy's derivative: {expr}",
    "verify.explicit": "Compared entry by entry with SymPy's Jacobian of the components at {sizes}.",
    "verify.hessian": "Compared entry by entry with SymPy's Hessian of the components at "
    "{sizes}, and again at {more}.",
    "verify.hvp": "Compared entry by entry with SymPy's Hessian of the components times the "
    "components of {v} at {sizes}, and again at {more}.",
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
    "explain.note.nowhere_real": "The expression is not a real number at any point tried, "
    "or only at single points (complex or undefined): the derivative shown is only formal.",
    "explain.note.unused": "The expression does not depend on {name}, so the derivative "
    "with respect to {name} is 0.",
    "explain.part": "The partial derivative of {of} with respect to {wrt}.",
    "explain.assemble": "Place the entries in the {kind} ({layout} layout).",
    "explain.reshape": "The same entries arranged differently: by vec({wrt}), {wrt}'s rows stacked, "
    "or as a matrix.",
    "explain.shape": "The shape of the result.",
    "explain.stage": "One order of the derivative: the previous result differentiated again, "
    "step by step.",
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
    "doc.part.sheet": "Problem sheet",
    "doc.part.key": "Answer key",
    # names used in explanations and JSON
    "gradient": "gradient",
    "jacobian": "Jacobian",
    "numerator": "numerator",
    "denominator": "denominator",
    # matcalc check: a student's answer, judged
    "check.title": "Check your answer",
    "check.answer": "Your answer:",
    "check.matcalc": "matcalc's derivative:",
    "check.derivation": "matcalc's derivation",
    "check.layout.numerator": "numerator layout",
    "check.layout.denominator": "denominator layout",
    "check.method.symbolic": "symbolically",
    "check.method.numeric": "numerically, at random points",
    "check.method.components": "on explicit components, at random points",
    "check.method.components_at": "on explicit components at {sizes}, at random points",
    "check.right": "Right: your answer equals the derivative (checked {how}).",
    "check.other_layout": "Right, in {yours}: your answer is the transpose of matcalc's, "
    "which is in {ours}. That is a convention, not a mistake; say which layout you use.",
    "check.assumption.sum_to_one": "Right when the entries of {name} sum to 1 (as a "
    "probability vector's do); in general it is not the derivative. State the assumption.",
    "check.assumption.symmetric": "Right when {name} is symmetric; in general it is not the "
    "derivative. State the assumption.",
    "check.cannot.shape": "Cannot judge: your answer's shape cannot match the derivative's "
    "(not even transposed).",
    "check.cannot.undefined": "Cannot judge: there is no point at which both your answer "
    "and the derivative are defined and real.",
    "check.cannot.tiny": "Cannot judge: your answer and the derivative agree only where "
    "both are too close to 0 to tell apart.",
    "check.cannot.name": "Cannot judge: your answer uses {name}, which is not in the problem.",
    "check.cannot.identity": "Cannot judge: your answer uses {name}, which is not in the "
    "problem; for the identity matrix write eye(n) (eye(3) at a declared size 3).",
    "check.cannot.function": "Cannot judge answers to problems with unknown functions: "
    "their derivatives cannot be written in the input language.",
    "check.wrong": "Wrong: your answer is not the derivative, and no common mistake explains "
    "the difference.",
    "check.mistake.factor": "Wrong, by a constant factor: your answer is {factor} times the "
    "derivative.",
    "check.mistake.sign": "Wrong sign: your answer is minus the derivative.",
    "check.mistake.transpose": "Wrong: your answer is the transpose of the derivative; a "
    "transpose is missing (or one too many). It is the derivative in {other}: if that is "
    "the layout you use, say so.",
    "check.mistake.gate_outside_sum": "Wrong: the gate 𝟙[z > 0] of max(0, z) was applied "
    "outside the sum over samples. Each sample has its own gate, so it belongs inside the "
    "sum (the paper makes the same slip in §6.1). Your answer is right only when every "
    "sample is active.",
    "check.mistake.gate_missing": "Wrong: the gate 𝟙[z > 0] of max(0, z) is missing. Your "
    "answer is right only where z > 0; where z < 0 the slope is 0.",
    "check.mistake.dropped_term": "Wrong: a term is missing. Your answer plus {term} is the "
    "derivative.",
    "check.mistake.close": "Wrong, though close: at {where} your answer differs from the "
    "derivative by {difference} of its value. Was a number rounded?",
    "check.mistake.swapped": "Wrong: your answer has {had} at one place where {meant} belongs; "
    "with that one changed it is {term}, the derivative.",
    "check.mistake.missing_factor": "Wrong: a chain-rule factor is missing. Your answer "
    "times {term} is the derivative.",
    "check.mistake.product_of_derivatives": "Wrong: your answer is the product of the "
    "factors' derivatives, but the derivative of a product is not that. By the product rule, "
    "(f·g)′ = f′·g + f·g′.",
    "check.mistake.quotient_of_derivatives": "Wrong: your answer is the derivative of the "
    "numerator over the derivative of the denominator, but the derivative of a quotient is "
    "not that. By the quotient rule, (f/g)′ = (f′·g − f·g′)/g².",
    "check.mistake.denominator_not_squared": "Wrong: your answer has g where the quotient "
    "rule has g²: (f/g)′ = (f′·g − f·g′)/g².",
    "check.mistake.power_not_lowered": "Wrong: the power rule lowers the exponent by one, "
    "d/du uⁿ = n·uⁿ⁻¹; your answer keeps it, n·uⁿ, at {term}.",
    "check.mistake.power_rule_on_exponential": "Wrong: {term} has the variable in its "
    "exponent, so the power rule does not apply: d/du cᵘ = cᵘ·ln(c), not u·cᵘ⁻¹.",
    "check.mistake.trig_sign": "Wrong: a sign in the derivative of {term}. d/du sin(u) = "
    "cos(u) and d/du cos(u) = -sin(u).",
    "check.mistake.numerator_swapped": "Wrong sign: your answer is minus the derivative, the "
    "quotient rule's numerator the wrong way round. It is f′·g − f·g′: "
    "(f/g)′ = (f′·g − f·g′)/g².",
    "check.also_transposed": "(Your answer is also transposed: it is in the other layout.)",
    "check.step": "The mistake enters at {step} in the derivation below.",
    "check.differ": "At {where}: your answer is {yours}, the derivative is {ours}.",
    "check.differ.constant": "Your answer is {yours}, the derivative is {ours}.",
    "check.differ.entry": "At {where}, entry {entry}: your answer is {yours}, the "
    "derivative is {ours}.",
    "note.modulus_of_power": "the modulus of a power with a real exponent is the power of "
    "the modulus, |a^p| = |a|^p, for every a, real or not; so the expression is "
    "differentiated as {expr}, which needs no rule for the modulus of a complex number.",
    "rewrite.softmax": "recognise softmax",
    "rewrite.collect": "collect like terms",
    "rewrite.combine": "add the diagonal terms",
    "rewrite.factor": "factor out the common factor",
    "rewrite.distribute": "distribute the constant",
    "rewrite.transpose": "transpose of a sum",
    "rewrite.elementwise": "simplify entry by entry",
    "note.sum_to_one": "when the entries of {name} sum to 1 (a one-hot or probability "
    "target), sum({name}) = 1 and this is",
    # rule names (steps carry ``Rule``: clauses of (id, name) parts, see ``rule_text``)
    "rule.differential_inverse": "differential of the inverse (Matrix Cookbook eq. 59)",
    "rule.differential_det": "differential of the determinant (Matrix Cookbook eq. 46)",
    "rule.differential_logdet": "differential of ln det (Matrix Cookbook eq. 57 in differential "
    "form)",
    "rule.differential_power": "differential of a matrix power (product rule)",
    "rule.differential_chain": "chain rule: d f(s) = f′(s)·ds",
    "rule.power": "power rule",
    "rule.power_sqrt": "power rule (square root)",
    "rule.sum": "sum rule",
    "rule.difference": "difference rule",
    "rule.constant": "constant rule",
    "rule.constant_multiple": "constant multiple rule",
    "rule.identity": "identity rule",
    "rule.product": "product rule",
    "rule.quotient": "quotient rule",
    "rule.exponential": "exponential rule",
    "rule.logarithmic": "logarithmic differentiation",
    "rule.abs": "derivative of |x| (sign)",
    "rule.sign": "derivative of sign (0 away from 0)",
    "rule.step": "derivative of a step 𝟙[z > 0], 0 away from z = 0",
    "rule.unknown_function": "derivative of an unknown function {name}",
    "rule.function": "derivative of {name}",
    "rule.derivative": "derivative",
    "rule.elementwise": "element-wise, so diagonal",
    "rule.scalar_expansion": "scalar expansion",
    "rule.sum_reduction": "sum reduction (1ᵀ)",
    "rule.mean_reduction": "mean reduction (1ᵀ over the length)",
    "rule.sum_entries": "sum of all entries (a matrix of ones)",
    "rule.norm": "derivative of the norm",
    "rule.frobenius": "derivative of the Frobenius norm",
    "rule.matvec": "matrix-vector product",
    "rule.matvec_by_matrix": "matrix-vector product, by vec of the matrix (rows stacked)",
    "rule.trace": "derivative of the trace",
    "rule.trace_product": "derivative of the trace of a product, one term per factor X or Xᵀ "
    "(Matrix Cookbook eq. 101: ∂tr(AXB)/∂X = AᵀBᵀ with the shape of X)",
    "rule.matrix_product": "matrix product, by vec (rows stacked): ∂vec(AXB)/∂vec(X) = A ⊗ₖ Bᵀ "
    "in numerator layout, a Kronecker product",
    "rule.transpose": "transpose, by vec (rows stacked): K vec(X) = vec(Xᵀ), K the commutation "
    "matrix",
    "rule.column_transpose": "transpose of a column (a row has the same entries)",
    "rule.scalar_multiple_matrix": "scalar multiple of a matrix, by vec (rows stacked)",
    "rule.matrix_by_scalar": "a matrix by a scalar, by vec (rows stacked)",
    "rule.each_component": "derivative of each component",
    "rule.diagonal_jacobian": "Jacobian; each component depends on its own gᵢ, so it is diagonal",
    "rule.join.parts": ", ",
    "rule.join.clauses": "; ",
    # explanations the engine attaches to steps (JSON's "explanation"), by id
    "explain.nested": "Introduce {name} for a nested subexpression.",
    "explain.inner_vector": "Introduce the vector {g} of inner functions, so that {y} = f({g}({wrt})).",
    "explain.differentiate": "Differentiate with respect to {wrt}.",
    "explain.differentiate.held": "Differentiate with respect to {wrt}, holding {names} constant.",
    "explain.rules": "{rules}",
    "explain.chain_rule.single": "Multiply the local derivatives (single-variable chain rule).",
    "explain.total": "Add the contributions of every path from {wrt} to {of} (total-derivative "
    "chain rule).",
    "explain.total.product": "Add the contributions of every path from {wrt} to {of} "
    "(total-derivative chain rule). For a product this is the product rule, as a special case.",
    "explain.substitute.g": "Replace each gᵢ by its definition.",
    "explain.part.held": "∂{name}/∂{wrt}: every other variable is held constant.",
    "explain.assemble.entries": "Place the partial derivatives in the {shape} {what} ({layout} "
    "layout).",
    "explain.assemble.blocks": "Place the blocks in the {what} ({layout} layout).",
    "explain.reshape.matrix": "The derivative by vec({wrt}) arranged as a matrix: the gradient "
    "by {wrt}.",
    "explain.reshape.vec": "The gradient by the {shape} matrix {wrt} enters as vec, its entries "
    "listed with {wrt}'s rows stacked.",
    "explain.explicit": "The result written out in components.",
    "explain.note.kink": "max, min and |·| have no derivative where their arguments meet "
    "(max(0, z) at z = 0); matcalc takes the step of the derivative to be 0 there, as the "
    "paper does, and writes 𝟙[z > 0] for the derivative of max(0, z).",
    "explain.note.tie": "One argument of this max or min is the largest (or smallest) "
    "everywhere, so the max or min equals it and it is differentiated instead.",
    "explain.note.simplify_cut": "The result is not simplified as far as it might be: a rewrite "
    "({rewrites}) would have taken too long, so the form found so far is kept.",
    "explain.note.sum_to_one": "When the entries of {name} sum to 1, the result simplifies.",
    "explain.note.modulus_of_power": "The modulus of a power is the power of the modulus.",
    "explain.note.logarithmic": "A power whose base and exponent both vary, such as x^x, is "
    "differentiated by logarithmic differentiation: write f^g = e^(g·ln f), so "
    "(f^g)′ = f^g·(g′·ln f + g·f′/f), and x^x has the derivative x^x·(ln x + 1).",
    "explain.note.power_fraction": "{typed} is read as a power {op}{p}, then divided by {q}, as "
    "Python reads it; for a fractional power write {op}({p}/{q}).",
    "explain.note.run_together": "{name} is read as one variable named {name}; for a product, "
    "write {product}.",
    "explain.note.power_t": "{typed} is read as a power of a variable T, as nothing is "
    "declared a vector; for a transpose, declare the vector (--vector x), and x^T is xᵀ.",
    "explain.note.symmetric": "The derivative by a symmetric matrix is the symmetric part "
    "(G + Gᵀ)/2 of the unconstrained gradient G.",
    "note.tie.max": "{value} ≥ {others} everywhere, so {m} = {value}, and that is what is "
    "differentiated.",
    "note.tie.min": "{value} ≤ {others} everywhere, so {m} = {value}, and that is what is "
    "differentiated.",
    "note.tie.equal": "The arguments of {m} are equal, so {m} = {value}, and that is what is "
    "differentiated.",
    "explain.verify.undecided": "Not verified: SymPy could not decide whether the result equals "
    "its derivative",
    "explain.verify.failed": "NOT VERIFIED: the result differs from SymPy's derivative. This is "
    "a bug",
    "explain.verify.undefined": "Not verified: the result is undefined at {point}, where the "
    "input has a derivative",
    "explain.verify.substitution": "Verified by substitution: with {functions}, equal to SymPy's "
    "derivative of the substituted expression (symbolic check)",
    "explain.verify.substitution.numeric": "Verified by substitution: with {functions}, equal to "
    "SymPy's derivative of the substituted expression (numeric check at up to {points} points)",
    "explain.verify.numeric": "Verified: equal to SymPy's derivative at {points} points",
    "explain.verify.symbolic": "Verified: equal to SymPy's derivative (symbolic check)",
    "explain.verify.on": "{text}, on {detail}.",
    "explain.sentence": "{text}.",
    "explain.detail.components": "explicit components",
    "explain.detail.components_at": "explicit components at {sizes}",
    "explain.detail.components_positive": "explicit components at {sizes}, at points where "
    "{dets} > 0 (where ln det is real)",
    "explain.detail.hessian": "sympy.hessian of explicit components at {sizes} and at {more}",
    "explain.detail.hvp": "sympy.hessian of explicit components times the vector, at {sizes} "
    "and at {more}",
    "explain.hessian_vector": "Multiply the Hessian by the vector from the right, term by term, "
    "without forming an n×n matrix.",
    "json.rule.intermediate": "intermediate variable",
    "json.rule.substitute": "substitution",
    "json.rule.simplify": "simplification",
    "json.rule.note": "note",
    "json.rule.verify": "verification",
    "json.rule.part": "partial derivative",
    "json.rule.total_derivative": "total-derivative chain rule",
    "json.rule.chain_rule": "chain rule",
    "json.rule.vector_chain_rule": "vector chain rule",
    "json.rule.gradient": "gradient",
    "json.rule.jacobian": "Jacobian",
    "json.rule.stage": "stage",
    "json.rule.reshape": "reshape",
    "json.rule.shape": "shape",
    "json.rule.differential": "differential",
    "json.rule.explicit": "explicit components",
    "json.rule.hessian_vector": "Hessian-vector product",
    "error.column": "{message} (column {column})",
}

ZH: dict[str, str] = {
    "problem.derivative": "对 {wrt} 求导：",
    "problem.partial": "对 {wrt} 求偏导数（其他变量视为常数）：",
    "problem.gradient": "求关于 {wrt} 的梯度：",
    "problem.jacobian": "求关于 {wrt} 的雅可比矩阵：",
    "problem.order": "求关于 {wrt} 的 {order} 阶导数：",
    "problem.hessian": "求关于 {wrt} 的黑塞矩阵（二阶偏导数矩阵）：",
    "problem.hvp": "求黑塞矩阵-向量积 H·{v}：关于 {wrt} 的黑塞矩阵乘以 {v}，不显式构造黑塞矩阵：",
    "stage.hvp": "第 {order} 阶段 — 用黑塞矩阵乘以 {v}，但不构造黑塞矩阵",
    "hvp.multiply": "把黑塞矩阵的每一项从右边乘以 {v}，使每个因子都作用在向量上，不形成任何 n×n 矩阵"
    "（牛顿共轭梯度法等二阶方法用的正是 H·{v}）：",
    "stage.first": "第 1 阶段 — 一阶导数",
    "stage.first.denominator": "第 1 阶段 — 一阶导数，用分母布局（梯度写成列向量）",
    "stage.hessian.vector": "第 {order} 阶段 — 对梯度求导：黑塞矩阵是梯度的雅可比矩阵",
    "stage.hessian.gradient": "把梯度写成列向量（分母布局），再用向量链式法则对同一个变量求导：",
    "stage.again": "第 {order} 阶段 — 对 {previous} 阶导数再求一次导",
    "stage.hessian": "第 {order} 阶段 — 对梯度的每个分量关于每个变量求导",
    "stage.hessian.assemble": "第 i 行是梯度第 i 个分量的导数；混合偏导数相等，所以黑塞矩阵是对称的。",
    "stage.hessian.assemble.denominator": "第 i 列是梯度第 i 个分量的导数（分母布局）；混合偏导数相等，所以黑塞矩阵是对称的。",
    "layout.numerator": "布局：分子布局（按行排列梯度）。",
    "layout.denominator": "布局：分母布局（按列排列梯度）。",
    "layout.numerator.stages": "布局：黑塞矩阵用分子布局（按行排列梯度）；第 1 阶段把梯度写成列向量，用分母布局。",
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
    "latex.entries": "矩阵太宽，无法排在一页内；逐个列出其元素：",
    "note": "注意：{text}",
    "note.kink": "{m} 在 {at} 处不可导。与论文对 {max0} 的处理一致，matcalc 在该处把阶跃 "
    "{step} 取为 0。",
    "note.kink.many": "{m} 在两个参数相等处不可导。与论文对 {max0} 的处理一致，matcalc "
    "在该处把其导数中的每个阶跃取为 0。",
    "note.kink.abs": "{m} 在 {at} 处不可导；matcalc 把它的导数写作 {sign}，在该处取 0。",
    "note.kink.long": "下面的 max、min 或 |·| 在参数相等处（|·| 在其参数为 0 处）不可导。"
    "与论文对 {max0} 的处理一致，matcalc 在该处把其导数中的阶跃取为 0。",
    "note.tie.long": "下面这个 max 或 min 的某个参数处处最大（或最小），所以它等于该参数，"
    "求导的就是它：",
    "note.simplify_cut": "结果没有化简到最简：某个化简步骤耗时过长，matcalc 保留了目前得到的形式"
    "（结果照样经过检验）。",
    "note.nowhere_real": "在 matcalc 尝试的所有点上（0 附近 100 以内，以及其边界两侧直到一百万），"
    "该表达式都不是实数，或只在孤立的点上是实数（其两旁都不是）：它是复数或无定义，"
    "因此给出的导数只是形式上的。请确认表达式是否如你所想。",
    "note.unused": "表达式不依赖于 {name}，因此对 {name} 的导数为 0。",
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
    "verify.numeric": "已验证：与 SymPy 求得的导数相等（在 {points} 个点上数值验证）。",
    "verify.substitution": "已用代入法验证：未知函数依次取 {functions}，结果与 SymPy 对代入后表达式求得的"
    "导数相等（符号验证）。",
    "verify.substitution.numeric": "已用代入法验证：未知函数依次取 {functions}，结果与 SymPy 对代入后表达式"
    "求得的导数相等（最多在 {points} 个点上数值验证）。",
    "verify.undecided": "未验证：SymPy 无法判定结果是否与其导数相等。",
    "verify.failed": "验证失败 — 这是一个错误：结果与 SymPy 求得的导数不同。",
    "verify.undefined": "未验证：在 {point} 处输入可导，结果却没有定义。",
    "verify.reference": "SymPy 求得的导数：{expr}",
    "verify.explicit": "在 {sizes} 时按分量与 SymPy 的雅可比矩阵逐项比较。",
    "verify.hessian": "在 {sizes} 时，以及在 {more} 时，按分量与 SymPy 的黑塞矩阵逐项比较。",
    "verify.hvp": "在 {sizes} 时，以及在 {more} 时，按分量与 SymPy 的黑塞矩阵乘以 {v} 的分量逐项比较。",
    "explain.intermediate": "引入中间变量 {name}。",
    "explain.local_derivative": "求 {of} 对 {wrt} 的导数（{rule}）。",
    "explain.local_derivative.held": "求 {of} 对 {wrt} 的偏导数，{names} 视为常数（{rule}）。",
    "explain.chain_rule": "将各中间变量的导数相乘（链式法则）。",
    "explain.vector_chain_rule": "将各雅可比矩阵相乘（向量链式法则）。",
    "explain.total_derivative": "把从 {wrt} 到 {of} 的每条路径的贡献相加（全导数链式法则）。",
    "explain.substitute": "把每个中间变量替换为它的定义。",
    "explain.simplify": "化简。",
    "explain.note": "约定：{topic}。",
    "explain.note.nowhere_real": "该表达式在所尝试的点上都不是实数，或只在孤立的点上是实数"
    "（复数或无定义）：给出的导数只是形式上的。",
    "explain.note.unused": "表达式不依赖于 {name}，因此对 {name} 的导数为 0。",
    "explain.part": "{of} 对 {wrt} 的偏导数。",
    "explain.assemble": "把各项排成{kind}（{layout}）。",
    "explain.reshape": "同样的各项换一种排列：按 vec({wrt})（{wrt} 的各行依次排列），或排成矩阵。",
    "explain.shape": "结果的形状。",
    "explain.stage": "导数的一阶：把上一阶的结果再逐步求一次导。",
    "doc.title": "习题解答",
    "doc.author": "作者：{author}",
    "doc.generated": "本文件由 matcalc 从 {source} 生成；请修改该文件后重新生成，不要直接编辑本文件。",
    "doc.contents": "目录",
    "doc.problem": "第 {n} 题：{title}",
    "doc.notes": "注",
    "doc.failed": "失败：{message}",
    "doc.failed.toc": "（失败）",
    "doc.progress": "推导中",
    "doc.part.sheet": "习题",
    "doc.part.key": "参考答案",
    "gradient": "梯度",
    "jacobian": "雅可比矩阵",
    "numerator": "分子布局",
    "denominator": "分母布局",
    # matcalc check
    "check.title": "检查你的答案",
    "check.answer": "你的答案：",
    "check.matcalc": "matcalc 求得的导数：",
    "check.derivation": "matcalc 的推导",
    "check.layout.numerator": "分子布局",
    "check.layout.denominator": "分母布局",
    "check.method.symbolic": "符号验证",
    "check.method.numeric": "在随机点上数值验证",
    "check.method.components": "按分量在随机点上数值验证",
    "check.method.components_at": "在 {sizes} 时按分量在随机点上数值验证",
    "check.right": "正确：你的答案等于导数（{how}）。",
    "check.other_layout": "正确，但用的是{yours}：你的答案是 matcalc 结果（{ours}）的转置。"
    "这是约定不同，不是错误；请注明所用的布局。",
    "check.assumption.sum_to_one": "当 {name} 的各分量之和为 1（如概率向量）时正确；"
    "一般情况下不是导数。请写明这一假设。",
    "check.assumption.symmetric": "当 {name} 对称时正确；一般情况下不是导数。请写明这一假设。",
    "check.cannot.shape": "无法判断：你的答案的形状与导数的形状（即使转置）不能对应。",
    "check.cannot.undefined": "无法判断：找不到你的答案与导数同时有定义且为实数的点。",
    "check.cannot.tiny": "无法判断：你的答案与导数只在两者都过于接近 0、无法区分的地方一致。",
    "check.cannot.name": "无法判断：你的答案用到了 {name}，它不在题目中。",
    "check.cannot.identity": "无法判断：你的答案用到了 {name}，它不在题目中；单位矩阵请写 eye(n)（声明的大小为 3 时写 eye(3)）。",
    "check.cannot.function": "无法判断含未知函数的题目的答案：其导数无法用输入语言写出。",
    "check.wrong": "错误：你的答案不是导数，也没有常见错误能解释两者的差别。",
    "check.mistake.factor": "错误，差一个常数因子：你的答案是导数的 {factor} 倍。",
    "check.mistake.sign": "符号错误：你的答案是导数的相反数。",
    "check.mistake.transpose": "错误：你的答案是导数的转置；少了（或多了）一次转置。"
    "它是{other}下的导数：如果你用的是这种布局，请注明。",
    "check.mistake.gate_outside_sum": "错误：max(0, z) 的门控 𝟙[z > 0] 被放在了对样本求和的"
    "外面。每个样本有自己的门控，它应在求和之内（论文 §6.1 也有同样的疏漏）。"
    "只有当所有样本都激活时你的答案才正确。",
    "check.mistake.gate_missing": "错误：漏了 max(0, z) 的门控 𝟙[z > 0]。你的答案只在 z > 0 处正确；"
    "在 z < 0 处斜率为 0。",
    "check.mistake.dropped_term": "错误：漏了一项。你的答案加上 {term} 才是导数。",
    "check.mistake.close": "错误，但很接近：在 {where} 处，你的答案与导数相差其值的 {difference}，"
    "两者并不相等。是否把某个数四舍五入了？",
    "check.mistake.swapped": "错误：你的答案在某一处把 {meant} 写成了 {had}；改正这一处后为 {term}，"
    "即导数。",
    "check.mistake.missing_factor": "错误：漏了链式法则的一个因子。你的答案乘以 {term} 才是导数。",
    "check.mistake.product_of_derivatives": "错误：你的答案是各因子导数的乘积，但乘积的导数不是"
    "这样。按乘积法则，(f·g)′ = f′·g + f·g′。",
    "check.mistake.quotient_of_derivatives": "错误：你的答案是分子的导数除以分母的导数，但商的导数"
    "不是这样。按商法则，(f/g)′ = (f′·g − f·g′)/g²。",
    "check.mistake.denominator_not_squared": "错误：商法则的分母是 g²，你的答案写成了 g："
    "(f/g)′ = (f′·g − f·g′)/g²。",
    "check.mistake.power_not_lowered": "错误：幂法则要把指数减一，d/du uⁿ = n·uⁿ⁻¹；"
    "你的答案在 {term} 处没有减，写成了 n·uⁿ。",
    "check.mistake.power_rule_on_exponential": "错误：{term} 的变量在指数上，幂法则不适用："
    "d/du cᵘ = cᵘ·ln(c)，而不是 u·cᵘ⁻¹。",
    "check.mistake.trig_sign": "错误：{term} 的导数符号错了。d/du sin(u) = cos(u)，"
    "d/du cos(u) = -sin(u)。",
    "check.mistake.numerator_swapped": "符号错误：你的答案是导数的相反数，商法则分子的两项写反了。"
    "分子应为 f′·g − f·g′：(f/g)′ = (f′·g − f·g′)/g²。",
    "check.also_transposed": "（你的答案同时是转置的：用的是另一种布局。）",
    "check.step": "错误出现在下面推导中的 {step}。",
    "check.differ": "在 {where} 处：你的答案为 {yours}，导数为 {ours}。",
    "check.differ.constant": "你的答案为 {yours}，导数为 {ours}。",
    "check.differ.entry": "在 {where} 处，第 {entry} 个元素：你的答案为 {yours}，导数为 {ours}。",
    "note.modulus_of_power": "实指数幂的模等于模的幂，|a^p| = |a|^p，对任意 a（实数或复数）都成立；"
    "所以按 {expr} 求导，无需复数取模的求导法则。",
    "rewrite.softmax": "识别 softmax",
    "rewrite.collect": "合并同类项",
    "rewrite.combine": "合并对角项",
    "rewrite.factor": "提取公因子",
    "rewrite.distribute": "分配常数",
    "rewrite.transpose": "和的转置",
    "rewrite.elementwise": "逐元素化简",
    "section.differential.take": "求微分",
    "section.differential.cyclic": "利用迹的循环性质把微分移到末尾",
    "section.differential.read": "读出梯度",
    "differential.take": "对矩阵求导可以从微分读出：把结果的变化 {df} 用变量的变化 {dx} 表示，"
    "每种运算用一条法则（乘积法则、{dtr} 以及下面的法则）：",
    "differential.using": "用到的法则：",
    "differential.cyclic": "利用循环性质 {cyclic}（1×1 的乘积等于它自己的迹）把每个迹中的 {dx} "
    "移到末尾，使 {df} = {form}：",
    "differential.read.denominator": "对任意 {dx} 都有 {df} = {form}，当且仅当 {g} 是梯度"
    "（分母布局，与 {var} 同形）：",
    "differential.read.numerator": "对任意 {dx} 都有 {df} = {form}，当且仅当 {g} 是分母布局下的梯度"
    "（与 {var} 同形）；这里用分子布局，导数是它的转置 {gt}：",
    "note.symmetric": "{name} 是对称矩阵：它在 (i, j) 与 (j, i) 处的元素是同一个变量，"
    "因此 {dname} 只能是对称的。梯度于是是满足 {pairing}（对任意对称的 {dname}）的对称矩阵 {gs}，"
    "即 {half}，其中 {g} 是不加约束时的梯度（见下）。这是 Srinivasan 与 Panda 的约定"
    "（arXiv:1911.06491）；常见的 {wrong} 并不是梯度：它的非对角元素是 {gs} 的两倍。"
    "按分量验证时同样把元素绑定，非对角元素取导数的一半。",
    "verify.components": "已验证：在 {points} 个随机的良态点上与按分量写出后的导数相等。",
    "verify.components.where": "已在 {where} > 0 处验证：在 {points} 个随机的良态点上与按分量写出后的导数相等。",
    "verify.components.two": "已验证：在 {sizes} 与 {more} 时，与 SymPy 对按分量写出的表达式"
    "（元素矩阵的逆、行列式与幂，逐个元素求导）求得的导数相等，取 {points} 个随机的良态点"
    "（{kind}），结果不含超越函数时用精确的有理数运算。",
    "verify.components.two.where": "已在 {where} > 0（ln det 的实定义域）处验证：在 {sizes} 与 "
    "{more} 时，与 SymPy 对按分量写出的表达式（元素矩阵的逆、行列式与幂，逐个元素求导）"
    "求得的导数相等，取 {points} 个随机的良态点（{kind}），且输入在这些点为实数。",
    "verify.points.near_identity": "方阵取 2I + E，E 很小，远离奇异",
    "verify.points.mixed": "方阵取 2I + E，E 很小，远离奇异；输入在这些点不为实数时，另取 −(2I + E)、"
    "(2I + E)/4 或随机矩阵",
    "explain.differential": "微分法的一步：求微分，把 d{wrt} 移到每个迹的末尾，读出梯度。",
    "rule.differential_inverse": "逆矩阵的微分（Matrix Cookbook 式 59）",
    "rule.differential_det": "行列式的微分（Matrix Cookbook 式 46）",
    "rule.differential_logdet": "ln det 的微分（Matrix Cookbook 式 57 的微分形式）",
    "rule.differential_power": "矩阵幂的微分（乘积法则）",
    "rule.differential_chain": "链式法则：d f(s) = f′(s)·ds",
    "note.sum_to_one": "当 {name} 的各分量之和为 1（one-hot 或概率目标）时，sum({name}) = 1，结果为",
    "rule.power": "幂法则",
    "rule.power_sqrt": "幂法则（平方根）",
    "rule.sum": "加法法则",
    "rule.difference": "减法法则",
    "rule.constant": "常数法则",
    "rule.constant_multiple": "常数倍法则",
    "rule.identity": "恒等法则",
    "rule.product": "乘积法则",
    "rule.quotient": "商法则",
    "rule.exponential": "指数法则",
    "rule.logarithmic": "对数求导法",
    "rule.abs": "|x| 的导数（符号函数）",
    "rule.sign": "sign 的导数（在 0 以外为 0）",
    "rule.step": "阶跃函数 𝟙[z > 0] 的导数，在 z = 0 以外为 0",
    "rule.unknown_function": "未知函数 {name} 的导数",
    "rule.function": "{name} 的导数",
    "rule.derivative": "求导",
    "rule.elementwise": "按元素运算，故为对角矩阵",
    "rule.scalar_expansion": "标量扩展",
    "rule.sum_reduction": "求和归约（1ᵀ）",
    "rule.mean_reduction": "均值归约（1ᵀ 除以长度）",
    "rule.sum_entries": "所有元素之和（全 1 矩阵）",
    "rule.norm": "范数的导数",
    "rule.frobenius": "Frobenius 范数的导数",
    "rule.matvec": "矩阵-向量乘积",
    "rule.matvec_by_matrix": "矩阵-向量乘积，按矩阵的 vec（按行堆叠）",
    "rule.trace": "迹的导数",
    "rule.trace_product": "乘积的迹的导数，X 或 Xᵀ 每出现一次贡献一项"
    "（Matrix Cookbook 式 101：∂tr(AXB)/∂X = AᵀBᵀ，与 X 同形）",
    "rule.matrix_product": "矩阵乘积，按 vec（按行堆叠）：分子布局下 ∂vec(AXB)/∂vec(X) = A ⊗ₖ Bᵀ，即 Kronecker 积",
    "rule.transpose": "转置，按 vec（按行堆叠）：K vec(X) = vec(Xᵀ)，K 为交换矩阵",
    "rule.column_transpose": "列向量的转置（行向量的元素与之相同）",
    "rule.scalar_multiple_matrix": "矩阵的标量倍，按 vec（按行堆叠）",
    "rule.matrix_by_scalar": "矩阵对标量求导，按 vec（按行堆叠）",
    "rule.each_component": "逐分量求导",
    "rule.diagonal_jacobian": "雅可比矩阵；每个分量只依赖于它自己的 gᵢ，故为对角矩阵",
    "rule.join.parts": "，",
    "rule.join.clauses": "；",
    "explain.nested": "为嵌套的子表达式引入 {name}。",
    "explain.inner_vector": "引入由内层函数组成的向量 {g}，使 {y} = f({g}({wrt}))。",
    "explain.differentiate": "对 {wrt} 求导。",
    "explain.differentiate.held": "对 {wrt} 求导，{names} 视为常数。",
    "explain.rules": "{rules}",
    "explain.chain_rule.single": "将各局部导数相乘（单变量链式法则）。",
    "explain.total": "把从 {wrt} 到 {of} 的每条路径的贡献相加（全导数链式法则）。",
    "explain.total.product": "把从 {wrt} 到 {of} 的每条路径的贡献相加（全导数链式法则）。"
    "对乘积而言，这就是乘积法则，是它的一个特例。",
    "explain.substitute.g": "把每个 gᵢ 替换为它的定义。",
    "explain.part.held": "∂{name}/∂{wrt}：其他变量都视为常数。",
    "explain.assemble.entries": "把各偏导数排成 {shape} 的{what}（{layout}）。",
    "explain.assemble.blocks": "把各块排成{what}（{layout}）。",
    "explain.reshape.matrix": "把对 vec({wrt}) 的导数排成矩阵：即对 {wrt} 的梯度。",
    "explain.reshape.vec": "对 {shape} 矩阵 {wrt} 的梯度以 vec 的形式出现：把 {wrt} 的各行依次排列。",
    "explain.explicit": "把结果按分量写出。",
    "explain.note.symmetric": "对对称矩阵的导数是无约束梯度 G 的对称部分 (G + Gᵀ)/2。",
    "explain.note.kink": "max、min 与 |·| 在其参数相交处不可导（max(0, z) 在 z = 0 处）；"
    "与论文一致，matcalc 在该处把导数中的阶跃取为 0，并把 max(0, z) 的导数写作 𝟙[z > 0]。",
    "explain.note.tie": "这个 max 或 min 的某个参数处处最大（或最小），所以它等于该参数，"
    "求导的是该参数。",
    "explain.note.simplify_cut": "结果没有化简到最简：某个化简步骤（{rewrites}）耗时过长，"
    "因此保留目前得到的形式。",
    "explain.note.sum_to_one": "当 {name} 的各分量之和为 1 时，结果可以化简。",
    "explain.note.modulus_of_power": "幂的模等于模的幂。",
    "explain.note.logarithmic": "底数和指数都在变化的幂（如 x^x）用对数求导法求导：写成 "
    "f^g = e^(g·ln f)，于是 (f^g)′ = f^g·(g′·ln f + g·f′/f)；x^x 的导数是 x^x·(ln x + 1)。",
    "explain.note.power_fraction": "{typed} 按 Python 的规则读作先取 {op}{p} 次幂、再除以 {q}；"
    "分数次幂请写作 {op}({p}/{q})。",
    "explain.note.run_together": "{name} 读作一个名为 {name} 的变量；若是乘积，请写 {product}。",
    "explain.note.power_t": "{typed} 读作以变量 T 为指数的幂，因为没有声明向量；若要转置，"
    "请声明该向量（--vector x），这时 x^T 就是 xᵀ。",
    "note.tie.max": "处处有 {value} ≥ {others}，所以 {m} = {value}，求导的就是它。",
    "note.tie.min": "处处有 {value} ≤ {others}，所以 {m} = {value}，求导的就是它。",
    "note.tie.equal": "{m} 的各参数相等，所以 {m} = {value}，求导的就是它。",
    "explain.verify.undecided": "未验证：SymPy 无法判定结果是否与其导数相等",
    "explain.verify.failed": "验证失败：结果与 SymPy 求得的导数不同。这是一个错误",
    "explain.verify.undefined": "未验证：在 {point} 处输入可导，结果却没有定义",
    "explain.verify.substitution": "已用代入法验证：取 {functions}，结果与 SymPy 对代入后表达式求得的"
    "导数相等（符号验证）",
    "explain.verify.substitution.numeric": "已用代入法验证：取 {functions}，结果与 SymPy 对代入后"
    "表达式求得的导数相等（最多在 {points} 个点上数值验证）",
    "explain.verify.numeric": "已验证：在 {points} 个点上与 SymPy 求得的导数相等",
    "explain.verify.symbolic": "已验证：与 SymPy 求得的导数相等（符号验证）",
    "explain.verify.on": "{text}，检验对象：{detail}。",
    "explain.sentence": "{text}。",
    "explain.detail.components": "显式分量",
    "explain.detail.components_at": "{sizes} 时的显式分量",
    "explain.detail.components_positive": "{sizes} 时的显式分量，取 {dets} > 0 的点（ln det 在此为实数）",
    "explain.detail.hessian": "{sizes} 时及 {more} 时，SymPy 对显式分量求得的黑塞矩阵",
    "explain.detail.hvp": "{sizes} 时及 {more} 时，SymPy 对显式分量求得的黑塞矩阵乘以该向量",
    "explain.hessian_vector": "把黑塞矩阵逐项从右边乘以向量，不形成 n×n 矩阵。",
    "json.rule.intermediate": "中间变量",
    "json.rule.substitute": "代入",
    "json.rule.simplify": "化简",
    "json.rule.note": "注",
    "json.rule.verify": "验证",
    "json.rule.part": "偏导数",
    "json.rule.total_derivative": "全导数链式法则",
    "json.rule.chain_rule": "链式法则",
    "json.rule.vector_chain_rule": "向量链式法则",
    "json.rule.gradient": "梯度",
    "json.rule.jacobian": "雅可比矩阵",
    "json.rule.stage": "阶段",
    "json.rule.reshape": "重排",
    "json.rule.shape": "形状",
    "json.rule.differential": "微分法",
    "json.rule.explicit": "显式分量",
    "json.rule.hessian_vector": "黑塞矩阵-向量积",
    "error.column": "{message}（第 {column} 列）",
}

EN.update(ERRORS_EN)
ZH.update(ERRORS_ZH)

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


class Prose(str):
    """A value to escape together with the sentence around it (a rule name, a shape)."""


def _catalogue(lang: str) -> dict[str, str]:
    try:
        return CATALOGUES[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(CATALOGUES)}") from None


_SPLIT: dict[str, tuple[str, ...]] = {}
"""Each template cut at its placeholders (text, name, text, …): a fixed property of the
catalogue, cut once."""


def _split(template: str) -> tuple[str, ...]:
    parts = _SPLIT.get(template)
    if parts is None:
        parts = _SPLIT[template] = tuple(_PLACEHOLDER.split(template))
    return parts


def placeholders(key: str, lang: str = "en") -> tuple[str, ...]:
    """The names of the placeholders of the sentence ``key`` in ``lang``."""
    return _split(_catalogue(lang).get(key) or EN.get(key, key))[1::2]


def message(
    key: str, lang: str = "en", *, escape: Callable[[str], str] | None = None, **kw: object
) -> str:
    """The sentence ``key`` in ``lang`` with its placeholders filled from ``kw`` (so no
    placeholder may be called key, lang or escape)."""
    template = _catalogue(lang).get(key) or EN.get(key, key)
    parts = _split(template)
    if len(parts) == 1:  # no placeholder
        return escape(template) if escape and template else template
    out: list[str] = []
    prose = ""  # the template's text and the Prose values since the last other value
    for i, part in enumerate(parts):
        if not i % 2:
            prose += part
            continue
        value = kw[part]
        if isinstance(value, Prose):
            prose += value
            continue
        if prose:
            out.append(escape(prose) if escape else prose)
            prose = ""
        # a name as str() prints it, without a StrPrinter for each (the most common value)
        out.append(
            value.name if isinstance(value, Symbol) and type(value) is Symbol else str(value)
        )
    if prose:
        out.append(escape(prose) if escape else prose)
    return "".join(out)


RuleClauses = tuple[tuple[tuple[str, str], ...], ...]
"""A rule as ids: clauses of parts, each part (id, name): the key ``rule.<id>`` and its
``{name}`` ("" if it has none)."""


def rule_text(clauses: RuleClauses, lang: str = "en") -> str:
    """The name of the rule ``clauses`` in ``lang``: parts joined by ", ", clauses by "; "."""
    parts = message("rule.join.parts", lang)
    return message("rule.join.clauses", lang).join(
        parts.join(message(f"rule.{key}", lang, name=name) for key, name in clause)
        for clause in clauses
    )


def rule_name(rule: str, lang: str = "en") -> str:
    """A rule's name in ``lang``.

    The engine's rules are ``steps.Rule`` values that carry their ids (``clauses``).  A plain
    string (a step built by hand) is read back into ids from the English names, whole, else
    clause by clause ("A; B"), else part by part ("A, B"); what is not a known name stays
    as it is.
    """
    clauses = getattr(rule, "clauses", None)
    if clauses is not None and lang == "en":
        return str(rule)  # a Rule reads as its English name (rule_text of its clauses)
    if clauses is None:
        clauses = rule_ids(rule)
    if clauses is None:
        return rule
    return rule_text(clauses, lang)


def rule_ids(text: str) -> RuleClauses | None:
    """The ids of the English rule name ``text``, or None if a part is not a known name."""
    whole = _rule_part(text)
    if whole is not None:
        return ((whole,),)
    clauses = []
    for clause in text.split("; "):
        one = _rule_part(clause)
        parts = [one] if one is not None else [_rule_part(p) for p in clause.split(", ")]
        if any(p is None for p in parts):
            return None
        clauses.append(tuple(parts))
    return tuple(clauses)  # type: ignore[arg-type]


def _rule_part(text: str) -> tuple[str, str] | None:
    for key, template in EN.items():
        if not key.startswith("rule.") or key.startswith("rule.join."):
            continue
        if template == text:
            return (key[5:], "")
        if "{name}" in template:
            pattern = re.escape(template).replace(r"\{name\}", "(?P<name>.+)")
            match = re.fullmatch(pattern, text)
            if match:
                return (key[5:], match["name"])
    return None
