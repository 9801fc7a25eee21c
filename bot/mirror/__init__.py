"""Posts become threads: where posts come from, their threads and starters, and web comments
posted into those threads."""
