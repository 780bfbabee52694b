"""Safety limits that turn a pathological input into an error instead of a hang.

The defaults suit people typing formulas; pass your own ``Limits`` to ``parse``
or ``derive`` to loosen or tighten them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Upper bounds checked while parsing and deriving."""

    max_length: int = 2000
    """Characters of input text."""
    max_nodes: int = 500
    """Syntax-tree nodes of one expression."""
    max_depth: int = 60
    """Nesting depth (parentheses, calls, operators)."""
    max_integer_digits: int = 30
    """Decimal digits of an integer literal."""
    max_exponent: int = 1000
    """Absolute value of a numeric exponent."""
    max_factorial: int = 100
    """Largest integer argument of factorial."""
    timeout: float = 10.0
    """Wall-clock seconds for one derivation."""
    max_memory: int | None = 1 << 30
    """Bytes of address space for the process (the CLI and ``doc`` workers; 1 GiB), or None.

    ``derive`` does not apply it: a library caller that needs a cap runs matcalc in a
    subprocess under ``memory_cap`` (or its own ``resource.setrlimit``), as the CLI does.
    """


DEFAULT_LIMITS = Limits()


@contextlib.contextmanager
def memory_cap(nbytes: int | None) -> Iterator[None]:
    """Lower this process's address-space limit to ``nbytes`` for the block, then restore it.

    Only the soft limit is lowered (never above an existing limit), so it can be restored;
    processes forked inside the block inherit it.  Allocations past the cap raise
    ``MemoryError``, which the CLI reports as a limit error.  A process that already uses
    more than half of ``nbytes`` (a test runner calling the CLI in-process) gets ``nbytes``
    on top of what it uses.  A no-op for ``None`` and where ``resource`` is missing (Windows).
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    if nbytes is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = _address_space_used()
    cap = nbytes if used < nbytes // 2 else used + nbytes
    for existing in (soft, hard):
        if existing != resource.RLIM_INFINITY:
            cap = min(cap, existing)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError):  # pragma: no cover - refused by the system: run uncapped
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space_used() -> int:
    """This process's virtual memory size in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


def format_bytes(nbytes: int) -> str:
    """1073741824 -> "1 GiB", 536870912 -> "512 MiB"."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= size:
            return f"{nbytes / size:g} {unit}"
    return f"{nbytes} bytes"
