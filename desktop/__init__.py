"""Botdesk: curate what a website chatbot knows."""

__version__ = "0.1.0"
