"""Customer interactions and the contact cadence (沟通及时 · 回访)."""
