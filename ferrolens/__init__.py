"""ferrolens: performance and DRY hints for Rust, live in the editor and in batch."""

__version__ = "0.1.0"


def tune_gc() -> None:
    """Collect young objects every 100,000 allocations instead of 700. An analysis makes many short-lived
    tuples while the process holds millions of long-lived objects (trees' summaries, caches, the clone
    index), and Python's default thresholds walk those again and again: measured, `check --jobs 1` over the
    corpus 14.2 -> 9.9 s of CPU (two runs each); in the server the effect is within this machine's noise."""
    import gc

    gc.set_threshold(100_000, 50, 1000)
