"""`python -m desktop` runs the `botdesk` command line."""

from desktop.cli import main

raise SystemExit(main())
