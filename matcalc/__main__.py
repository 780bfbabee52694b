"""``python -m matcalc`` runs the same CLI as the ``matcalc`` command."""

from matcalc.cli import main

main(prog_name="matcalc")
