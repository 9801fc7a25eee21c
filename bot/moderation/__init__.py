"""Moderation: the pure rules run on every new and edited comment."""
