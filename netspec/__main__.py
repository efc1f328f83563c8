"""`python -m netspec ...` (and `torchrun -m netspec ...`) run the CLI."""

from .cli import main

main()
