"""The bundle: the one SQLite file a published bot answers from.

format.py (tables, manifest, vector forms), write.py (built from a workspace), read.py
(opened and checked). Above the index (which hands the writer its vectors), below publish.
Nothing is imported here, so `core.bundle.quantization` stays light for the CLI's --help.
"""
