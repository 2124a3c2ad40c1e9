"""The Search page: the retrieval preview (page wiring, panels, table models, actions)."""
