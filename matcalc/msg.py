"""A sentence of the message catalogue as data: a key and its values, no text.

Steps (their explanations, rule names) and errors carry ``Msg`` values; renderers and the
CLI look them up in ``matcalc.render.messages`` in the language asked for.  ``str(msg)`` is
the English sentence.  A value may itself be a ``Msg`` (a phrase such as "the vector x"),
translated together with the sentence around it.
"""

from __future__ import annotations

from typing import Any


class Msg:
    """``key`` of the catalogue with its placeholder values ``kw``."""

    __slots__ = ("key", "kw")

    def __init__(self, key: str, **kw: Any) -> None:
        self.key = key
        self.kw = kw

    def text(self, lang: str = "en") -> str:
        """The sentence in ``lang`` (English when the catalogue of ``lang`` lacks it)."""
        from matcalc.render.messages import message

        values = {k: _in(v, lang) for k, v in self.kw.items()}
        return message(self.key, lang, **values)

    def __str__(self) -> str:
        return self.text("en")

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, **{self.kw!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.key, self.kw) == (other.key, other.kw)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted(self.kw))))

    def __reduce__(self) -> tuple[Any, ...]:  # pickled into and out of worker processes
        return (_rebuild, (self.key, self.kw))


def _in(value: Any, lang: str) -> Any:
    """A value in ``lang``: a ``Msg`` or ``steps.Rule`` translated, anything else as it is."""
    translate = getattr(value, "text", None)
    return translate(lang) if callable(translate) else value


def _rebuild(key: str, kw: dict[str, Any]) -> Msg:
    return Msg(key, **kw)


def text(value: Msg | str, lang: str = "en") -> str:
    """``value`` in ``lang``: a ``Msg`` looked up, plain text as it is."""
    return value.text(lang) if isinstance(value, Msg) else value
