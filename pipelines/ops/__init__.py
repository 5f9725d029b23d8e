"""Operations: the Prefect server and work pools edustat runs on (helpers, no flows)."""
