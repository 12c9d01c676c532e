"""Analytics services: writes (targets, adjustments, snapshots)."""
