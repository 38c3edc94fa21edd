"""The bot's features, one cog each: asking, answer buttons, feedback and admin commands."""
