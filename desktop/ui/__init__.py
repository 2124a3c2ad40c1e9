"""The PySide6 desktop app: widgets, item-model adapters and dialogs over desktop.services."""
