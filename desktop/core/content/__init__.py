"""The content pipeline: chunking, curation and reconciliation, boilerplate, sync."""
