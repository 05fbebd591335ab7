"""``python -m idp`` is the ``readerpass`` command."""

from .cli import main

main()
