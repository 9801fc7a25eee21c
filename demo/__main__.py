"""`python -m demo`: the demo, until Ctrl-C or SIGTERM (see demo/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bot.log import configure_logging
from demo.page import STAGE, build_demo_app
from demo.stage import CannotListen, Stage, staged
from demo.timeline import BotTooSlow, play

KEPT_FOLDER = Path("demo-data")
DATABASE_NAME = "threadbridge.db"


def tell(line: str) -> None:
    sys.stdout.write(f"demo: {line}\n")
    sys.stdout.flush()


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except NotImplementedError:  # Windows: no loop signal handlers
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))


async def _members(stage: Stage, speed: float) -> None:
    try:
        await play(stage, speed, tell)
    except BotTooSlow as error:
        tell(f"the simulated members stopped: {error}")


async def run_demo(folder: Path, host: str, port: int, speed: float) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    app = build_demo_app()
    async with staged(folder, app, host, port, STAGE) as (stage, address):
        tell(f"open {address}/demo/")
        tell("Ctrl-C stops it")
        stage.tasks.spawn(_members(stage, speed), name="simulated members")
        await stop.wait()
    tell("stopped")


def _folder(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="threadbridge-demo-"))
    if (keep / DATABASE_NAME).exists():
        raise SystemExit(
            f"demo: {keep} already holds a demo's database: remove it, or --keep another folder"
        )
    keep.mkdir(parents=True, exist_ok=True)
    return keep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="threadbridge's whole loop against a local stand-in for Discord.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=8080, help="port of the demo's page (0: any free port)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="how much faster the simulated members reply (default 1: over about two minutes)",
    )
    parser.add_argument(
        "--keep",
        nargs="?",
        type=Path,
        const=KEPT_FOLDER,
        default=None,
        metavar="FOLDER",
        help=f"keep the database in FOLDER (default ./{KEPT_FOLDER}) instead of a temporary "
        "folder removed on stop",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the bot's log lines shown on standard error",
    )
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be more than 0")
    configure_logging(level=args.log_level, log_format="console")
    folder = _folder(args.keep)
    try:
        asyncio.run(run_demo(folder, args.host, args.port, args.speed))
    except CannotListen as error:
        tell(f"{error}; try another --port (0: any free port)")
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            tell(f"the database is kept in {folder / DATABASE_NAME}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
