"""The one API that both the UI and the CLI call. One module per concern."""
