"""A wall-clock limit for one derivation.

Two layers, because a library caller's worker thread cannot use signals:

- cooperative: ``Deadline.check()`` is called between the engine's steps (each
  local derivative, each simplification, each verification point), in any
  thread;
- pre-emptive: in the main thread of a Unix process (the CLI, ``doc --jobs N``
  workers) ``alarm(deadline)`` also arms ``SIGALRM``, which interrupts a single
  long SymPy call.

Both raise ``LimitError`` naming the limit.  The signal handler raises ``Expired``, a
``BaseException``, so that no ``except Exception`` on the way (SymPy has many, and
matcalc's own "a rewrite that fails is skipped" guards are some) can swallow it;
``alarm`` turns it into the ``LimitError``.  Once the deadline has passed the signal
repeats every ``REPEAT`` seconds, because an exception raised inside a C-level
comparison (a dict lookup in SymPy's cache) can be lost.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator

from matcalc.errors import LimitError


class Deadline:
    """The moment a derivation must be finished by (``seconds=None``: never)."""

    def __init__(self, seconds: float | None):
        if seconds is not None and seconds <= 0:
            raise LimitError("the time limit must be a positive number of seconds")
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    def check(self) -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise self.error()

    def error(self) -> LimitError:
        return LimitError(f"time limit of {self.seconds:g} s exceeded (set it with --timeout)")


NEVER = Deadline(None)
REPEAT = 0.05
"""Seconds between repeated interruptions once the deadline has passed."""


class Expired(BaseException):
    """Raised by SIGALRM at the deadline; ``alarm`` converts it to ``LimitError``.

    A ``BaseException`` on purpose: ``except Exception`` must not catch it.
    """


@contextlib.contextmanager
def alarm(deadline: Deadline) -> Iterator[None]:
    """Interrupt the block with SIGALRM at the deadline, where signals can be used."""
    usable = (
        deadline.seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    armed = True

    def interrupt(signum, frame):
        if armed:
            raise Expired

    unraisable = sys.unraisablehook

    def quiet(info):  # Expired inside a __del__ or gc callback: lost, and re-raised next tick
        if not isinstance(info.exc_value, Expired):
            unraisable(info)

    previous = signal.signal(signal.SIGALRM, interrupt)
    sys.unraisablehook = quiet
    signal.setitimer(signal.ITIMER_REAL, deadline.seconds, REPEAT)
    try:
        yield
    except Expired:
        raise deadline.error() from None
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = unraisable
