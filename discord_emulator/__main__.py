"""`python -m discord_emulator serve`: run the emulator standalone with a ready community."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from . import persistence
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


def _load_world(path: Path, emu: Emulator) -> int | None:
    """The world saved at `path` into `emu`, if the file exists; its port. Exit if unusable."""
    if not path.exists():
        return None
    try:
        return persistence.read(path, emu)
    except persistence.StateFileError as exc:
        raise SystemExit(f"discord_emulator: state file {path}: {exc}") from None


async def serve(
    host: str,
    port: int | None,
    token: str | None,
    zlib_stream: bool,
    spec: bool = False,
    state_file: Path | None = None,
    heartbeat_interval_ms: int | None = None,
) -> None:
    # A long-running server keeps only the recent journal.
    config = EmulatorConfig(honour_zlib_stream=zlib_stream, journal_limit=50_000)
    if heartbeat_interval_ms is not None:
        config.heartbeat_interval_ms = heartbeat_interval_ms
    emu = Emulator(config, validator=_load_validator() if spec else None)
    saved_port = _load_world(state_file, emu) if state_file is not None else None
    # The port the world was served on last, so the pasted .env keeps working.
    port = port if port is not None else saved_port or 0
    try:
        await emu.start(host=host, port=port)
    except OSError as exc:
        raise SystemExit(
            f"discord_emulator: cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    if emu.community is None:
        emu.seed_community(token)
    elif token is not None:
        emu.replace_token(token)
    community = emu.community
    assert community is not None
    saver = None
    if state_file is not None:
        saver = persistence.Saver(emu, state_file, int(emu.base_url.rsplit(":", 1)[1]))
        try:
            saver.start()
        except OSError as exc:
            await emu.stop()
            raise SystemExit(
                f"discord_emulator: cannot write state file {state_file}: {exc.strerror}"
            ) from None
    try:
        # invite-url reads the application id from the token; it is printed for the record.
        await serve_until_signalled(emu, community, [f"APPLICATION_ID={community.application_id}"])
    finally:
        if saver is not None:
            await saver.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m discord_emulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run a local Discord emulator")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument(
        "--port",
        type=int,
        default=None,
        help="port to listen on (default: the state file's, else any free)",
    )
    serve_cmd.add_argument(
        "--token", default=None, help="bot token (default: the state file's, else random)"
    )
    serve_cmd.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="FILE",
        help="keep the world in FILE: loaded at start if it exists, saved "
        "within a second of each change and on a clean stop",
    )
    serve_cmd.add_argument(
        "--zlib-stream", action="store_true", help="honour compress=zlib-stream from clients"
    )
    serve_cmd.add_argument(
        "--spec",
        action="store_true",
        help="check traffic against Discord's OpenAPI spec (problems in GET /_emulator/journal)",
    )
    serve_cmd.add_argument(
        "--heartbeat-interval-ms",
        type=int,
        default=None,
        help="heartbeat interval sent in HELLO (default: Discord's 41250)",
    )
    args = parser.parse_args(argv)
    asyncio.run(
        serve(
            args.host,
            args.port,
            args.token,
            args.zlib_stream,
            args.spec,
            args.state,
            args.heartbeat_interval_ms,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
