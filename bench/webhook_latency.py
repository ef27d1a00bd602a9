"""Benchmark: Wasl's Telegram webhook beside a bare python-telegram-bot echo bot, paced and saturated.

    .venv/bin/python bench/webhook_latency.py [--rates 5,10,20] [--seconds 20] [--posters 16]
        [--updates 1000] [--think 1.0] [--db URL]

Two bots, each its own process against a local fake Bot API of its own
(tests/fakes/telegram.py), on the same library and in the same mode:

- Wasl: `wasl serve` (webhook mode, the python-telegram-bot runtime, started as the
  end-to-end tests start it: tests/e2e/telegram_bot.py) on a fresh SQLite file, or on
  `--db` (PostgreSQL: every table is emptied first, so give it a scratch database);
- echo: a python-telegram-bot `Application` with one handler that answers every text
  message with one sendMessage of the same text, its webhook served by Starlette on
  uvicorn as Wasl's is (PTB's custom-webhook example; `echo_bot` below, which this file
  runs with `--echo-bot API`), PTB's defaults otherwise (one update handled at a time).

Both get the same loads, one after another:

- paced: updates POSTed at each of `--rates` per second for `--seconds`, without waiting
  for the answers (as Telegram, on up to 40 connections, its default max_connections);
- saturated: `--posters` concurrent posters, each POSTing its next update as soon as its
  last was answered, `--updates` in all.

Each update is one step of a beneficiary's short exchange: "السلام عليكم", "موافق"
(consent), /status, /menu. A beneficiary writes again only once the bot has sent all its
replies to the last message (how many each step gets is counted once per bot before the
load) and, when paced, `--think` seconds after the last of them; when none is ready, the
update is a new beneficiary's greeting. A non-2xx answer is POSTed again, as Telegram does.

For each bot and load it prints the updates per second answered 200, the webhook's answer
latency (from the first POST of an update to its HTTP 200, p50/p99) and answered -> reply:
from that 200 to the moment the fake Bot API received the bot's first sendMessage to that
chat after the POST (for Wasl, which answers 200 once its transaction committed, that is
commit -> reply; a negative figure: the reply reached the fake before the poster had read
the 200). The caption holds the targets, read against the figures: commit -> reply p99 at
most 100 ms below saturation, and a saturated throughput of at least half the echo bot's.
The fake runs in this process (a thread), so the "bench CPU" column counts it with the
posters; "bot CPU" is the bot process's, both in % of one core while posting.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.fakes.telegram import TOKEN, FakeTelegram  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ("السلام عليكم", "موافق", "/status", "/menu")
PATH = "/webhooks/telegram"  # the echo bot serves the same path as Wasl
CONNECTIONS = 40  # Telegram's default max_connections to a webhook
MAX_TRIES = 20
QUIET = 15.0  # seconds without a new reply after which the replies still owed are missing
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.5
FIRST_UID = 40_000_000


# -- the echo bot (its own process) ----------------------------------------------------------
def echo_bot(api: str, secret: str) -> None:
    """A bare python-telegram-bot webhook bot: each text message gets one sendMessage of its
    text. PTB's own server (`run_webhook`) needs tornado, the `webhooks` extra, which Wasl
    does not install; so this is PTB's custom-webhook example (examples/customwebhookbot/
    starlettebot.py): an `Application` fed from a Starlette route on uvicorn (as Wasl's own
    webhook is served), answering 200 once the update is queued, as `run_webhook` does. It
    listens on a socket bound to a port the OS picks, and prints the port."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat and update.message and update.message.text
        await context.bot.send_message(update.effective_chat.id, update.message.text)

    bot = (Application.builder().token(TOKEN).base_url(f"{api}/bot")
           .base_file_url(f"{api}/file/bot").updater(None).build())
    bot.add_handler(MessageHandler(filters.TEXT, echo))

    async def webhook(request: Request) -> Response:
        if request.headers.get("x-telegram-bot-api-secret-token") != secret:
            return Response(status_code=403)
        await bot.update_queue.put(Update.de_json(await request.json(), bot.bot))
        return Response()

    # IPPROTO_TCP named, so that asyncio sets TCP_NODELAY on each connection, as it does for
    # Wasl's (uvicorn binds it from a host and port)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # SIGINT is handled in main()
            yield

    server = Server(uvicorn.Config(
        Starlette(routes=[Route(PATH, webhook, methods=["POST"])]), log_level="warning",
        lifespan="off"))

    async def main() -> None:
        # SIGINT ends serving; the bot then stops and shuts down in order
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGINT, lambda: setattr(server, "should_exit", True))
        async with bot:
            await bot.bot.set_webhook(f"http://127.0.0.1:{port}{PATH}", secret_token=secret)
            await bot.start()
            print(f"echo bot listening on port {port}", flush=True)
            await server.serve(sockets=[sock])  # until SIGINT
            await bot.stop()

    asyncio.run(main())


