"""`botdesk refresh` (sync, test, publish if safe; its history) and `botdesk schedule`.

Only argparse is imported here: the services are imported inside the handlers, so that
building the parser (`botdesk --help`) stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "refresh",
        help="sync every source, run the saved tests, publish if nothing regressed",
        description="Sync every source, run the saved test set against the new index and, "
        "with --publish, publish to the remembered endpoint if the publish checks pass and "
        "no test that passed before now fails. The tests are not re-run when the latest "
        "run answered from the same content. Prints one line (what changed, what failed, "
        "whether it went live); exit status 0 when all went well, 1 when something "
        "failed, a test regressed or the "
        "publish was blocked. Each refresh is recorded in the workspace (--history). Only "
        "one refresh, sync or publish of a workspace runs at a time.",
    )
    parser.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")
    parser.add_argument(
        "--publish", action="store_true", help="publish the result when it is safe to"
    )
    parser.add_argument(
        "--history", action="store_true", help="list the earlier refreshes instead (newest first)"
    )
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="with --history: at most N (20)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_refresh)

    parser = subparsers.add_parser(
        "schedule",
        help="refresh a workspace daily or weekly with the system's scheduler",
        description="Install (or remove, or show) the system's own scheduler entry that runs "
        "`botdesk refresh WS --publish`: a systemd user timer on Linux (a crontab line "
        "where there is no systemd user session), a launchd agent on macOS, a Task "
        "Scheduler task on Windows. Nothing of Botdesk keeps running in between.",
    )
    parser.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--daily", metavar="HH:MM", help="every day at this local time")
    when.add_argument(
        "--weekly", nargs=2, metavar=("DAY", "HH:MM"), help="every week, e.g. --weekly mon 03:00"
    )
    when.add_argument("--off", action="store_true", help="remove this workspace's schedule")
    when.add_argument("--show", action="store_true", help="show what is installed")
    parser.add_argument(
        "--no-publish", action="store_true", help="refresh and test only; never publish"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_schedule)


def run_refresh(args: argparse.Namespace) -> int:
    import asyncio

    from desktop.cli.output import StderrProgress, print_json, print_table
    from desktop.core.jobs import Job
    from desktop.services import refresh, refresh_history
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        if args.history:
            reports = refresh_history.history(ws, limit=max(1, args.limit))
            if args.json:
                print_json([r.to_json() for r in reports])
            elif not reports:
                print("No refresh yet. Run `botdesk refresh WS` (or set a schedule).")
            else:
                print_table(refresh_history.history_rows(reports), refresh_history.HISTORY_HEADERS)
            return 0
        job = Job(f"Refresh {ws.path.name}")
        if not args.json:
            job.listeners.append(StderrProgress())
        report = asyncio.run(
            refresh.refresh(ws, job, publish_after=args.publish, backends=args.backends)
        )
    if args.json:
        print_json(report.to_json())
    else:
        print(report.summary)
    if report.exit_code:
        print(f"botdesk: refresh {report.status}: {report.reason}", file=sys.stderr)
    return int(report.exit_code or 0)


def run_schedule(args: argparse.Namespace) -> int:
    from desktop.cli.output import print_json
    from desktop.services import schedule

    if args.show:
        installed = schedule.show(args.workspace)
        if args.json:
            print_json(installed.to_json() if installed else None)
        elif installed is None:
            print("No refresh schedule for this workspace.")
        else:
            print(installed.describe())
        return 0
    if args.off:
        removed = schedule.remove(args.workspace)
        if args.json:
            print_json({"removed": [str(p) for p in removed.removed]})
        else:
            print(removed.describe())
        return 0
    if args.daily:
        wanted = schedule.parse_schedule(at=args.daily)
    else:
        wanted = schedule.parse_schedule(at=args.weekly[1], weekday=args.weekly[0])
    installed = schedule.install(args.workspace, wanted, publish=not args.no_publish)
    if args.json:
        print_json(installed.to_json())
    else:
        print(installed.describe())
    return 0
