"""``python -m qa`` runs the ``qa`` command line."""

from qa.cli import main

main()
