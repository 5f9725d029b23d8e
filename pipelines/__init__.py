"""edustat: education statistics pipeline."""