class EchoProcess:
    """The echo bot started as `WaslProcess` starts Wasl: a process pointed at the fake."""

    def __init__(self, fake: FakeTelegram, secret: str, log: Path) -> None:
        self.fake, self.secret, self.log, self.port = fake, secret, log, 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> EchoProcess:
        before = len(self.fake.called("setWebhook"))
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--echo-bot", self.fake.url],
            cwd=ROOT, env={**os.environ, "PYTHONUTF8": "1", "WASL_BENCH_SECRET": self.secret},
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        try:
            self.fake.wait(lambda: len(self.fake.called("setWebhook")) > before, timeout=60)
        except TimeoutError:
            self.stop()
            raise RuntimeError(self.log.read_text(errors="replace")) from None
        deadline = time.monotonic() + 30
        while not (lines := [x for x in self.log.read_text().splitlines()
                             if "listening on port" in x]):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self.log.read_text(errors="replace"))
            time.sleep(0.05)
        self.port = int(lines[0].rsplit(" ", 1)[1])
        # the port is printed just before uvicorn serves it: the first answer (405 to a GET)
        # says it does
        httpx.get(f"http://127.0.0.1:{self.port}{PATH}", timeout=30)
        return self

    def stop(self) -> None:
        from tests.e2e.telegram_bot import interrupt

        interrupt(self.proc)


