"""discord.py extensions, one per capability: they turn Discord events into calls on bot/."""
