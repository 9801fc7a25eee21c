"""`python -m bot`: the same commands as the `threadbridge` script."""

from bot.cli import cli

if __name__ == "__main__":
    cli()