# -- what the fake received --------------------------------------------------------------------
class Replies:
    """The sendMessage calls the fake received, per chat, by their arrival (`Call.at`)."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake, self.read, self.total = fake, 0, 0
        self.at: dict[int, list[float]] = {}

    def update(self) -> None:
        with self.fake.cond:
            new = self.fake.calls[self.read:]
            self.read += len(new)
        for call in new:
            if call.method == "sendMessage" and call.status == 200:
                self.at.setdefault(int(call.params["chat_id"]), []).append(call.at)
                self.total += 1

    def count(self, uid: int) -> int:
        return len(self.at.get(uid, ()))

    def first_after(self, uid: int, moment: float) -> float | None:
        times = self.at.get(uid, [])
        i = bisect.bisect_left(times, moment)
        return times[i] if i < len(times) else None


# -- the beneficiaries ---------------------------------------------------------------------------
@dataclass
class Chat:
    uid: int
    step: int = 0  # the next step of SCRIPT
    owed: int = 0  # replies the bot owes this chat so far (by the counts per step)


@dataclass
class Post:
    uid: int
    step: int
    owed_before: int  # replies owed before it: its first reply is the chat's next one
    start: float = 0.0  # the first POST
    answered: float = 0.0  # its 200
    status: int = 0
    tries: int = 0
    reply: float | None = None


class Beneficiaries:
    """Who sends the next update: a beneficiary whose replies all came (and, paced, whose
    `think` time after the last one passed), the longest waiting first; else a new one."""

    def __init__(self, replies: Replies, counts: list[int], first_uid: int, think: float) -> None:
        self.replies, self.counts, self.think = replies, counts, think
        self.next_uid = first_uid
        self.waiting: deque[Chat] = deque()
        self.everyone: list[Chat] = []

    def take(self) -> Chat:
        self.replies.update()
        now = time.monotonic()
        for i, chat in enumerate(self.waiting):
            if i >= 64:  # replies come about in order: looking further is wasted
                break
            if self.replies.count(chat.uid) >= chat.owed:
                times = self.replies.at.get(chat.uid)
                if not times or now - times[-1] >= self.think:
                    del self.waiting[i]
                    return chat
        chat = Chat(self.next_uid)
        self.next_uid += 1
        self.everyone.append(chat)
        return chat

    def answered(self, chat: Chat) -> None:
        chat.step += 1
        if chat.step < len(SCRIPT):
            self.waiting.append(chat)

    def owed(self) -> int:
        self.replies.update()
        return sum(max(0, c.owed - self.replies.count(c.uid)) for c in self.everyone)

    def extra(self) -> int:
        self.replies.update()
        return sum(max(0, self.replies.count(c.uid) - c.owed) for c in self.everyone)


# -- the load ------------------------------------------------------------------------------------
@dataclass
class Phase:
    load: str
    posts: list[Post] = field(default_factory=list)
    seconds: float = 0.0  # from the first POST to the last 200
    bench_cpu: float = 0.0  # % of one core while posting
    bot_cpu: float | None = None
    missing: int = 0  # replies owed and never received
    extra: int = 0  # replies beyond those counted per step
    misattributed: int = 0  # a post whose first reply by time is not the one owed next

    @property
    def rate(self) -> float:
        return len(self.posts) / self.seconds if self.seconds else 0.0

    def webhook_ms(self) -> list[float]:
        return [(p.answered - p.start) * 1000 for p in self.posts]

    def reply_ms(self) -> list[float]:
        return [(p.reply - p.answered) * 1000 for p in self.posts if p.reply is not None]

    @property
    def no_reply(self) -> int:
        return sum(1 for p in self.posts if p.reply is None)


def quantile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else None


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Load:
    """Posts updates to one bot's webhook and measures them against what its fake received."""

    def __init__(self, fake: FakeTelegram, port: int, secret: str, pid: int, counts: list[int],
                 think: float) -> None:
        self.fake, self.counts, self.think, self.pid = fake, counts, think, pid
        self.url = f"http://127.0.0.1:{port}{PATH}"
        self.headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        self.replies = Replies(fake)
        self.next_uid = FIRST_UID

    async def _deliver(self, client: httpx.AsyncClient, pool: Beneficiaries, chat: Chat,
                       phase: Phase) -> None:
        post = Post(chat.uid, chat.step, chat.owed)
        chat.owed += self.counts[chat.step]
        phase.posts.append(post)
        update = self.fake.text_update(chat.uid, SCRIPT[chat.step])
        post.start = time.monotonic()
        for attempt in range(MAX_TRIES):
            post.tries += 1
            try:
                response = await client.post(self.url, json=update, headers=self.headers)
                post.status = response.status_code
            except httpx.TransportError:
                post.status = 0
            if 200 <= post.status < 300:
                break
            await asyncio.sleep(min(0.05 * 2 ** attempt, 2))  # as Telegram backs off
        else:
            raise RuntimeError(f"update {update['update_id']} never accepted ({post.status})")
        post.answered = time.monotonic()
        pool.answered(chat)

    async def paced(self, rate: float, seconds: float) -> Phase:
        phase, pool = Phase(f"paced {rate:g}/s"), self._pool(self.think)
        n = max(1, round(rate * seconds))
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            with self._cpu(phase):
                started, tasks = time.monotonic(), []
                for i in range(n):
                    delay = started + i / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(self._deliver(client, pool, pool.take(),
                                                                   phase)))
                await asyncio.gather(*tasks)
        await self._finish(phase, pool)
        return phase

    async def saturated(self, posters: int, updates: int) -> Phase:
        phase, pool = Phase(f"saturated ×{posters}"), self._pool(0.0)
        left = updates
        limits = httpx.Limits(max_connections=posters, max_keepalive_connections=posters)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:

            async def poster() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    await self._deliver(client, pool, pool.take(), phase)

            with self._cpu(phase):
                await asyncio.gather(*(poster() for _ in range(posters)))
        await self._finish(phase, pool)
        return phase

    def _pool(self, think: float) -> Beneficiaries:
        pool = Beneficiaries(self.replies, self.counts, self.next_uid, think)
        self.next_uid += 1_000_000  # each phase its own beneficiaries
        return pool

    def _cpu(self, phase: Phase):
        load = self

        class Measure:
            def __enter__(self) -> None:
                self.wall, self.own = time.monotonic(), time.process_time()
                self.bot = cpu_seconds(load.pid)

            def __exit__(self, *_: object) -> None:
                wall = time.monotonic() - self.wall
                phase.bench_cpu = 100 * (time.process_time() - self.own) / wall
                bot = cpu_seconds(load.pid)
                if bot is not None and self.bot is not None:
                    phase.bot_cpu = 100 * (bot - self.bot) / wall

        return Measure()

    async def _finish(self, phase: Phase, pool: Beneficiaries) -> None:
        """Wait for every reply owed (until none came for QUIET seconds), then match each
        update with its first reply."""
        phase.seconds = max(p.answered for p in phase.posts) - min(p.start for p in phase.posts)
        progress, seen = time.monotonic(), -1
        while pool.owed() and time.monotonic() - progress < QUIET:
            if self.replies.total != seen:
                seen, progress = self.replies.total, time.monotonic()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a reply beyond those counted would come about now
        phase.missing, phase.extra = pool.owed(), pool.extra()
        for post in phase.posts:
            if not self.counts[post.step]:
                continue  # a step the bot does not answer
            by_time = self.replies.first_after(post.uid, post.start)
            times = self.replies.at.get(post.uid, [])
            next_owed = times[post.owed_before] if post.owed_before < len(times) else None
            post.reply = by_time
            if by_time != next_owed:
                phase.misattributed += 1


