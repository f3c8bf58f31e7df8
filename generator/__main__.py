"""`python -m generator`: the same as the `pipeline-docs` command."""

from .cli import entry

entry()
