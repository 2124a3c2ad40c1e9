"""`botdesk profile`, `ask`, `test` and `runs`: answer profiles, grounded answers, test sets."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.output import StderrProgress, print_json, print_table
from desktop.core.answering.types import DEFAULT_TEST_CONCURRENCY, MODES, AnswerResult
from desktop.core.errors import ConfigError
from desktop.core.jobs import Job

if TYPE_CHECKING:
    from desktop.core.answering.runreview import RunComparison
    from desktop.core.answering.testruns import ProfileTotals
    from desktop.services import answers

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: SubParsers) -> None:
    _register_profile(subparsers)
    _register_ask(subparsers)
    _register_test(subparsers)
    _register_runs(subparsers)


# -- profile ---------------------------------------------------------------------------
def _register_profile(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="create, change or list answer profiles",
        description="Answer profiles: which model, prompt and retrieval settings answer.",
    )
    verbs = parser.add_subparsers(dest="profile_command", metavar="VERB")
    set_parser = verbs.add_parser(
        "set",
        help="create or change a profile",
        description="Create a profile (needs --generator) or change some of its settings.",
    )
    set_parser.add_argument("workspace", metavar="WS")
    set_parser.add_argument("name", metavar="NAME")
    set_parser.add_argument("--generator", help="ollama:MODEL or mistral:MODEL")
    set_parser.add_argument("--k", type=int, help="passages retrieved (1-50)")
    set_parser.add_argument(
        "--min-score",
        help="minimum search score a passage needs (a number, or 'none' for no minimum)",
    )
    set_parser.add_argument("--mode", choices=MODES, help="retrieval mode")
    set_parser.add_argument(
        "--prompt-file", type=Path, help="a UTF-8 text file with the system prompt"
    )
    set_parser.add_argument("--default-prompt", action="store_true", help="use the shipped prompt")
    set_parser.add_argument("--temperature", type=float, help="0 to 2")
    set_parser.add_argument("--max-tokens", type=int, help="longest answer, in tokens")
    set_parser.add_argument("--refusal", help="what the bot says when it has no passage")
    set_parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    set_parser.set_defaults(handler=run_profile_set)
    list_parser = verbs.add_parser(
        "list", help="list profiles", description="List the workspace's answer profiles."
    )
    list_parser.add_argument("workspace", metavar="WS")
    list_parser.add_argument("--json", action="store_true", help="machine-readable output")
    list_parser.set_defaults(handler=run_profile_list)
    parser.set_defaults(handler=lambda _a: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _profile_json(profile: answers.AnswerProfile) -> dict[str, Any]:
    return {"name": profile.name, **profile.settings()}


def run_profile_set(args: argparse.Namespace) -> int:
    from desktop.services import answers
    from desktop.services.workspaces import open_workspace

    changes: dict[str, Any] = {}
    for option, key in (
        ("generator", "generator"),
        ("k", "k"),
        ("mode", "mode"),
        ("temperature", "temperature"),
        ("max_tokens", "max_tokens"),
        ("refusal", "refusal"),
    ):
        value = getattr(args, option)
        if value is not None:
            changes[key] = value
    if args.min_score is not None:
        text = args.min_score.strip().lower()
        try:
            changes["min_score"] = None if text in ("none", "") else float(text)
        except ValueError as exc:
            raise ConfigError(
                f"--min-score must be a number or 'none', not {args.min_score!r}."
            ) from exc
    if args.prompt_file is not None:
        try:
            changes["system_prompt"] = args.prompt_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the prompt file {args.prompt_file}: {exc}.") from exc
    elif args.default_prompt:
        changes["system_prompt"] = answers.default_system_prompt()
    with open_workspace(args.workspace) as ws:
        profile = answers.set_profile(ws, args.name, **changes)
    if args.json:
        print_json(_profile_json(profile))
    else:
        print(f"Profile {profile.name}: {profile.generator}, {profile.mode}, k={profile.k}")
    return 0


def run_profile_list(args: argparse.Namespace) -> int:
    from desktop.services import answers
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        profiles = answers.list_profiles(ws)
    if args.json:
        print_json([_profile_json(p) for p in profiles])
        return 0
    rows = [
        [
            p.name,
            p.generator,
            p.mode,
            str(p.k),
            "-" if p.min_score is None else f"{p.min_score:g}",
            f"{p.temperature:g}",
            str(p.max_tokens),
        ]
        for p in profiles
    ]
    print_table(rows, ["NAME", "GENERATOR", "MODE", "K", "MIN SCORE", "TEMP", "MAX TOKENS"])
    return 0


# -- ask -------------------------------------------------------------------------------
def _register_ask(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "ask",
        help="answer a question from the workspace's passages, with citations",
        description="Retrieve passages for QUESTION and answer from them, citing [n]. "
        "The answer streams to stdout; --json prints one JSON document at the end.",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("question", metavar="QUESTION")
    parser.add_argument("--profile", default="default", help="answer profile (default: default)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run_ask)


def run_ask(args: argparse.Namespace) -> int:
    from desktop.services import answers
    from desktop.services.workspaces import open_workspace

    def stream(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    with open_workspace(args.workspace) as ws:
        result = asyncio.run(
            answers.ask(
                ws,
                args.question,
                profile=args.profile,
                on_delta=None if args.json else stream,
                backends=args.backends,
            )
        )
    if args.json:
        print_json(result.to_json())
    else:
        print()
        _print_result_details(result)
    if result.error:
        print(f"botdesk: {result.error}", file=sys.stderr)
        return 1
    return 0


def _print_result_details(result: AnswerResult) -> None:
    if result.citations:
        print("\nSources:")
        for c in result.citations:
            print(f"  [{c.n}] {c.source.label()}  (passage {c.chunk_id})")
    if result.invalid_citations:
        numbers = ", ".join(f"[{n}]" for n in result.invalid_citations)
        print(f"  Warning: cites passages that were not given: {numbers}")
    tokens = (
        f"{result.prompt_tokens}+{result.completion_tokens} tokens"
        if result.prompt_tokens is not None
        else "tokens: n/a"
    )
    first = f"{result.first_token_s:.2f}s first token, " if result.first_token_s else ""
    total = f"{result.total_s:.2f}s total" if result.total_s is not None else ""
    cost = "cost n/a" if result.cost is None else f"${result.cost:.6f}"
    declined = " · declined" if result.declined else ""
    print(
        f"\n{result.profile} ({result.generator}) · {len(result.passages)} passages · "
        f"{tokens} · {first}{total} · {cost}{declined}",
        file=sys.stderr,
    )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)


# -- test ------------------------------------------------------------------------------
def _register_test(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "test",
        help="run, import or export the saved test set",
        description=(
            "botdesk test WS [--profile NAME]... [--json] [--concurrency N] [--bundle FILE]: "
            "run the saved test set and print each question's result and the totals.\n"
            "botdesk test import WS FILE.csv|FILE.jsonl: add questions (a file with a bad "
            "row is refused whole, with every row's reason).\n"
            "botdesk test export WS FILE.csv|FILE.jsonl: write the saved questions."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="WS | import | export", help="the workspace, or a verb")
    parser.add_argument("rest", nargs="*", metavar="ARG", help="for import/export: WS FILE")
    parser.add_argument(
        "--profile",
        action="append",
        dest="profiles",
        metavar="NAME",
        help="profile to run with (repeat for several; default: default)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_TEST_CONCURRENCY,
        help="questions answered at once (default: %(default)s)",
    )
    parser.add_argument(
        "--bundle",
        type=Path,
        help="search a built bundle file instead of the workspace (what goes live)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run_test)


def run_test(args: argparse.Namespace) -> int:
    from desktop.services import answers
    from desktop.services.workspaces import open_workspace

    if args.target in ("import", "export"):
        if len(args.rest) != 2:
            print(f"usage: botdesk test {args.target} WS FILE", file=sys.stderr)
            return 2
        workspace, file = args.rest
        with open_workspace(workspace) as ws:
            if args.target == "import":
                imported = answers.import_test_set(ws, file)
                print(
                    f"Imported {imported.added} new and {imported.updated} updated questions; "
                    f"the test set has {imported.total}."
                )
            else:
                count = answers.export_test_set(ws, file)
                print(f"Exported {count} questions to {file}.")
        return 0
    if args.rest:
        print("usage: botdesk test WS [--profile NAME]... [--json]", file=sys.stderr)
        return 2
    job = Job("Test run", listeners=[StderrProgress()])
    with open_workspace(args.target) as ws:
        report = asyncio.run(
            answers.run_tests(
                ws,
                job,
                args.profiles or ["default"],
                concurrency=args.concurrency,
                bundle=args.bundle,
                backends=args.backends,
            )
        )
        rows = answers.run_results(ws, report.run_id)
        comparison = answers.compare_last_runs(ws)
    if args.json:
        print_json(
            {
                "run_id": report.run_id,
                "status": report.status,
                "results": [r.to_json() for r in rows],
                "totals": {name: t.to_json() for name, t in report.totals.items()},
                "compared_with_previous": None if comparison is None else comparison.to_json(),
            }
        )
        return 0
    for row in rows:
        verdict = "PASS" if row.passed else "FAIL"
        why = row.error or ", ".join(row.failed_checks)
        print(f"{verdict}  {row.profile}: {row.question}" + (f"  ({why})" if why else ""))
    print()
    _print_totals(report.totals)
    _print_comparison(comparison)
    return 0


def _rate(value: Any) -> str:
    return "-" if value is None else f"{value:.0%}"


def _print_totals(totals: dict[str, ProfileTotals]) -> None:
    rows = []
    for name, t in totals.items():
        cost = "-" if t.cost is None else f"${t.cost:.4f}"
        median = "-" if t.total_s_median is None else f"{t.total_s_median:.2f}s"
        rows.append(
            [
                name,
                f"{t.passed}/{t.questions}",
                f"{_rate(t.retrieval_hit_rate)} of {t.retrieval_checked}",
                f"{t.valid_citations}/{t.answered}",
                f"{t.correct_declines}/{t.should_decline}",
                f"{t.prompt_tokens}+{t.completion_tokens}",
                cost,
                median,
                str(t.errors),
            ]
        )
    headers = ["PROFILE", "PASSED", "RETRIEVAL HITS", "VALID CITES", "DECLINES", "TOKENS"]
    print_table(rows, [*headers, "COST", "MEDIAN", "ERRORS"])


def _print_comparison(comparison: RunComparison | None) -> None:
    if comparison is None:
        print("\nNo previous run to compare with.")
        return
    counts = comparison.counts
    print(
        f"\nCompared with run {comparison.previous}: {counts['better']} better, "
        f"{counts['worse']} worse, {counts['same']} unchanged, {counts['new']} new."
    )
    for change in comparison.changes:
        if change.change in ("better", "worse"):
            print(f"  {change.change.upper():6}  {change.profile}: {change.question}")


# -- runs ------------------------------------------------------------------------------
def _register_runs(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list kept test runs and compare the last two",
        description="The kept test runs, newest first, and what changed in the last one.",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run_runs)


def run_runs(args: argparse.Namespace) -> int:
    from desktop.services import answers
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        runs = answers.list_runs(ws)
        comparison = answers.compare_last_runs(ws)
    if args.json:
        compared = None if comparison is None else comparison.to_json()
        print_json({"runs": [r.to_json() for r in runs], "compare_last_two": compared})
        return 0
    if not runs:
        print("No test runs yet. Import questions with `botdesk test import`, then `botdesk test`.")
        return 0
    rows = []
    for run in runs:
        passed = ", ".join(f"{name} {t.passed}/{t.questions}" for name, t in run.totals.items())
        rows.append([str(run.id), run.started_at, run.status, run.target, passed])
    print_table(rows, ["RUN", "STARTED", "STATUS", "TARGET", "PASSED"])
    _print_comparison(comparison)
    return 0
