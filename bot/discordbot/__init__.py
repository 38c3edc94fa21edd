"""Answer questions on Discord: slash commands, mentions, replies, DMs and ask channels."""
