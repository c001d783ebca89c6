"""`swarmscope keys`: CURVE key pairs, for a hub other hosts can reach (see core/wire/keys.py)."""

from __future__ import annotations

import argparse

from swarmscope.core.wire.keys import (
    CLIENTS,
    ENV_HUB_KEY,
    ENV_KEY,
    HUB_NAME,
    create_keys,
    key_files,
    keys_dir,
)

DIR_HELP = (
    "where keys are kept (default $SWARMSCOPE_HOME/keys, else the user data dir's swarmscope/keys)"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "keys",
        help="make CURVE keys, for a hub that other hosts can reach",
        description="A hub started with --curve encrypts its feed and lets in only clients "
        "whose public key is in its clients/ folder.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p), required=True)
    create = verbs.add_parser(
        "create",
        help="a new key pair for an agent host, a viewer or a recorder",
        description="Writes NAME.key (public: give it to the hub) and NAME.key_secret "
        "(secret: stays on this machine).",
    )
    create.add_argument("name", metavar="NAME", help="e.g. the host or the person it is for")
    create.add_argument("--dir", metavar="DIR", help=DIR_HELP)
    create.set_defaults(run=run_create)
    listing = verbs.add_parser(
        "list",
        help="the key pairs here, and the clients a hub using this folder lets in",
        description="Each key by name with the start of its public key, to tell keys apart.",
    )
    listing.add_argument("--dir", metavar="DIR", help=DIR_HELP)
    listing.set_defaults(run=run_list)


def run_list(args: argparse.Namespace) -> int:
    directory = keys_dir(args.dir)
    for title, folder in (
        (f"key pairs in {directory}", directory),
        (f"clients a --curve hub using it lets in ({directory / CLIENTS})", directory / CLIENTS),
    ):
        keys = key_files(folder)
        print(f"{title}: {len(keys) or 'none'}")
        for name, public, secret in keys:
            print(f"  {name:<24} {public}…  {'public + secret' if secret else 'public only'}")
    return 0


def run_create(args: argparse.Namespace) -> int:
    public, secret = create_keys(keys_dir(args.dir), args.name)
    hub_folder = keys_dir(None) / CLIENTS
    print(
        f"public key: {public}\n"
        f"  let this client in: copy it into the hub's {hub_folder} "
        "(a running hub rereads it every 2 s)\n"
        f"secret key: {secret}\n"
        f"  on this client: export {ENV_KEY}={secret} "
        f"{ENV_HUB_KEY}=<a copy of the hub's {HUB_NAME}.key>"
    )
    return 0
