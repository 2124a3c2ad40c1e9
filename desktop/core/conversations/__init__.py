"""Conversations pulled from the hosted bot: their form, storage, masking, gaps and stats.

protocol  the wire form of a page (docs/publish-protocol.md), checked entry by entry
masking   e-mail addresses and phone numbers out of visitor text
store     the workspace's tables: save a page, retention, filters, leads, forget
saving    one pulled conversation written (or skipped: erased, expired, unchanged)
pull      an incremental, resumable pull through the publish client
gaps      failed visitor questions grouped by meaning (embedder) or by shared words
stats     per-release rates, and cited passages as they are in the workspace now
"""
