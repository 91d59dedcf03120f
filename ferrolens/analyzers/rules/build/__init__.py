"""Rules of the `build` group: Cargo.toml settings, dependencies and compile-time habits."""
