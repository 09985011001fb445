"""``python -m modelwire.cli`` runs the command line."""

from modelwire.cli.app import main

main()
