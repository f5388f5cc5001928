"""The doing: threads, locks, the per-bed journal and its readers (recorder, effects)."""
