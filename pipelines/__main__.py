"""`python -m pipelines` = the `edustat` command."""

from pipelines.cli import main

raise SystemExit(main())
