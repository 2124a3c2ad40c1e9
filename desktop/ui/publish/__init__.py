"""The Publish page: page.py wires panels.py (with form.py and preview.py), models.py,
actions.py and dialogs.py."""