# -- one bot, start to end -----------------------------------------------------------------------
def count_replies(fake: FakeTelegram, post: Callable[[dict], httpx.Response],
                  settle: Callable[[int], None], uid: int) -> list[int]:
    """How many messages the bot sends for each step of SCRIPT, for one beneficiary."""
    counts = []
    for text in SCRIPT:
        before = len(fake.sent_to(uid))
        response = post(fake.text_update(uid, text))
        assert response.status_code == 200, response.text
        fake.wait(lambda b=before: len(fake.sent_to(uid)) > b, timeout=60)
        settle(uid)
        counts.append(len(fake.sent_to(uid)) - before)
    return counts


@dataclass
class Run:
    name: str
    counts: list[int]
    phases: list[Phase]


def run_bot(name: str, db_url: str | None, args: argparse.Namespace, log: Path) -> Run:
    from tests.e2e.telegram_bot import SECRET, User, WaslProcess

    fake = FakeTelegram().start()
    bot: WaslProcess | EchoProcess
    if db_url is not None:
        bot = WaslProcess(fake, db_url, "ptb", "webhook", log).start()
        assert bot.proc

        def settle(uid: int) -> None:
            User(fake, bot, uid).settle()  # its outbox holds nothing more for the chat
    else:
        bot = EchoProcess(fake, SECRET, log).start()

        def settle(uid: int) -> None:
            time.sleep(0.5)  # a second echo would come by now

    def post(update: dict) -> httpx.Response:
        return httpx.post(f"http://127.0.0.1:{bot.port}{PATH}", json=update, timeout=30,
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})

    try:
        counts = count_replies(fake, post, settle, FIRST_UID - 1)
        assert bot.proc
        load = Load(fake, bot.port, SECRET, bot.proc.pid, counts, args.think)

        async def phases() -> list[Phase]:
            done = [await load.paced(rate, args.seconds) for rate in args.rates]
            done.append(await load.saturated(args.posters, args.updates))
            return done

        return Run(name, counts, asyncio.run(phases()))
    finally:
        bot.stop()
        fake.stop()


async def empty(url: str) -> None:
    """A scratch PostgreSQL database: its schema made, every table emptied."""

    from bot.app import build_app
    from bot.config import Settings
    from tests.scratch import empty

    app = await build_app(Settings(database_url=url, profile="bakkah"))
    try:
        await empty(app.db)
    finally:
        await app.close()


# -- the table -----------------------------------------------------------------------------------
def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def git_state() -> str:
    def git(*a: str) -> str:
        out = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return out.stdout if out.returncode == 0 else ""

    head = git("log", "-1", "--format=%h").strip() or "?"
    changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
               if line.strip()]
    return f"git {head}" + (f", uncommitted changes to {', '.join(changed)}" if changed else "")


