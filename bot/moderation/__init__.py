"""Moderation: the rules every comment is judged by, the rules in force, and cases with what
they do in Discord."""
