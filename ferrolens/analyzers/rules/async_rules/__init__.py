"""Rules of the `async` group: Tokio tasks, channels and actors."""
