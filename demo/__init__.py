"""The whole loop in one command, without a Discord account: `python -m demo`.

A local stand-in for Discord (discord_emulator) with a ready community, a fresh database, the
community's post imported from a WordPress export, the bot and the site, and one page showing
the post's Discord thread beside the post's page with its comments, while simulated members
reply. Like discord_emulator, it runs from the repository and is not part of the installed
package.
"""
