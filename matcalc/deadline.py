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

The host is never disturbed: ``alarm`` restores the previous handler and the caller's
own timer, delivers a caller's tick that falls due meanwhile to the caller's handler,
never lets ``Expired`` out (a tick landing while it arms or disarms is only noted), and
in any thread refuses a block that finished after its deadline.  ``Deadline(s,
cpu=True)`` is a budget in CPU time (ITIMER_PROF/SIGPROF, apart from the wall clock's
SIGALRM), used for optional rewrites so that a busy machine does not change the output.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from matcalc.errors import LimitError
from matcalc.msg import Msg


class Deadline:
    """The moment a derivation must be finished by (``seconds=None``: never).

    ``cpu=True`` counts the process's CPU time instead of the wall clock: a budget for
    one optional step that does not depend on how busy the machine is."""

    def __init__(self, seconds: float | None, *, cpu: bool = False):
        if seconds is not None and not seconds > 0:  # also nan
            raise LimitError(Msg("err.time.positive"))
        self.seconds = seconds
        self.cpu = cpu
        self.clock = time.process_time if cpu else time.monotonic
        self.end = None if seconds is None else self.clock() + seconds

    def check(self) -> None:
        if self.end is not None and self.clock() > self.end:
            raise self.error()

    def remaining(self) -> float | None:
        """Seconds left (at least a microsecond), or None without a limit."""
        return None if self.end is None else max(self.end - self.clock(), 1e-6)

    def error(self) -> LimitError:
        return LimitError(Msg("err.time.exceeded", seconds=f"{self.seconds:g}"))


NEVER = Deadline(None)
REPEAT = 0.05
"""Seconds between repeated interruptions once the deadline has passed."""


class Expired(BaseException):
    """Raised by SIGALRM at the deadline; ``alarm`` converts it to ``LimitError``.

    A ``BaseException`` on purpose: ``except Exception`` must not catch it.
    """


class Foreign(BaseException):
    """The exception a caller's own SIGALRM handler raised while ``alarm`` was armed; the
    alarm lets it out unchanged (``error``), past matcalc's ``except Exception``."""

    def __init__(self, error: BaseException, owner: object):
        super().__init__(error)
        self.error = error
        self.owner = owner


MAX_TIMER = 1e8
"""Seconds: a longer limit arms no timer (setitimer cannot hold it)."""


class alarm:  # used as ``with alarm(deadline):``, like a function
    """Interrupt the block with SIGALRM at the deadline, where signals can be used.

    In any thread the block also ends with ``LimitError`` if it finished after the
    deadline: a result is never handed back late.

    Where a signal is used (the main thread of a Unix process), the host is left as it
    was: the previous SIGALRM handler is restored and the caller's own ``alarm`` /
    ``setitimer`` timer is re-armed for the time it had left.  A caller's timer that falls
    due while the block runs is delivered on time, to the caller's handler; an exception
    that handler raises leaves the block unchanged (a ``TimeoutError`` of the caller's
    stays a ``TimeoutError``).  ``Expired`` never escapes: a signal that lands while the
    alarm is being armed or disarmed is noted, not raised, and once the block has ended
    the handler only ever restores the caller's state.
    """

    def __init__(self, deadline: Deadline):
        self.deadline = deadline
        self.armed = False
        self.fired = False
        self.used = False

    # -- the block ------------------------------------------------------------------------
    def __enter__(self) -> alarm:
        seconds = self.deadline.seconds
        self.used = (
            seconds is not None
            and seconds <= MAX_TIMER
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )
        if not self.used:
            return self
        # a CPU-time budget has its own timer and signal, apart from the wall clock's
        self.timer, self.signum = (
            (signal.ITIMER_PROF, signal.SIGPROF)
            if self.deadline.cpu
            else (signal.ITIMER_REAL, signal.SIGALRM)
        )
        self.previous = signal.getsignal(self.signum)
        delay, self.caller_interval = signal.getitimer(self.timer)
        now = self.deadline.clock()
        self.caller_due = now + delay if delay > 0 else None
        self.unraisable = sys.unraisablehook
        sys.unraisablehook = self._quiet
        signal.signal(self.signum, self._interrupt)
        self.armed = True
        self._schedule(now)
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.armed = False  # first: from here on the handler raises nothing
        if self.used:
            self._restore()
        if isinstance(error, Foreign) and error.owner is self:
            raise error.error from None
        if isinstance(error, Expired) or (self.fired and error is None):
            raise self.deadline.error() from None
        if error is None:
            self.deadline.check()  # finished, but too late: the result is not handed back

    # -- the timer ------------------------------------------------------------------------
    def _schedule(self, now: float) -> None:
        """Arm the timer for whichever comes first: our deadline or the caller's timer."""
        due = self.deadline.end
        assert due is not None  # armed only for a deadline that ends (``used``)
        if self.caller_due is not None:
            due = min(due, self.caller_due)
        signal.setitimer(self.timer, max(due - now, 1e-6), REPEAT)

    def _restore(self) -> None:
        signal.setitimer(self.timer, 0)
        signal.signal(self.signum, self.previous if self.previous is not None else signal.SIG_DFL)
        sys.unraisablehook = self.unraisable
        if self.caller_due is not None:
            left = max(self.caller_due - self.deadline.clock(), 1e-6)  # overdue: at once
            signal.setitimer(self.timer, left, self.caller_interval)
        self.used = False

    def _interrupt(self, signum, frame) -> None:
        if not self.used:  # a tick that was already on its way when the block ended
            return
        now = self.deadline.clock()
        end = self.deadline.end
        ours = self.armed and end is not None and now >= end - 1e-3
        if frame is not None and frame.f_code in _QUIET_CODES:
            # inside __enter__/__exit__: our expiry is noted (and raised by __exit__), the
            # caller's tick waits for the next one or for the restored timer
            self.fired = self.fired or ours
            return
        if self.caller_due is not None and now >= self.caller_due:
            self._deliver(signum, frame, now)
        if ours and self.armed:
            raise Expired

    def _deliver(self, signum, frame, now: float) -> None:
        """The caller's own timer is due: run the caller's handler, as if we were not here."""
        interval = self.caller_interval
        self.caller_due = now + interval if interval > 0 else None
        if self.armed:
            self._schedule(now)
        handler = self.previous
        if handler == signal.SIG_IGN:
            return
        if not callable(handler):  # SIG_DFL: the signal ends the process, as it would have
            self.armed = False
            self._restore()
            signal.signal(self.signum, signal.SIG_DFL)
            os.kill(os.getpid(), self.signum)
            return
        try:
            handler(signum, frame)
        except BaseException as error:  # also an enclosing alarm's Expired: it is theirs
            raise Foreign(error, self) from None

    def _quiet(self, info) -> None:
        """Expired inside a __del__ or gc callback: lost, and raised again at the next tick."""
        if not isinstance(info.exc_value, Expired):
            self.unraisable(info)


_QUIET_CODES = frozenset(
    {
        alarm.__enter__.__code__,
        alarm.__exit__.__code__,
        alarm._schedule.__code__,
        alarm._restore.__code__,
    }
)
