"""The Conversations page: what visitors asked the live bot, its gaps, failures and leads."""
