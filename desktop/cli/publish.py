"""`botdesk bundle`, `publish`, `releases`, `rollback`, `widget` and `token`: going live."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.options import add_target_options
from desktop.cli.output import print_json, print_table, progress_job
from desktop.core.bundle.quantization import QUANTIZATIONS
from desktop.core.errors import ConfigError
from desktop.core.store.lock import WorkspaceLock
from desktop.core.text import size_text

if TYPE_CHECKING:
    from desktop.services import publish

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


# -- registration, one function a command (in the order `botdesk --help` lists them) -----
def register(subparsers: SubParsers) -> None:
    for register_command in (
        _register_bundle,
        _register_publish,
        _register_releases,
        _register_rollback,
        _register_widget,
        _register_public_url,
        _register_token,
    ):
        register_command(subparsers)


def _register_bundle(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "bundle",
        help="write the index bundle file",
        description="Write the included passages, their full-text index and vectors to one "
        "SQLite file (the format the hosted service reads: docs/bundle-format.md).",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("-o", "--output", metavar="FILE", required=True, type=Path)
    parser.add_argument(
        "--quantize", choices=QUANTIZATIONS, default="none", help="shrink the vectors"
    )
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")
    parser.set_defaults(handler=run_bundle)


def _register_publish(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="check, upload and release the bundle and widget config",
        description="Publish to the hosted chat service in one step that fully succeeds or "
        "changes nothing live. The endpoint and bot id are remembered once given.",
    )
    parser.add_argument("workspace", metavar="WS")
    add_target_options(
        parser,
        endpoint_help="the hosted service (remembered)",
        bot_id_help="the bot on that service (remembered)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="run the checks, show changes and bundle size; send nothing",
    )
    parser.add_argument("--notes", default="", help="release notes")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run_publish)


def _register_releases(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "releases",
        help="list the releases on the endpoint",
        description="The releases of the remembered endpoint and bot (live one marked).",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_releases)


def _register_rollback(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="make an earlier release live again",
        description="Activate RELEASE_ID on the endpoint (see `botdesk releases`).",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("release_id", metavar="RELEASE_ID")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_rollback)


def _register_widget(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "widget",
        help="read or change the chat widget config",
        description="Read (--get [KEY]) or change (--set KEY=VALUE, --file FILE) the widget "
        "config. Keys are dotted for nested settings (theme.primary_color); values are JSON "
        "where they parse, e.g. allowed_origins='[\"https://example.com\"]'.",
    )
    parser.add_argument("workspace", metavar="WS")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--get", nargs="?", const="", metavar="KEY", help="print a setting")
    action.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="change a setting (repeatable)"
    )
    action.add_argument("--file", type=Path, metavar="FILE", help="replace with a JSON file")
    parser.set_defaults(handler=run_widget)


def _register_public_url(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "public-url",
        help="say where a file source's files are on the web",
        description="Citations of passages from files link to URL/FILE-NAME once the file "
        "source has a public URL (where the same files are on your site).",
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("source_id", metavar="SOURCE_ID", type=int)
    parser.add_argument("url", metavar="URL", help="e.g. https://www.example.com/manuals/")
    parser.set_defaults(handler=run_public_url)


def _register_token(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "token",
        help="store the endpoint's publish token in the keyring",
        description="Read the publish token from stdin and keep it in the system keyring under "
        "the endpoint's URL. Without a keyring, set BOTDESK_PUBLISH_TOKEN instead.",
    )
    parser.add_argument("workspace", metavar="WS")
    add_target_options(parser, endpoint_help="defaults to the remembered one")
    parser.set_defaults(handler=run_token)


# -- handlers --------------------------------------------------------------------------
def run_bundle(args: argparse.Namespace) -> int:
    from desktop.services import publish
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        built = publish.build_bundle(
            ws, args.output, quantization=args.quantize, job=progress_job("Bundle", quiet=args.json)
        )
    if args.json:
        print_json(
            {
                "path": str(built.path),
                "sha256": built.sha256,
                "size": built.size,
                "manifest": built.manifest,
            }
        )
        return 0
    embedding = built.manifest["embedding"]
    vectors = (
        f"{embedding['provider']}:{embedding['model']} ({embedding['dimensions']} dims, "
        f"{built.manifest['quantization']})"
        if embedding
        else "none (keyword search only)"
    )
    print(
        f"Wrote {built.path}: {built.manifest['passage_count']} passages, {size_text(built.size)}."
    )
    print(f"Vectors: {vectors}")
    print(f"sha256 {built.sha256}")
    return 0


def _print_checks(checks: list[publish.Check]) -> None:
    if not checks:
        print("Checks: all passed.")
        return
    for check in checks:
        label = "ERROR" if check.severity == "error" else "warning"
        print(f"{label}: {check.message}")
        for example in check.examples:
            print(f"    {example}")
        print(f"    fix: {check.fix}")


def run_publish(args: argparse.Namespace) -> int:
    from desktop.services import publish
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws, WorkspaceLock(ws.path, "publish"):
        report = asyncio.run(
            publish.publish(
                ws,
                progress_job("Publish", quiet=args.json),
                endpoint=args.endpoint,
                bot_id=args.bot_id,
                notes=args.notes,
                dry_run=args.dry_run,
                quantization=args.quantize,
                backends=args.backends,
            )
        )
    if args.json:
        print_json(report.to_json())
    else:
        _print_checks(report.checks)
        print(report.changes.summary())
        print(f"Bundle: {report.passage_count} passages, {size_text(report.bundle_size)}.")
        if report.dry_run:
            token = "found" if report.token_found else "MISSING (botdesk token WS --endpoint URL)"
            print(
                f"Dry run: nothing sent to {report.endpoint} (bot {report.bot_id}); token {token}."
            )
        else:
            sent = "uploaded" if report.uploaded else "already on the endpoint"
            print(f"Release {report.version} ({report.release_id}) is live; bundle {sent}.")
    return 1 if report.dry_run and report.blocked else 0


def _release_rows(releases: list[publish.ReleaseInfo]) -> list[list[str]]:
    return [
        [
            "*" if r.active else "",
            str(r.version),
            r.release_id,
            r.published_at or r.created_at,
            "" if r.passage_count is None else str(r.passage_count),
            "this workspace" if r.mine else "elsewhere",
            r.notes,
        ]
        for r in releases
    ]


def run_releases(args: argparse.Namespace) -> int:
    from desktop.services import publish
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        listed = asyncio.run(publish.list_releases(ws, backends=args.backends))
    if args.json:
        print_json(
            {
                "endpoint": listed.endpoint,
                "bot_id": listed.bot_id,
                "releases": [r.to_json() for r in listed.releases],
                "remote_error": listed.remote_error,
            }
        )
        return 0
    if listed.remote_error:
        print(f"botdesk: showing what this workspace knows: {listed.remote_error}", file=sys.stderr)
    if not listed.releases:
        print("No releases yet. Publish with `botdesk publish WS --endpoint URL --bot-id ID`.")
        return 0
    headers = ["live", "version", "release", "published", "passages", "from", "notes"]
    print_table(_release_rows(listed.releases), headers)
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    from desktop.services import publish
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        info = asyncio.run(publish.rollback(ws, args.release_id, backends=args.backends))
    if args.json:
        print_json(info.to_json())
    else:
        print(f"Release {info.version} ({info.release_id}) is live again.")
    return 0


def run_widget(args: argparse.Namespace) -> int:
    from desktop.services import publish
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        if args.get is not None:
            value: Any = publish.get_widget(ws, args.get or None)
            print_json(value)
            return 0
        if args.file is not None:
            config = publish.load_widget_file(ws, args.file)
        else:
            config = publish.get_widget(ws)
            for item in args.set:
                key, sep, raw = item.partition("=")
                if not sep or not key.strip():
                    raise ConfigError(
                        f"--set needs KEY=VALUE, got {item!r}.",
                        hint="For example --set theme.primary_color=#1a73e8.",
                    )
                config = publish.set_value_unchecked(config, key.strip(), raw)
            config = publish.set_widget(ws, config)
        problems = publish.widget_problems(config)
    print("Saved.")
    for problem in problems:
        print(f"Before publishing, fix {problem}", file=sys.stderr)
    return 0


def run_public_url(args: argparse.Namespace) -> int:
    from desktop.services import publish
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        publish.set_source_public_url(ws, args.source_id, args.url)
    print(f"Files of source {args.source_id} are cited as {args.url.rstrip('/')}/FILE-NAME.")
    return 0


def run_token(args: argparse.Namespace) -> int:
    from desktop.services import publish
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        endpoint = args.endpoint or publish.get_target(ws)[0]
    if not endpoint:
        raise ConfigError("Which endpoint is the token for?", hint="Pass --endpoint URL.")
    token = getpass.getpass("Publish token: ") if sys.stdin.isatty() else sys.stdin.readline()
    publish.set_token(endpoint, token)
    print(f"Token stored in the keyring for {endpoint}.")
    return 0
