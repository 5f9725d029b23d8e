"""`python -m pipelines` = the `edustat` command."""

from pipelines.cli import run

run()
