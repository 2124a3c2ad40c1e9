"""The pipeline and the workspace: pure Python and asyncio, no Qt, no print()."""
