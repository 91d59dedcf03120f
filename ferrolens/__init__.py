"""ferrolens: performance and DRY hints for Rust, live in the editor and in batch."""

__version__ = "0.1.0"
