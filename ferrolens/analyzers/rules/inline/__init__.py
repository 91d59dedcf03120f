"""Rules of the `perf` group about inlining: #[inline], #[cold], hot/cold splits."""
