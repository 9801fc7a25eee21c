"""Replies in post threads become comments: reading them, writing them in batches, catching up."""
