"""``python -m overparam`` is the ``overparam`` command."""

from .cli import main

main()
