"""`botdesk conversations|gaps|leads`: what visitors asked the live bot, its failures, leads.

No service at import time (`botdesk --help` stays fast): the services are imported by
the handlers that use them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.options import add_target_options

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

FILTERS = ("all", "declined", "down", "uncited", "lead")
VERBS = ("pull", "show", "to-test", "forget")

_USAGE = """\
  botdesk conversations pull WS [--endpoint URL] [--bot-id ID] [--json]
  botdesk conversations WS [--filter declined|down|uncited|lead|all] [--release ID]
                           [--since DATE] [--until DATE] [--text WORDS] [--json]
  botdesk conversations show WS ID [--json]
  botdesk conversations to-test WS ID [--message MSG_ID] [--json]
  botdesk conversations forget WS ID [--json]"""


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "conversations",
        help="pull, list, show, turn into tests or forget the live bot's conversations",
        usage=_USAGE,
        description="The hosted bot's conversations, pulled into the workspace (the endpoint "
        "and bot id default to the ones remembered for publishing). Visitors' e-mail "
        "addresses and phone numbers are masked; conversations older than the retention "
        "period (90 days) are deleted at each pull. `forget` deletes one here and on the "
        "service.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("words", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run_conversations)

    parser = subparsers.add_parser(
        "gaps",
        help="group the questions the live bot declined or got a thumbs down for",
        description="Visitors' questions that were declined or got a thumbs down, grouped by "
        "meaning (the workspace's embedder; shared words without one), largest group first.",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_gaps)

    parser = subparsers.add_parser(
        "leads",
        help="list the leads visitors left, or export them to CSV",
        description="The leads captured by the widget in pulled conversations, as given.",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write them to a CSV file")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_leads)


def _verb_parser(verb: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"botdesk conversations {verb}")
    parser.add_argument("workspace", metavar="WS")
    if verb == "pull":
        add_target_options(
            parser,
            endpoint_help="defaults to the publish endpoint",
            bot_id_help="defaults to the published bot",
        )
    elif verb == "list":
        parser.prog = "botdesk conversations"
        parser.add_argument("--filter", choices=FILTERS, default="all")
        parser.add_argument("--release", metavar="ID", help="only those a release answered")
        parser.add_argument("--since", metavar="DATE", help="last activity on or after (ISO)")
        parser.add_argument("--until", metavar="DATE", help="last activity on or before (ISO)")
        parser.add_argument("--text", metavar="WORDS", help="full-text search of the messages")
        parser.add_argument("--limit", type=int, metavar="N")
    else:
        parser.add_argument("conversation_id", metavar="ID")
        if verb == "to-test":
            parser.add_argument("--message", metavar="MSG_ID", help="the visitor message")
    parser.add_argument("--json", action="store_true")
    return parser


def run_conversations(args: argparse.Namespace) -> int:
    words: list[str] = list(args.words)
    if not words:
        print(f"usage:\n{_USAGE}", file=sys.stderr)
        return 2
    verb = words[0] if words[0] in VERBS else "list"
    rest = words[1:] if verb != "list" else words
    options = _verb_parser(verb).parse_args(rest)
    options.backends = args.backends
    handler = {
        "pull": _pull,
        "list": _list,
        "show": _show,
        "to-test": _to_test,
        "forget": _forget,
    }[verb]
    return handler(options)


def _pull(args: argparse.Namespace) -> int:
    import asyncio

    from desktop.cli.output import print_json, progress_job
    from desktop.services import conversations
    from desktop.services.workspaces import open_workspace

    job = progress_job("Pull conversations", quiet=args.json)
    with open_workspace(args.workspace) as ws:
        summary = asyncio.run(
            conversations.pull(
                ws, job, endpoint=args.endpoint, bot_id=args.bot_id, backends=args.backends
            )
        )
    if args.json:
        data = summary.to_json()
        data["problems"] = [{"item": e.item, "reason": e.reason} for e in job.errors]
        print_json(data)
    else:
        print(summary.line())
        for error in job.errors:
            print(f"skipped {error.item}: {error.reason}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from desktop.cli.output import print_json, print_table
    from desktop.services import conversations
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        found = conversations.list_conversations(
            ws,
            kind=args.filter,
            release_id=args.release,
            since=args.since,
            until=args.until,
            text=args.text,
            limit=args.limit,
        )
        last = conversations.last_pull(ws)
    if args.json:
        print_json({"conversations": [c.to_json() for c in found]})
        return 0
    if not found:
        hint = "" if last else " Pull them with `botdesk conversations pull WS`."
        print(f"No conversations.{hint}")
        return 0
    rows = [
        [
            c.id,
            c.updated_at,
            c.release_id or "",
            str(c.questions),
            str(c.declined),
            str(c.down),
            "yes" if c.has_lead else "",
            " ".join(c.first_question.split()),
        ]
        for c in found
    ]
    print_table(
        rows,
        ["id", "updated", "release", "questions", "declined", "down", "lead", "first question"],
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    from desktop.cli.output import print_json
    from desktop.services import conversations
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        view = conversations.show(ws, args.conversation_id)
    if args.json:
        print_json(view.to_json())
        return 0
    summary = view.summary
    print(f"Conversation {summary.id} · {summary.started_at} · release {summary.release_id or '?'}")
    if summary.page_url:
        print(f"on {summary.page_url}")
    for item in view.messages:
        message = item.message
        marks = []
        if message.declined:
            marks.append("declined")
        if message.feedback:
            marks.append(f"thumbs {message.feedback}")
        mark = f" [{', '.join(marks)}]" if marks else ""
        print(f"\n{message.role} {message.id}{mark}:\n{message.text}")
        for cited in item.cited:
            print(f"  [{cited.n}] passage {cited.passage_id} ({cited.change}: {cited.note})")
    if view.lead is not None:
        print(f"\nlead: {view.lead.name} {view.lead.email} {view.lead.phone}".rstrip())
    return 0


def _to_test(args: argparse.Namespace) -> int:
    from desktop.cli.output import print_json
    from desktop.services import conversations
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        question, report = conversations.add_to_test_set(ws, args.conversation_id, args.message)
    data: dict[str, Any] = question.to_json()
    if args.json:
        print_json({"question": data, "added": report.added, "updated": report.updated})
        return 0
    verb = "Added" if report.added else "Updated"
    expectations = ", ".join(f"{k}={v}" for k, v in data.items() if k != "question")
    print(f"{verb} test question: {question.question}")
    print(f"Expectations: {expectations or 'none (edit them in the test bench)'}")
    return 0


def _forget(args: argparse.Namespace) -> int:
    import asyncio

    from desktop.cli.output import print_json
    from desktop.services import conversations
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        result = asyncio.run(conversations.forget(ws, args.conversation_id, backends=args.backends))
    if args.json:
        print_json(result.to_json())
    else:
        print(result.line())
    return 0 if result.deleted_on_service else 1


def run_gaps(args: argparse.Namespace) -> int:
    import asyncio

    from desktop.cli.output import print_json
    from desktop.services import conversations
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        report = asyncio.run(conversations.find_gaps(ws, backends=args.backends))
    if args.json:
        print_json(report.to_json())
        return 0
    if not report.gaps:
        print("No gaps: no pulled question was declined or got a thumbs down.")
        return 0
    if report.note:
        print(f"({report.note})", file=sys.stderr)
    for gap in report.gaps:
        print(gap.line())
        for question in gap.questions[:5]:
            print(f"    {' '.join(question.text.split())[:120]}")
        if len(gap.questions) > 5:
            print(f"    … and {len(gap.questions) - 5} more")
    return 0


def run_leads(args: argparse.Namespace) -> int:
    from desktop.cli.output import print_json, print_table
    from desktop.services import conversations
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        if args.csv is not None:
            count = conversations.export_leads_csv(ws, args.csv)
            print(f"Wrote {count} lead(s) to {args.csv}.")
            return 0
        leads = conversations.list_leads(ws)
    if args.json:
        print_json({"leads": [lead.to_json() for lead in leads]})
        return 0
    if not leads:
        print("No leads in the pulled conversations.")
        return 0
    rows = [[x.conversation_id, x.updated_at, x.name, x.email, x.phone, x.company] for x in leads]
    print_table(rows, ["conversation", "updated", "name", "email", "phone", "company"])
    return 0