def report(runs: list[Run], engine: str, args: argparse.Namespace,
           load: tuple[float, float]) -> None:
    from bot.config import Settings

    wasl, echo = runs
    table = Table(title=f"Telegram webhook ({engine}): Wasl beside a bare python-telegram-bot "
                        "echo bot")
    for column in ("load", "bot", "updates", "re-sent", "answered/s", "POST→200 p50 ms",
                   "POST→200 p99 ms", "200→reply p50 ms", "200→reply p99 ms", "no reply",
                   "bot CPU %", "bench CPU %"):
        table.add_column(column, justify="left" if column in ("load", "bot") else "right")
    for i in range(len(wasl.phases)):
        for run in (wasl, echo):
            p = run.phases[i]
            table.add_row(p.load if run is wasl else "", run.name, str(len(p.posts)),
                          str(sum(x.tries - 1 for x in p.posts)), f"{p.rate:.1f}",
                          ms(quantile(p.webhook_ms(), 0.5)), ms(quantile(p.webhook_ms(), 0.99)),
                          ms(quantile(p.reply_ms(), 0.5)), ms(quantile(p.reply_ms(), 0.99)),
                          str(p.no_reply), "-" if p.bot_cpu is None else f"{p.bot_cpu:.0f}",
                          f"{p.bench_cpu:.0f}", end_section=run is echo)
    paced = [(p.load, quantile(p.reply_ms(), 0.99)) for p in wasl.phases[:-1]]
    met = all(v is not None and v <= TARGET_P99_MS for _, v in paced)
    ratio = wasl.phases[-1].rate / echo.phases[-1].rate if echo.phases[-1].rate else 0.0
    defaults = Settings.model_fields
    rate = os.environ.get("WASL_TELEGRAM_RATE", str(defaults["telegram_rate"].default))
    notes = []
    for run in runs:
        for p in run.phases:
            flaws = [f"{n} {what}" for n, what in ((p.missing, "replies missing"),
                                                 (p.extra, "replies beyond those counted"),
                                                 (p.misattributed, "updates misattributed"))
                     if n]
            if flaws:
                notes.append(f"{run.name}, {p.load}: {', '.join(flaws)}")
    table.caption = "\n".join([
        f"Target: Wasl's commit → reply p99 ≤ {TARGET_P99_MS:.0f} ms below saturation: "
        + ", ".join(f"{load} {ms(v)} ms" for load, v in paced) + f" → {'met' if met else 'NOT met'}",
        f"Target: saturated throughput ≥ {TARGET_RATIO} × the echo bot's: Wasl/echo = "
        f"{wasl.phases[-1].rate:.1f}/{echo.phases[-1].rate:.1f} = {ratio:.2f} → "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}",
        f"Replies per step ({' / '.join(SCRIPT)}): Wasl {wasl.counts}, echo {echo.counts}; "
        f"the first one is timed. Wasl sends at most {rate} messages/s in all "
        "(WASL_TELEGRAM_RATE), 0.05 s apart to a chat (as the e2e tests set it).",
        f"Paced: {args.seconds:g} s per rate, think time {args.think:g} s, up to {CONNECTIONS} "
        f"connections; saturated: {args.updates} updates. {os.cpu_count()} CPUs, load average {load[0]:.1f} "
        f"at the start, {load[1]:.1f} at the end; {git_state()}.",
        *notes,
    ])
    Console(width=170).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="5,10,20", help="paced rates, updates per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of each paced load")
    parser.add_argument("--posters", type=int, default=16, help="concurrent posters, saturated")
    parser.add_argument("--updates", type=int, default=1000, help="updates of the saturated load")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a paced beneficiary waits after the bot's last reply")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--echo-bot", metavar="API", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_bot:
        echo_bot(args.echo_bot, os.environ["WASL_BENCH_SECRET"])
        return
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    # a scratch database: sealed with a key of the run's own unless one is given
    os.environ.setdefault("WASL_DATA_KEY", base64.b64encode(os.urandom(32)).decode())
    load_before = os.getloadavg()[0]  # others' work on the machine moves the figures
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite+aiosqlite:///{tmp}/latency.db"
        if args.db:
            asyncio.run(empty(db_url))
        engine = "PostgreSQL" if db_url.startswith("postgres") else "SQLite"
        try:
            runs = [run_bot("Wasl", db_url, args, Path(tmp) / "wasl.log"),
                    run_bot("echo", None, args, Path(tmp) / "echo.log")]
        except Exception:
            for name in ("wasl.log", "echo.log"):
                if (log := Path(tmp) / name).exists():
                    print(f"--- {name} (end)\n{log.read_text(errors='replace')[-4000:]}",
                          file=sys.stderr)
            raise
    report(runs, engine, args, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
