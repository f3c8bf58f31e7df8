"""`pipeline-docs init`: a starting config, mkdocs.yml, owners.yml and guide for a pipeline."""

from __future__ import annotations

import click


@click.command("init")
def init_command() -> None:
    """Write a starting pipeline-docs.yml, mkdocs.yml, owners.yml and onboarding guide."""
    raise click.ClickException("not written yet")
