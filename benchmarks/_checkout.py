"""Import this before matcalc: the benchmarks time the checkout they sit in.

A script's own folder (``benchmarks/``) is first on ``sys.path``, so ``import matcalc`` would
otherwise find an installed matcalc (an editable install of another checkout, say) and time
that one."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
