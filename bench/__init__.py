"""redtrail's benchmark: a deterministic trail-file generator, the naive reference script and the runner."""
