"""threadbridge: mirrors a community's posts into Discord threads and syncs the replies back."""

__version__ = "0.1.0"
