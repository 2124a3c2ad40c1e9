"""The workspace database: one SQLite file per workspace, migrations, transactions."""
