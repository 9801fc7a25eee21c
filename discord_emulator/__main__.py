"""`python -m discord_emulator serve`: run the emulator standalone with a ready community."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .config import EmulatorConfig
from .emulator import Emulator
from .serving import serve_until_signalled


def _load_validator() -> Any:
    # Imported lazily: spec mode needs jsonschema, plain serving must not.
    from .spec import SpecValidator, find_spec

    path = find_spec()
    if path is None:
        raise SystemExit("--spec: openapi.json not found (set THREADBRIDGE_DISCORD_SPEC)")
    return SpecValidator.load(path)


async def serve(
    host: str,
    port: int,
    token: str | None,
    zlib_stream: bool,
    spec: bool = False,
    heartbeat_interval_ms: int | None = None,
) -> None:
    # A long-running server keeps only the recent journal.
    config = EmulatorConfig(honour_zlib_stream=zlib_stream, journal_limit=50_000)
    if heartbeat_interval_ms is not None:
        config.heartbeat_interval_ms = heartbeat_interval_ms
    emu = Emulator(config, validator=_load_validator() if spec else None)
    await emu.start(host=host, port=port)
    await serve_until_signalled(emu, emu.seed_community(token))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m discord_emulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run a local Discord emulator")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=0)
    serve_cmd.add_argument("--token", default=None, help="bot token (random by default)")
    serve_cmd.add_argument("--zlib-stream", action="store_true",
                           help="honour compress=zlib-stream from clients")
    serve_cmd.add_argument("--spec", action="store_true",
                           help="check traffic against Discord's OpenAPI spec "
                                "(problems in GET /_emulator/journal)")
    serve_cmd.add_argument(
        "--heartbeat-interval-ms",
        type=int,
        default=None,
        help="heartbeat interval sent in HELLO (default: Discord's 41250)",
    )
    args = parser.parse_args(argv)
    heartbeat = args.heartbeat_interval_ms
    asyncio.run(serve(args.host, args.port, args.token, args.zlib_stream, args.spec, heartbeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
