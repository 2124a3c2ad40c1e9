"""The Content page: sources ▸ documents ▸ [extracted Markdown | passages], curation, sync.

page.py wires; panels.py and reading.py are the widgets (they emit intent); models.py the
table models; actions.py and commands.py what the user does (undoable edits, jobs);
dialogs.py, site_dialog.py and source_settings.py the dialogs.
"""
