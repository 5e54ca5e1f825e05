"""The pure core: what a trail file holds and what becomes of it. No AWS, no CLI, no I/O of its own."""
