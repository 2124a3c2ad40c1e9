"""`botdesk check` and `botdesk key`: is a model back-end reachable, and the Mistral key."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from desktop.core.errors import ConfigError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="test the connection to a model back-end",
        description="Ask the back-end whether it answers and has the model, e.g. "
        "`botdesk check ollama:llama3.2` or `botdesk check mistral:mistral-small-latest`.",
    )
    parser.add_argument("model", metavar="MODEL", help="ollama:MODEL or mistral:MODEL")
    parser.set_defaults(handler=run_check)

    parser = subparsers.add_parser(
        "key",
        help="keep or remove the Mistral API key in the system keyring",
        description="`botdesk key set mistral` reads the key from stdin (or prompts) and keeps "
        "it in the system keyring. Without a keyring, set MISTRAL_API_KEY instead.",
    )
    parser.add_argument("action", choices=("set", "remove", "status"))
    parser.add_argument("provider", choices=("mistral",))
    parser.set_defaults(handler=run_key)


def run_check(args: argparse.Namespace) -> int:
    from desktop.services import connections

    print(asyncio.run(connections.check_connection(args.model, args.backends)))
    return 0


def run_key(args: argparse.Namespace) -> int:
    from desktop.services import connections

    where = connections.endpoints(args.backends)
    if args.action == "status":
        found = asyncio.run(connections.mistral_key_found())
        keyring = (
            f"keyring: {where.keyring_backend}"
            if where.keyring_usable
            else f"no keyring ({where.keyring_backend})"
        )
        print(
            f"Mistral key {'found' if found else 'not set'}; {keyring}; server {where.mistral_url}"
        )
        return 0 if found else 1
    if args.action == "remove":
        asyncio.run(connections.remove_mistral_key())
        print("Mistral key removed from the keyring.")
        return 0
    key = getpass.getpass("Mistral API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    if not key.strip():
        raise ConfigError("No key given.", hint="Pipe it in: botdesk key set mistral < key.txt")
    asyncio.run(connections.set_mistral_key(key.strip()))
    print("Mistral key stored in the keyring.")
    return 0
