"""Benchmark: the web side (`threadbridge serve`) under load, beside a bare aiohttp floor and Isso.

    PYTHONPATH=. .venv/bin/python bench/web.py [--seconds 10] [--isso-venv DIR] [--no-isso]

Needs wrk (`apt-get install wrk`). Isso 0.14 and gunicorn are installed with pip into a virtual
environment outside the repository (--isso-venv, default /tmp/threadbridge-bench-isso), made on
the first run (about a minute; misaka needs a C compiler) and reused after. If that fails, Isso
is left out and the table says why.

The data: a fresh database with the seed post imported from the WordPress export
(demo/seed_export.xml, 24 comments, nested 3 deep) by `threadbridge import
--no-threads`, and a second post with 5,000 comments written here through the store (Discord
replies and web comments mixed, about 1 in 5 a reply, bodies of 50-800 characters with some
Discord markdown).

Everything listens on 127.0.0.1 and is measured the same way, one target after another: wrk with
one thread (the other core is left to the server) and 50 connections, 2 s of warm-up, then
--seconds of measurement with --latency.

  a. the comments API for the seed post, by its url, gzip (as browsers ask)
  b. the same with If-None-Match: its ETag (304)
  c. the seed post's page, gzip
  d. counts for three urls: the seed's, the 5,000-comment post's and one that is not stored
  e. the first page (default limit) of the 5,000-comment post's comments, by id, gzip
  floor: a bare aiohttp.web handler (its own process, asyncio's default loop, no access log)
     answering from memory the bytes, content type and ETag that (a) got
  Isso: Isso 0.14 under gunicorn with 2 workers, the same export imported with `isso import`,
     GET /?uri=<the thread's path>

Then the ratios, read from this one run (the machine is shared and noisy: only figures measured
side by side compare): threadbridge (a) against Isso (goal: at least 50x) and against the floor
(goal: at least 70%), and (a)'s p99 (goal: under 25 ms). Memory: the serve process's RSS after
its runs, and Isso's gunicorn master and workers together.

Every process started here is stopped on the way out (also on Ctrl-C or an error), and the
temporary folder is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from posts import make_post  # noqa: E402 - bench/posts.py, beside this script

from bot.mirror.sources.wxr import read_source  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.authors import upsert_discord_author_in  # noqa: E402
from bot.store.comments import list_comments  # noqa: E402
from bot.store.mirrors import record_mirror  # noqa: E402
from bot.store.models import MirrorState, SourceComment  # noqa: E402
from bot.store.posts import find_post, save_source_post  # noqa: E402
from bot.store.replies import insert_reply_in, set_reactions_in  # noqa: E402

SEED_EXPORT = ROOT / "demo" / "seed_export.xml"
ISSO_VERSION = "0.14.0"
DEFAULT_ISSO_VENV = Path(tempfile.gettempdir()) / "threadbridge-bench-isso"
HOST = "127.0.0.1"
CONNECTIONS = 50
WARM_UP_SECONDS = 2
WRK_TIMEOUT = "10s"  # a request slower than this is counted as an error, not as a latency
ISSO_WORKERS = 2
GOAL_ISSO_RATIO = 50.0
GOAL_FLOOR_RATIO = 0.70
GOAL_P99_MS = 25.0

BIG_COMMENTS = 5000
REPLY_SHARE = 0.2
DISCORD_SHARE = 0.6
GUILD_ID = 800_000_000_000_000_001
FORUM_ID = 800_000_000_000_000_002
THREAD_ID = 800_000_000_000_000_003
DISCORD_EPOCH_MS = 1_420_070_400_000
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


# --- small helpers --------------------------------------------------------------------------


# The bench talks to 127.0.0.1 only: no proxy from the environment may come in between.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes  # as sent (gzipped when the server compressed it)

    def json(self) -> Any:
        raw = self.body
        if self.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw)


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> Answer:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Answer(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:  # 304 and errors arrive here
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int, line_name: str = "VmRSS") -> float:
    """A process's resident set size (VmHWM: its peak), in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(f"{line_name}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def child_environment(**extra: str) -> dict[str, str]:
    """This environment without any threadbridge setting (a developer's own DATABASE_PATH or
    WEB_PUBLISH must not change the figures), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(extra)
    return env


class Processes:
    """Every server this bench starts, each in a session of its own (Ctrl-C reaches this script
    only, and this script stops them), stopped however the bench ends."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, command: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> int:
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._running.append(process)
        return process.pid

    def running(self, pid: int) -> bool:
        return any(p.pid == pid and p.poll() is None for p in self._running)

    def stop(self, pid: int) -> None:
        for process in [p for p in self._running if p.pid == pid]:
            self._stop(process)
            self._running.remove(process)

    def stop_all(self) -> None:
        while self._running:
            self._stop(self._running.pop())

    @staticmethod
    def _stop(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn's master then stops its workers
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            # Its own session's group (not reaped yet, so the id is still its own): the process
            # and whatever it started.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def wait_for(url: str, processes: Processes, pid: int, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not processes.running(pid):
            raise SystemExit(f"the server for {url} exited:\n{tail(log)}")
        with contextlib.suppress(OSError):
            if get(url, timeout=2).status == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer 200 within {seconds:.0f} s:\n{tail(log)}")


# --- wrk ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    rate: float  # requests/s
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # connect, read, write and timeout errors
    unexpected: int  # answers other than 2xx or 3xx


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> Figures:
    def number(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise ValueError(f"wrk printed no {pattern!r}:\n{output}")
        return float(found.group(1))

    latency = {
        share: float(value) * _UNITS[unit]
        for share, value, unit in re.findall(
            r"^\s*(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE
        )
    }
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    unexpected = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Figures(
        rate=number(r"^Requests/sec:\s+([\d.]+)"),
        p50_ms=latency.get("50", float("nan")),
        p99_ms=latency.get("99", float("nan")),
        requests=int(number(r"^\s*(\d+) requests in ")),
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
        unexpected=int(unexpected.group(1)) if unexpected else 0,
    )


def wrk(url: str, headers: dict[str, str], seconds: int) -> Figures:
    """A warm-up, then the measured run: 1 thread, CONNECTIONS connections."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", "--timeout", WRK_TIMEOUT]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    try:
        subprocess.run(
            [*command, f"-d{WARM_UP_SECONDS}s", url],
            check=True,
            capture_output=True,
            timeout=WARM_UP_SECONDS + 60,
        )
        # A server with fewer workers than connections (Isso's) still has the warm-up's
        # requests queued: one more request, answered after them, lets the queue drain first.
        with contextlib.suppress(OSError):
            get(url, headers, timeout=60)
        done = subprocess.run(
            [*command, f"-d{seconds}s", "--latency", url],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"wrk failed on {url}: {error.stderr!r}") from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"wrk did not finish on {url}") from None
    return parse_wrk(done.stdout)


def wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    return (done.stdout + done.stderr).split(" Copyright")[0].strip()


# --- the data -------------------------------------------------------------------------------

# fmt: off
FIRST_NAMES = (
    "Ada", "Bilal", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tove", "Umar", "Vera",
    "Wen", "Ximena", "Yusuf", "Zofia",
)
# fmt: on
SENTENCES = (
    "I watched the whole thing twice and still caught details I had missed the first time.",
    "The second half drags a little, but the ending makes up for it.",
    "Does anyone know whether the extended cut is worth tracking down?",
    "We talked about this at our meetup last week and opinions were split right down the middle.",
    "My favourite part is the interview near the end, where the tone changes completely.",
    "I disagree: the archive footage carries the film, not the narration.",
    "Thanks for writing this up, it saved me an evening of searching.",
    "The sound design is underrated; put headphones on for the market scene.",
    "Honestly I expected more context about how the project was funded.",
    "There is a good long read on the same subject that pairs well with this post.",
    "Could the next screening be on a weekend? Weeknights are hard for a lot of us.",
    "I shared this with my students and it started the best discussion we had all term.",
    "The translation on the subtitles felt rushed in a few places.",
    "Small correction: the exhibition opened in the spring, not in the autumn.",
    "This is the kind of post that makes me glad I joined this community.",
    "I would love a follow-up on what happened to the people interviewed.",
    "The pacing reminded me of older festival documentaries, in a good way.",
    "Not sure I agree with the conclusion, but the argument is well made.",
    "Has anyone tried the director's commentary track? Is it any good?",
    "Adding this to the list for our next watch party.",
)
LINKS = (
    "https://example.org/reviews/still-not-sorry",
    "https://example.com/archive/2015/interview",
    "https://example.net/festival/programme?day=3",
)


@dataclass(slots=True)
class Spec:
    """One comment of the big post, before it is stored."""

    number: int
    discord: bool
    author: int
    parent: int | None
    created_at: datetime
    body: str
    comment_id: int = 0  # once stored
    message_id: int = 0  # Discord comments
    reactions: dict[str, int] = field(default_factory=dict)


def discord_body(rng: random.Random, length: int, members: list[int]) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < length:
        sentence = rng.choice(SENTENCES)
        roll = rng.random()
        if roll < 0.08:
            words = sentence.split()
            i = rng.randrange(len(words))
            words[i] = f"**{words[i]}**"
            sentence = " ".join(words)
        elif roll < 0.14:
            sentence = f"*{sentence}*"
        elif roll < 0.18:
            sentence = f"> {sentence}\n"
        elif roll < 0.21:
            sentence = f"||{sentence}||"
        elif roll < 0.24:
            sentence = f"~~{sentence}~~"
        elif roll < 0.28:
            sentence = f"{sentence} `{rng.choice(('subtitles.srt', 'cut=extended', 'v2'))}`"
        elif roll < 0.31:
            sentence = f"{sentence} {rng.choice(LINKS)}"
        elif roll < 0.34 and members:
            sentence = f"<@{rng.choice(members)}> {sentence}"
        elif roll < 0.36:
            sentence = f"```\ntimestamp 01:12:40 to 01:15:05\n```\n{sentence}"
        elif roll < 0.38:
            sentence = f"{sentence} <#{THREAD_ID}>"
        parts.append(sentence)
    return " ".join(parts)[:800].strip()


def web_body(rng: random.Random, length: int) -> str:
    paragraphs: list[str] = []
    size = 0
    while size < length:
        sentences = [rng.choice(SENTENCES) for _ in range(rng.randint(1, 3))]
        roll = rng.random()
        if roll < 0.1:
            sentences[0] = f"<em>{sentences[0]}</em>"
        elif roll < 0.18:
            sentences[-1] = f'<a href="{rng.choice(LINKS)}" rel="nofollow">{sentences[-1]}</a>'
        elif roll < 0.24:
            sentences[0] = f"<strong>{sentences[0]}</strong>"
        text = " ".join(sentences)
        if paragraphs and size + len(text) > 800:
            break
        paragraphs.append(f"<blockquote>{text}</blockquote>" if roll > 0.95 else f"<p>{text}</p>")
        size += len(text)
    return "\n".join(paragraphs)


def big_thread(count: int, seed: int = 13) -> list[Spec]:
    """`count` comments in the order they were written: Discord and web mixed, about
    REPLY_SHARE of them replies to a recent comment (web comments reply to web comments only:
    the site cannot answer a Discord message)."""
    rng = random.Random(seed)
    specs: list[Spec] = []
    moment = datetime(2024, 3, 1, 18, 0, tzinfo=UTC)
    spoke: list[int] = []  # Discord members who wrote already (mentionable by name)
    for number in range(count):
        moment += timedelta(seconds=rng.randint(5, 900))
        discord = rng.random() < DISCORD_SHARE
        parent = None
        if number and rng.random() < REPLY_SHARE:
            recent = specs[-40:] if discord else [s for s in specs[-120:] if not s.discord]
            if recent:
                parent = rng.choice(recent).number
        length = min(800, max(50, int(rng.triangular(50, 800, 160))))
        author = rng.randrange(400 if discord else 250)
        spec = Spec(
            number=number,
            discord=discord,
            author=author,
            parent=parent,
            created_at=moment,
            body=discord_body(rng, length, spoke) if discord else web_body(rng, length),
        )
        if discord:
            spec.message_id = ((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + number
            spoke.append(member_id(author))
            if rng.random() < 0.15:
                spec.reactions = {"👍": rng.randint(1, 9), "❤️": rng.randint(0, 3)}
        specs.append(spec)
    return specs


def member_id(author: int) -> int:
    return 300_000_000_000_000_000 + author * 7919


def member_name(author: int) -> str:
    return f"{FIRST_NAMES[author % len(FIRST_NAMES)]}{author // len(FIRST_NAMES) or ''}"


def web_comment(spec: Spec) -> SourceComment:
    first = FIRST_NAMES[spec.author % len(FIRST_NAMES)]
    return SourceComment(
        external_id=f"c{spec.number}",
        author_name=f"{first} {chr(65 + spec.author % 26)}.",
        content_html=spec.body,
        created_at=spec.created_at,
        parent_external_id=None if spec.parent is None else f"c{spec.parent}",
        author_email=f"reader{spec.author}@example.org",
    )


@dataclass(frozen=True, slots=True)
class Data:
    seed_id: int
    seed_url: str
    seed_comments: int  # stored by the import
    big_id: int
    big_url: str
    big_discord: int
    big_web: int
    big_replies: int


def import_seed(folder: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import", str(SEED_EXPORT), "--no-threads"],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"threadbridge import failed:\n{done.stderr}")
    return done.stdout.splitlines()[0]


async def add_big_post(database: Path, count: int) -> Data:
    seed = read_source(SEED_EXPORT.read_bytes(), source_hint=str(SEED_EXPORT)).posts[0]
    specs = big_thread(count)
    by_number = {spec.number: spec for spec in specs}
    async with Store.open(database) as store:
        stored_seed = await find_post(store, seed.source, seed.external_id)
        assert stored_seed is not None and stored_seed.url is not None
        seed_comments = len(await list_comments(store, stored_seed.id))

        post = replace(
            make_post(0),
            title="A long conversation: 5,000 comments",
            comments=tuple(web_comment(s) for s in specs if not s.discord),
        )
        saved = await save_source_post(store, post)
        big = saved.post
        await record_mirror(
            store,
            big.id,
            MirrorState.MIRRORED,
            channel_id=FORUM_ID,
            thread_id=THREAD_ID,
            starter_message_id=THREAD_ID,
        )
        for comment in await list_comments(store, big.id):
            if comment.external_id is not None:
                by_number[int(comment.external_id.removeprefix("c"))].comment_id = comment.id

        def write_discord(db: sqlite3.Connection) -> None:
            authors: dict[int, int] = {}
            for spec in specs:
                if not spec.discord:
                    continue
                if spec.author not in authors:
                    authors[spec.author] = upsert_discord_author_in(
                        db, str(member_id(spec.author)), member_name(spec.author), is_bot=False
                    )
                parent = None if spec.parent is None else by_number[spec.parent]
                spec.comment_id = insert_reply_in(
                    db,
                    post_id=big.id,
                    thread_id=THREAD_ID,
                    parent_id=None if parent is None else parent.comment_id,
                    author_id=authors[spec.author],
                    author_name=member_name(spec.author),
                    body=spec.body,
                    deleted=False,
                    message_id=spec.message_id,
                    created_at=spec.created_at,
                    edited_at=None,
                    attachments=(),
                    has_stickers=False,
                    reply_to=None if parent is None else parent.message_id or None,
                )
                if spec.reactions:
                    set_reactions_in(db, spec.comment_id, spec.reactions)

        await store.write_in_thread(write_discord)
        stored = len(await list_comments(store, big.id))
    if stored != count:
        raise SystemExit(f"the big post has {stored} comments stored, not {count}")
    assert big.url is not None
    return Data(
        seed_id=stored_seed.id,
        seed_url=stored_seed.url,
        seed_comments=seed_comments,
        big_id=big.id,
        big_url=big.url,
        big_discord=sum(s.discord for s in specs),
        big_web=sum(not s.discord for s in specs),
        big_replies=sum(s.parent is not None for s in specs),
    )


# --- the floor ------------------------------------------------------------------------------


async def serve_floor(port: int, held: dict[str, Any]) -> None:
    """The floor's process: every GET answered with the same bytes and headers, from memory."""
    body = bytes.fromhex(held["body"])
    headers = held["headers"]

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()


# --- Isso -----------------------------------------------------------------------------------


def isso_installed(venv: Path) -> bool:
    python = venv / "bin" / "python"
    if not (python.exists() and (venv / "bin" / "gunicorn").exists()):
        return False
    done = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('isso'))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip() == ISSO_VERSION


def install_isso(venv: Path) -> str | None:
    """None once Isso and gunicorn are in `venv` (installed now or before), else why not."""
    try:
        if isso_installed(venv):
            return None
        print(f"installing Isso {ISSO_VERSION} and gunicorn into {venv} (once; about a minute)")
        if not (venv / "bin" / "python").exists():
            subprocess.run(
                ["python3", "-m", "venv", str(venv)],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        done = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                f"isso=={ISSO_VERSION}",
                "gunicorn",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            return "pip install failed: " + " / ".join(done.stderr.strip().splitlines()[-3:])
        if not isso_installed(venv):
            return f"isso {ISSO_VERSION} is not importable in {venv} after pip install"
    except subprocess.CalledProcessError as error:
        return f"{' '.join(error.cmd[:3])} failed: {(error.stderr or '').strip()[-300:]}"
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"installation failed: {error}"
    return None


@dataclass(frozen=True, slots=True)
class IssoThread:
    uri: str
    stored: int  # comments isso import stored for the thread, in any state
    shown: int  # comments GET /?uri= answered with


def isso_comments(data: Any) -> int:
    return sum(1 + isso_comments(reply) for reply in data.get("replies", []))


def isso_config(folder: Path, port: int, site: str) -> Path:
    config = folder / "isso.cfg"
    # Isso sends HEAD / to every `host` when it starts. The seed's real site is not on this
    # machine, so threadbridge's own server (on 127.0.0.1) stands in for it: the bench's
    # traffic stays on this machine. Threads are keyed by path, so the host changes nothing
    # that is measured.
    config.write_text(
        "[general]\n"
        f"dbpath = {folder / 'isso.db'}\n"
        f"host = {site}\n"
        "[server]\n"
        f"listen = http://{HOST}:{port}/\n"
    )
    return config


def import_into_isso(venv: Path, config: Path, folder: Path) -> tuple[str, int]:
    """The thread `isso import` stored for the seed post: its URI and comment count."""
    done = subprocess.run(
        [
            str(venv / "bin" / "isso"),
            "-c",
            str(config),
            "import",
            "-t",
            "wordpress",
            str(SEED_EXPORT),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"isso import failed: {done.stderr.strip()[-300:]}")
    with contextlib.closing(sqlite3.connect(folder / "isso.db")) as db:
        rows = db.execute(
            "SELECT threads.uri, count(comments.id) AS n FROM threads "
            "JOIN comments ON comments.tid = threads.id GROUP BY threads.id ORDER BY n DESC"
        ).fetchall()
    if not rows:
        raise RuntimeError("isso import stored no thread with comments")
    return str(rows[0][0]), int(rows[0][1])


def gunicorn_command(venv: Path, port: int) -> list[str]:
    command = [str(venv / "bin" / "gunicorn"), "-w", str(ISSO_WORKERS), "-b", f"{HOST}:{port}"]
    done = subprocess.run(
        [str(venv / "bin" / "gunicorn"), "--help"], capture_output=True, text=True, timeout=60
    )
    if "--no-control-socket" in done.stdout:
        # Recent gunicorn opens a control socket in the home folder unless told not to: the
        # bench leaves nothing behind outside its temporary folder.
        command.append("--no-control-socket")
    return [*command, "isso.run"]


# --- the run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    label: str
    path: str
    headers: dict[str, str]
    status: int


@dataclass(slots=True)
class Row:
    key: str
    label: str
    status: int = 0
    size: int = 0  # body bytes on the wire
    figures: Figures | None = None
    note: str = ""


@dataclass(slots=True)
class Results:
    data: Data | None = None
    import_line: str = ""
    rows: list[Row] = field(default_factory=list)
    serve_rss: float = 0.0
    serve_peak: float = 0.0
    isso_rss: float = 0.0
    isso_processes: int = 0
    isso_note: str = ""  # why Isso was left out, if it was
    isso_thread: IssoThread | None = None

    def row(self, key: str) -> Row | None:
        return next((row for row in self.rows if row.key == key), None)


def targets(data: Data) -> list[Target]:
    by_url = "/api/v1/comments?" + urlencode({"url": data.seed_url})
    unknown = data.seed_url.rstrip("/").rsplit("/", 1)[0] + "/no-such-post/"
    counts = "/api/v1/counts?" + urlencode(
        [("url", data.seed_url), ("url", data.big_url), ("url", unknown)]
    )
    return [
        Target("a", "comments by url, seed post, gzip", by_url, GZIP, 200),
        Target("b", "the same, If-None-Match: its ETag", by_url, GZIP, 304),
        Target("c", f"page /posts/{data.seed_id}, gzip", f"/posts/{data.seed_id}", GZIP, 200),
        Target("d", "counts for 3 urls (1 unknown)", counts, GZIP, 200),
        Target(
            "e",
            "5,000-comment post, first page, gzip",
            f"/api/v1/posts/{data.big_id}/comments",
            GZIP,
            200,
        ),
    ]


def check(target: Target, answer: Answer, data: Data) -> str:
    """What the target answered, checked before it is measured."""
    if answer.status != target.status:
        raise SystemExit(f"{target.path} answered {answer.status}, not {target.status}")
    if target.key in "ab" and answer.status == 200:
        shown = sum(1 for top in answer.json()["comments"] for _ in walk(top))
        if shown != data.seed_comments:
            raise SystemExit(f"{target.path} shows {shown} comments, not {data.seed_comments}")
        return f"{shown} comments, {answer.headers.get('content-encoding', 'not compressed')}"
    if target.key == "b":
        return "no body"
    if target.key == "d":
        found = list(answer.json()["counts"].values())
        if found != [data.seed_comments, BIG_COMMENTS, 0]:
            raise SystemExit(f"counts answered {found}")
        return "counts " + ", ".join(f"{n:,}" for n in found)
    if target.key == "e":
        body = answer.json()
        top = body["comments"]
        shown = sum(1 for comment in top for _ in walk(comment))
        return f"{len(top)} top-level, {shown} with replies, {answer.headers['content-encoding']}"
    return answer.headers.get("content-encoding", "not compressed")


def walk(comment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = [comment]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current["replies"])


def measure(row: Row, url: str, headers: dict[str, str], seconds: int) -> None:
    print(f"  measuring {row.key}. {row.label} ...", flush=True)
    row.figures = wrk(url, headers, seconds)


def run(args: argparse.Namespace, results: Results, processes: Processes, folder: Path) -> None:
    if not args.no_isso:
        results.isso_note = install_isso(args.isso_venv) or ""

    database = folder / "web.db"
    serve_port = free_port()
    base = f"http://{HOST}:{serve_port}"
    env = child_environment(
        PYTHONPATH=str(ROOT),
        DATABASE_PATH=str(database),
        LOG_LEVEL="WARNING",
        WEB_RATE_LIMIT="0",
        WEB_LISTEN=f"{HOST}:{serve_port}",
        GUILD_ID=str(GUILD_ID),
    )
    print("building the database ...", flush=True)
    results.import_line = import_seed(folder, env)
    results.data = data = asyncio.run(add_big_post(database, BIG_COMMENTS))

    log = folder / "serve.log"
    serve_pid = processes.start(
        [sys.executable, "-m", "bot", "serve", "--host", HOST, "--port", str(serve_port)],
        env=env,
        cwd=folder,
        log=log,
    )
    wait_for(f"{base}/healthz", processes, serve_pid, log)
    print(f"threadbridge serve on {base} (pid {serve_pid})", flush=True)

    # Every target is asked once and checked before anything is measured.
    plan: list[tuple[Row, str, dict[str, str]]] = []
    held: Answer | None = None
    for target in targets(data):
        headers = dict(target.headers)
        if target.key == "b":
            assert held is not None
            headers["If-None-Match"] = held.headers["etag"]
        answer = get(base + target.path, headers)
        row = Row(target.key, target.label, answer.status, len(answer.body))
        row.note = check(target, answer, data)
        if target.key == "a":
            held = answer
        results.rows.append(row)
        plan.append((row, base + target.path, headers))
    assert held is not None

    floor_pid, floor_row, floor_url = start_floor(held, plan[0][1], processes, folder)
    print(f"bare aiohttp floor on {floor_url.split('/api')[0]} (pid {floor_pid})", flush=True)
    results.rows.insert(1, floor_row)
    # The floor right after (a): on a shared machine, the two figures of the ratio are then
    # measured under the most similar conditions.
    plan.insert(1, (floor_row, floor_url, GZIP))
    for row, url, headers in plan:
        measure(row, url, headers, args.seconds)
        if row is floor_row:
            processes.stop(floor_pid)
    results.serve_rss = rss_mb(serve_pid)
    results.serve_peak = rss_mb(serve_pid, "VmHWM")

    if args.no_isso:
        results.isso_note = "left out with --no-isso"
    if results.isso_note:
        return
    try:
        run_isso(args, results, processes, folder, base)
    except RuntimeError as error:
        results.isso_note = str(error)


def start_floor(held: Answer, url: str, processes: Processes, folder: Path) -> tuple[int, Row, str]:
    """The bare aiohttp server answering (a)'s bytes, type and ETag: its pid, row and url."""
    port = free_port()
    answer_file = folder / "floor.json"
    kept = ("content-type", "etag", "content-encoding")
    answer_file.write_text(
        json.dumps(
            {
                "body": held.body.hex(),
                "headers": {k: held.headers[k] for k in kept if k in held.headers},
            }
        )
    )
    log = folder / "floor.log"
    pid = processes.start(
        [sys.executable, str(SCRIPT), "--floor", str(port), str(answer_file)],
        env=child_environment(PYTHONPATH=str(ROOT)),
        cwd=folder,
        log=log,
    )
    parts = urlsplit(url)
    floor_url = f"http://{HOST}:{port}{parts.path}?{parts.query}"
    wait_for(floor_url, processes, pid, log)
    answer = get(floor_url, GZIP)
    if answer.body != held.body:
        raise SystemExit("the floor does not answer the bytes threadbridge answered")
    row = Row("floor", "bare aiohttp.web, (a)'s bytes", answer.status, len(answer.body))
    row.note = "same body, type, ETag as (a)"
    return pid, row, floor_url


def run_isso(
    args: argparse.Namespace, results: Results, processes: Processes, folder: Path, site: str
) -> None:
    venv: Path = args.isso_venv
    isso_folder = folder / "isso"
    isso_folder.mkdir()
    port = free_port()
    config = isso_config(isso_folder, port, site)
    uri, stored = import_into_isso(venv, config, isso_folder)
    log = isso_folder / "gunicorn.log"
    master = processes.start(
        gunicorn_command(venv, port),
        env={**child_environment(), "ISSO_SETTINGS": str(config)},
        cwd=isso_folder,
        log=log,
    )
    url = f"http://{HOST}:{port}/?" + urlencode({"uri": uri})
    try:
        wait_for(url, processes, master, log)
    except SystemExit as error:
        raise RuntimeError(str(error)) from None
    answer = get(url, GZIP)
    if answer.status != 200:
        raise RuntimeError(f"Isso answered {answer.status} for {url}")
    shown = isso_comments(answer.json())
    results.isso_thread = IssoThread(uri, stored, shown)
    print(f"Isso {ISSO_VERSION} under gunicorn on port {port} (master pid {master}):", flush=True)
    row = Row(
        "isso", f"Isso {ISSO_VERSION}, GET /?uri=<the seed's path>", answer.status, len(answer.body)
    )
    row.note = f"{shown} comments, {answer.headers.get('content-encoding', 'not compressed')}"
    results.rows.append(row)
    measure(row, url, GZIP, args.seconds)
    pids = [master, *children_of(master)]
    results.isso_processes = len(pids)
    results.isso_rss = sum(rss_mb(pid) for pid in pids)
    processes.stop(master)


# --- the report -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(args: argparse.Namespace, r: Results, load: tuple[float, float, float]) -> None:
    data = r.data
    print()
    end = os.getloadavg()
    print(
        f"threadbridge web side, {os.cpu_count()} cores (load average {load[0]:.2f} at the "
        f"start, {end[0]:.2f} at the end: the machine is shared); Python "
        f"{sys.version.split()[0]}, aiohttp {aiohttp.__version__}; {wrk_version()}"
    )
    print(
        f"load: wrk -t1 -c{CONNECTIONS} --latency --timeout {WRK_TIMEOUT}, "
        f"{WARM_UP_SECONDS} s warm-up then {args.seconds} s per target, one target at a time"
    )
    if data is not None:
        print(f"seed post {data.seed_id}: {data.seed_url} ({r.import_line})")
        print(
            f"big post {data.big_id}: {data.big_url}, {BIG_COMMENTS:,} comments "
            f"({data.big_discord:,} from Discord, {data.big_web:,} from the web, "
            f"{data.big_replies:,} replies)"
        )
    print()
    header = (
        f"{'target':<44} {'status':>6} {'bytes':>7} {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6}  checked"
    )
    print(header)
    print("-" * (len(header) + 24))
    for row in r.rows:
        f = row.figures
        if f is None:
            print(
                f"{row.key + '. ' + row.label:<44} {row.status:>6} {row.size:>7,}  (not measured)"
            )
            continue
        label = row.label if row.key in ("floor", "isso") else f"{row.key}. {row.label}"
        print(
            f"{label[:44]:<44} {row.status:>6} {row.size:>7,} {f.rate:>9,.0f} {f.p50_ms:>8.2f} "
            f"{f.p99_ms:>8.2f} {f.errors + f.unexpected:>6}  {row.note}"
        )
    if r.isso_note:
        print(f"{'Isso':<44} skipped: {r.isso_note}")
    print()

    a, floor, isso = r.row("a"), r.row("floor"), r.row("isso")
    if a is None or a.figures is None:
        print("threadbridge's (a) was not measured: no ratios")
        return
    if r.isso_thread is not None:
        t = r.isso_thread
        print(
            f"Isso thread {t.uri}: {t.stored} comments imported (every state), {t.shown} shown "
            f"by GET; threadbridge shows {data.seed_comments if data else '?'} (it leaves out "
            "pingbacks, spam and unapproved comments)"
        )
    goals: list[tuple[str, bool | None]] = []  # None: not measured
    if isso is not None and isso.figures is not None and isso.figures.rate > 0:
        ratio = a.figures.rate / isso.figures.rate
        goals.append((f"(a) >= {GOAL_ISSO_RATIO:.0f}x Isso", ratio >= GOAL_ISSO_RATIO))
        print(
            f"threadbridge (a) / Isso:          {ratio:,.0f}x   goal >= {GOAL_ISSO_RATIO:.0f}x: "
            f"{verdict(ratio >= GOAL_ISSO_RATIO)}"
        )
    else:
        goals.append((f"(a) >= {GOAL_ISSO_RATIO:.0f}x Isso", None))
        print(f"threadbridge (a) / Isso:          not measured: {r.isso_note or 'no figures'}")
    if floor is not None and floor.figures is not None:
        share = a.figures.rate / floor.figures.rate
        goals.append((f"(a) >= {GOAL_FLOOR_RATIO:.0%} of the floor", share >= GOAL_FLOOR_RATIO))
        print(
            f"threadbridge (a) / bare aiohttp:  {share:.0%}   goal >= {GOAL_FLOOR_RATIO:.0%}: "
            f"{verdict(share >= GOAL_FLOOR_RATIO)}"
        )
    goals.append((f"p99 of (a) < {GOAL_P99_MS:.0f} ms", a.figures.p99_ms < GOAL_P99_MS))
    print(
        f"p99 of (a):                       {a.figures.p99_ms:.2f} ms   "
        f"goal < {GOAL_P99_MS:.0f} ms: {verdict(a.figures.p99_ms < GOAL_P99_MS)}"
    )
    print(
        f"memory: threadbridge serve RSS {r.serve_rss:.0f} MB after its runs (peak "
        f"{r.serve_peak:.0f} MB)"
        + (
            f"; Isso's gunicorn master and {r.isso_processes - 1} workers "
            f"{r.isso_rss:.0f} MB together"
            if r.isso_processes
            else ""
        )
    )
    met = [name for name, ok in goals if ok]
    missed = [name for name, ok in goals if ok is False]
    unmeasured = [name for name, ok in goals if ok is None]
    print(
        f"goals met: {len(met)} of {len(goals)}"
        + (f"; met: {', '.join(met)}" if met else "")
        + (f"; missed: {', '.join(missed)}" if missed else "")
        + (f"; not measured: {', '.join(unmeasured)}" if unmeasured else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per target")
    parser.add_argument(
        "--isso-venv",
        type=Path,
        default=DEFAULT_ISSO_VENV,
        help="virtual environment for Isso and gunicorn, made when missing (keep it outside "
        "the repository)",
    )
    parser.add_argument("--no-isso", action="store_true", help="leave Isso out")
    parser.add_argument("--floor", nargs=2, help=argparse.SUPPRESS)  # PORT ANSWER_FILE
    args = parser.parse_args()
    if args.floor:
        held = json.loads(Path(args.floor[1]).read_text())
        asyncio.run(serve_floor(int(args.floor[0]), held))
        return
    if shutil.which("wrk") is None:
        print(
            "bench/web.py needs wrk, the HTTP load generator: install it with "
            "`apt-get install wrk` (Debian, Ubuntu) and run again",
            file=sys.stderr,
        )
        sys.exit(2)
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be from 1 to 600")
    args.isso_venv = args.isso_venv.resolve()
    if args.isso_venv.is_relative_to(ROOT):
        parser.error("--isso-venv must be outside the repository")

    # SIGTERM ends the bench the way Ctrl-C does: through the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = os.getloadavg()
    results = Results()
    processes = Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="threadbridge-bench-web-") as folder:
            try:
                run(args, results, processes, Path(folder))
            finally:
                processes.stop_all()
    except RuntimeError as error:
        raise SystemExit(f"bench/web.py: {error}") from None
    except KeyboardInterrupt:
        print("\ninterrupted: the servers are stopped and the temporary folder removed")
        sys.exit(130)
    report(args, results, load)


if __name__ == "__main__":
    main()
