"""The bed's decisions: pure functions of inputs and time (no threads, no storage, no clock)."""
