"""``python -m crmpm`` is the ``crmpm`` command."""

from crmpm.cli import run

run()
