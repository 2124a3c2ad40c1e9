"""Entry point of the frozen app: the `botdesk` command, and the window for a double-click.

`botdesk` is exactly the source entry point (`desktop.cli:main`): the argv decides, and
`botdesk app [FILE]` opens the window. The windowed `botdesk-gui` of the Windows and macOS
builds is started by a double-click or a file association, with no argument or a file:
it opens the window on that file.
"""

import multiprocessing
import sys
from pathlib import Path

from desktop.cli import main
from desktop.cli.gui import window_argv

if __name__ == "__main__":
    # The PDF parser and the HTML extraction pool run in spawned child processes: started
    # from a frozen app, the child is this executable again, and here it becomes the worker
    # (without this, the command line would be handed multiprocessing's arguments).
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    if Path(sys.executable).stem == "botdesk-gui":
        argv = window_argv(argv)
    raise SystemExit(main(argv))
