"""The `wasl` command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sys
import webbrowser
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot import profiles
from bot.app import App, build_app
from bot.config import Settings, settings
from bot.records import case_records, request_records, survey_records
from conversations import desk
from conversations.base import RIYADH, Context
from conversations.text import arabic_or_english
from storage.crypto import KeyError_, Keyring
from storage.models import AuditEntry

cli = typer.Typer(help="Wasl: an association's beneficiary-relations policy, running as a chatbot.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
requests_cli = typer.Typer(help="Support requests.", no_args_is_help=True)
cases_cli = typer.Typer(help="Escalations to the social researcher queue.", no_args_is_help=True)
profiles_cli = typer.Typer(help="Association profiles.", no_args_is_help=True)
db_cli = typer.Typer(help="The database.", no_args_is_help=True)
staff_cli = typer.Typer(help="Social researchers and admins.", no_args_is_help=True)
faq_cli = typer.Typer(help="The answers the bot gives itself: the profile's FAQ and what "
                           "staff taught.", no_args_is_help=True)
cli.add_typer(requests_cli, name="requests")
cli.add_typer(cases_cli, name="cases")
cli.add_typer(profiles_cli, name="profiles")
cli.add_typer(db_cli, name="db")
cli.add_typer(staff_cli, name="staff")
cli.add_typer(faq_cli, name="faq")
pdpl_cli = typer.Typer(help="The PDPL's records.", no_args_is_help=True)
cli.add_typer(pdpl_cli, name="pdpl")
keys_cli = typer.Typer(help="The data keys that seal personal data at rest.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
volunteers_cli = typer.Typer(help="Volunteers who signed up from the menu.", no_args_is_help=True)
cli.add_typer(volunteers_cli, name="volunteers")

Db = Annotated[str | None, typer.Option("--db", envvar="WASL_DATABASE_URL",
                                        help="Database URL (default: SQLite in ./data).")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", envvar="WASL_PROFILE",
                                                help="Profile name or YAML path.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Lang = Annotated[str, typer.Option("--lang", help="ar or en")]


def _run(db: str | None, profile: str | None, body: Callable[[App], Awaitable[Any]],
         answers: bool = False) -> Any:
    """Build the app, run `body`, close. Only what talks to beneficiaries (`answers`) loads
    the FAQ's sentence model: a command such as `wasl staff list` starts without it."""
    config = settings(database_url=db, profile=profile)
    if not answers:
        config = config.model_copy(update={"faq": "off"})
    _logging(config.log_level)

    async def main() -> Any:
        app = await build_app(config)
        try:
            return await body(app)
        finally:
            await app.close()

    try:
        return asyncio.run(main())
    except profiles.ProfileError as exc:
        typer.echo(f"profile error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    except KeyError_ as exc:
        typer.echo(f"data key: {exc}", err=True)
        raise typer.Exit(2) from None


def _keys_or_exit(config: Settings) -> None:
    """Refuse to start, with the reason, when the database's data key is missing or bad."""
    try:
        Keyring.for_database(config.database_url)
    except KeyError_ as exc:
        typer.echo(f"data key: {exc}", err=True)
        raise typer.Exit(2) from None


# Libraries whose debug and info logs carry what they handle: SQL parameters and stored state
# (national ids, IBANs, messages), request and response bodies, URLs with tokens, addresses.
# They stay at WARNING whatever WASL_LOG_LEVEL says; only Wasl's own logs follow it.
QUIET_LOGGERS = ("aiosqlite", "sqlalchemy", "asyncpg", "alembic", "httpx", "httpcore", "hpack",
                 "h2", "h11", "urllib3", "multipart", "python_multipart", "uvicorn.access",
                 "uvicorn.asgi", "websockets", "telegram", "aiogram", "PIL", "matplotlib",
                 "fontTools", "openpyxl", "bm25s")


class _QuietLibraries(logging.Filter):
    """Drops records below WARNING from the libraries above, even if something (uvicorn's
    log_level, SQLAlchemy's echo) sets their level again."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not any(
            record.name == name or record.name.startswith(name + ".") for name in QUIET_LOGGERS)


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet = _QuietLibraries()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _QuietLibraries) for f in handler.filters):
            handler.addFilter(quiet)
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _QuietLibraries) for f in logger.filters):
            logger.addFilter(quiet)  # survives uvicorn's own logging set-up (its own handlers)


# What a terminal acts on rather than shows, in text people typed: C0 controls (the line
# break aside), DEL, C1 (0x9b is CSI), line and paragraph separators, and the bidi
# embeddings, overrides and isolates (U+202E would reverse the rest of the line).
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _plain(value: object) -> str:
    """A value for a person to read on a terminal: control characters shown escaped
    (`\\x1b`, `\\u202e`), never acted on."""
    return _UNSAFE.sub(_escape, "" if value is None else str(value))


def _cells(*values: object) -> list[Text]:
    """Table cells: escaped, and never read as rich markup (`[bold]` stays as typed)."""
    return [Text(_plain(v)) for v in values]


def _json_text(data: Any) -> str:
    """Exact JSON that is safe on a terminal: json.dumps escapes C0 controls; DEL, C1 and
    bidi controls (only ever inside strings) become \\u escapes, which JSON reads back."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def _print_json(data: Any) -> None:
    typer.echo(_json_text(data))


@cli.command()
def run(db: Db = None, profile: ProfileOpt = None,
        port: Annotated[int, typer.Option(help="Port of the web chat (without a token).")] = 8080,
        browser: Annotated[bool, typer.Option(
            "--browser/--no-browser", help="Open the web chat in a browser, if there is one.")]
        = True) -> None:
    """Start the bot: on Telegram (long polling) when WASL_TELEGRAM_TOKEN is set, otherwise
    the web chat on this machine (http://127.0.0.1:8080/chat). `wasl chat` talks in the
    terminal instead."""
    config = settings(database_url=db, profile=profile)
    if config.telegram_token is None:
        return _serve(config, "127.0.0.1", port, announce=True, browser=browser)
    from bot.channels.telegram.client import make_client
    from bot.channels.telegram.service import run_polling

    def polling(app: App) -> Awaitable[None]:
        token = config.telegram_token.get_secret_value() if config.telegram_token else ""
        client = make_client(config.telegram_runtime, token, config.telegram_api_base)
        return run_polling(app, client, config)

    with contextlib.suppress(KeyboardInterrupt):
        _run(db, profile, polling, answers=True)


@cli.command()
def serve(db: Db = None, profile: ProfileOpt = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080) -> None:
    """Serve the webhooks (Telegram at /webhooks/telegram) and the web chat (/chat)."""
    _serve(settings(database_url=db, profile=profile), host, port)


def _serve(config: Settings, host: str, port: int, announce: bool = False,
           browser: bool = False) -> None:
    import uvicorn

    from bot.server import create_server
    _logging(config.log_level)
    _keys_or_exit(config)
    # Open event streams (the web chat) would hold a stop for as long as they last.
    server = uvicorn.Server(uvicorn.Config(create_server(config), host=host, port=port,
                                           log_level=config.log_level.lower(),
                                           timeout_graceful_shutdown=3,
                                           # X-Forwarded-* only from WASL_TRUSTED_PROXIES;
                                           # otherwise the client is the connection's peer
                                           proxy_headers=bool(config.trusted_proxies),
                                           forwarded_allow_ips=config.trusted_proxies or ""))

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started and announce:
            url = f"http://{host}:{port}/chat"
            typer.echo(f"Wasl is running. Its web chat: {url}\n"
                       "Stop with Ctrl+C. `wasl chat` talks to the bot in this terminal.")
            if browser and _graphical_browser():
                webbrowser.open(url)
        await serving

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
    except SystemExit as exc:  # uvicorn could not start (the port is taken): it logged why
        if exc.code:
            typer.echo(f"Wasl could not listen on {host}:{port}; try another port: --port N",
                       err=True)
        raise


def _graphical_browser() -> bool:
    """Whether a browser window can be opened (never a text browser in this terminal)."""
    if os.environ.get("CI") or not sys.stdout.isatty():
        return False
    if sys.platform not in ("darwin", "win32") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        found = webbrowser.get()
    except webbrowser.Error:
        return False
    return not (isinstance(found, webbrowser.GenericBrowser)
                and not isinstance(found, webbrowser.BackgroundBrowser))


@cli.command()
def chat(db: Db = None, profile: ProfileOpt = None,
         sender: Annotated[str, typer.Option("--as", help="Sender id to chat as.")] = "console",
         ) -> None:
    """Talk to the bot in this terminal."""
    from bot.channels import console
    _run(db, profile, lambda app: console.run(app, sender), answers=True)


@cli.command()
def simulate(db: Db = None, profile: ProfileOpt = None,
             files: Annotated[Path | None, typer.Option(
                 "--files", help="Keep the files replies send in this folder (by default a "
                 "private temporary one, removed when the simulator stops).")] = None) -> None:
    """Read events as JSON Lines on stdin, write replies as JSON Lines on stdout."""
    from bot.channels import simulator
    _run(db, profile, lambda app: simulator.run(app, sys.stdin, sys.stdout, files),
         answers=True)


@requests_cli.command("list")
def requests_list(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False) -> None:
    """Every request, oldest first."""
    records = _run(db, profile, request_records)
    if as_json:
        return _print_json(records)
    table = Table("number", "status", "service", "beneficiary", "confirmed", "decision due")
    for r in records:
        table.add_row(*_cells(r["number"], r["status"], r["service"], r["beneficiary"],
                              r["confirmed_at"], r["decision_due"]))
    Console().print(table)


@requests_cli.command("show")
def requests_show(number: str, db: Db = None, profile: ProfileOpt = None,
                  as_json: AsJson = False) -> None:
    """One request with its fields, documents, history and acknowledgment."""
    records = _run(db, profile, lambda app: request_records(app, number))
    if not records:
        typer.echo(f"no request {_plain(number)}", err=True)
        raise typer.Exit(1)
    if as_json:
        return _print_json(records[0])
    from rich.highlighter import JSONHighlighter
    Console().print(JSONHighlighter()(Text(_json_text(records[0]))))


@cases_cli.command("list")
def cases_list(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False) -> None:
    """Every case in the researcher queue, with its transcript."""
    records = _run(db, profile, case_records)
    if as_json:
        return _print_json(records)
    table = Table("id", "status", "reason", "beneficiary", "opened")
    for c in records:
        table.add_row(*_cells(c["id"], c["status"], c["reason"], c["beneficiary"],
                              c["created_at"]))
    Console().print(table)


@cli.command("surveys")
def surveys_list(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False) -> None:
    """Surveys sent, the answers given (anonymous ones unlinked), suggestions and complaints."""
    data = _run(db, profile, survey_records)
    if as_json:
        return _print_json(data)
    table = Table("survey", "kind", "subject", "status", "sent", "reminded")
    for r in data["surveys"]:
        table.add_row(*_cells(r["id"], r["kind"], r["subject"], r["status"], r["sent_at"],
                              r["reminded_at"] or "-"))
    Console().print(table)
    answers = Table("answer", "kind", "service", "rating", "anonymous", "comment")
    for a in data["answers"]:
        answers.add_row(*_cells(a["id"], a["kind"], a["service"] or "-", a["rating"],
                                "yes" if a["anonymous"] else "no", a["comment"] or ""))
    Console().print(answers)
    tickets = Table("ticket", "kind", "case", "text")
    for f in data["feedback"]:
        tickets.add_row(*_cells(f["ticket"], f["kind"], f["case_id"] or "-", f["text"]))
    Console().print(tickets)


@profiles_cli.command("list")
def profiles_list(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False) -> None:
    """The profiles that ship with Wasl."""
    found = []
    for name in profiles.shipped():
        p = profiles.load(name)
        found.append({
            "name": name,
            "association": {"ar": p.association.ar, "en": p.association.en},
            "services": [{"key": s.key, "label": {"ar": s.label.ar, "en": s.label.en}}
                         for s in p.services],
        })
    if as_json:
        return _print_json(found)
    table = Table("name", "association", "services")
    for f in found:
        table.add_row(*_cells(f["name"], f["association"]["en"] or f["association"]["ar"],
                              ", ".join(s["key"] for s in f["services"])))
    Console().print(table)


@profiles_cli.command("check")
def profiles_check(path: str) -> None:
    """Validate a profile file; errors name the line and the key."""
    try:
        p = profiles.load(path)
    except profiles.ProfileError as exc:
        typer.echo(_plain(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"ok: {_plain(p.key)}, {len(p.services)} services")


def _who(who: str) -> tuple[str, str]:
    channel, sep, sender = who.partition(":")
    if not sep or not channel or not sender:
        typer.echo("write the person as CHANNEL:SENDER_ID, for example telegram:123456789", err=True)
        raise typer.Exit(2)
    return channel, sender


@staff_cli.command("add")
def staff_add(who: str,
              role: Annotated[str, typer.Option(help="researcher, committee (records the "
                                                     "decisions) or admin")] = "researcher",
              name: Annotated[str | None, typer.Option(help="Full name (beneficiaries see "
                                                            "the first name only).")] = None,
              db: Db = None, profile: ProfileOpt = None) -> None:
    """Register a staff member by their chat: CHANNEL:SENDER_ID (e.g. telegram:123456789)."""
    if role not in desk.ROLES:
        typer.echo("role is researcher, committee or admin", err=True)
        raise typer.Exit(2)
    channel, sender = _who(who)

    async def add(app: App) -> None:
        async with app.db.unit_of_work() as uow:
            await uow.desk.add_staff(channel, sender, name or sender, role, datetime.now(UTC))
            await uow.audit(AuditEntry(at=datetime.now(UTC), actor="cli", role="admin",
                                       action="staff_add", allowed=True, detail=f"{who} {role}"))

    _run(db, profile, add)
    typer.echo(f"{_plain(who)} is now a {role}")


@staff_cli.command("list")
def staff_list(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False) -> None:
    """The active staff."""
    async def team(app: App) -> list[dict[str, Any]]:
        async with app.db.unit_of_work() as uow:
            return [{"who": f"{s.channel}:{s.sender_id}", "name": s.name, "role": s.role}
                    for s in await uow.desk.all_staff()]

    found = _run(db, profile, team)
    if as_json:
        return _print_json(found)
    table = Table("who", "name", "role")
    for s in found:
        table.add_row(*_cells(s["who"], s["name"], s["role"]))
    Console().print(table)


@staff_cli.command("remove")
def staff_remove(who: str, db: Db = None, profile: ProfileOpt = None) -> None:
    """Stop treating CHANNEL:SENDER_ID as staff."""
    channel, sender = _who(who)

    async def remove(app: App) -> bool:
        async with app.db.unit_of_work() as uow:
            done = await uow.desk.remove_staff(channel, sender)
            await uow.audit(AuditEntry(at=datetime.now(UTC), actor="cli", role="admin",
                                       action="staff_remove", allowed=done, detail=who))
            return done

    if not _run(db, profile, remove):
        typer.echo(f"{_plain(who)} is not staff", err=True)
        raise typer.Exit(1)
    typer.echo(f"{_plain(who)} removed")


@faq_cli.command("list")
def faq_list(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False) -> None:
    """Every answer: the profile's FAQ (edited in its YAML file) and the taught ones."""
    async def entries(app: App) -> list[dict[str, Any]]:
        found = [{"id": f"faq.{e.key}", "source": "profile", "questions": list(e.questions.ar)
                  + list(e.questions.en), "answer": e.answer.ar, "by": None, "at": None}
                 for e in app.profile.faq]
        async with app.db.unit_of_work() as uow:
            found += [{"id": f"taught.{t.id}", "source": "taught", "questions": list(t.questions),
                       "answer": t.answer, "by": t.created_by,
                       "at": t.created_at.astimezone(RIYADH).isoformat(timespec="minutes")}
                      for t in await uow.faq.taught()]
        return found

    found = _run(db, profile, entries)
    if as_json:
        return _print_json(found)
    table = Table("id", "first question", "answer", "taught by", "at (Riyadh)")
    for e in found:
        table.add_row(*_cells(e["id"], e["questions"][0], e["answer"][:80], e["by"] or "",
                              e["at"] or ""))
    Console().print(table)


@faq_cli.command("add")
def faq_add(question: Annotated[list[str], typer.Option(
                "--question", "-q", help="A way the question is asked (again for more).")],
            answer: Annotated[str, typer.Option(help="The answer the bot gives.")],
            db: Db = None, profile: ProfileOpt = None) -> None:
    """Teach the bot an answer; it answers the question itself from now on."""
    questions = [q.strip() for q in question if q.strip()]
    if not questions or not answer.strip():
        typer.echo("give at least one --question and a non-empty --answer", err=True)
        raise typer.Exit(2)

    async def add(app: App) -> int:
        now = datetime.now(UTC)
        async with app.db.unit_of_work() as uow:
            number = await uow.faq.teach(questions, answer.strip(), arabic_or_english(answer),
                                         "cli", now)
            await uow.audit(AuditEntry(at=now, actor="cli", role="admin", action="faq_teach",
                                       allowed=True, detail=f"taught.{number}"))
            return number

    typer.echo(f"answer taught.{_run(db, profile, add)} added")


@faq_cli.command("edit")
def faq_edit(number: Annotated[str, typer.Argument(help="N or taught.N")],
             question: Annotated[list[str] | None, typer.Option(
                 "--question", "-q", help="Ways the question is asked (replace them all).")] = None,
             answer: Annotated[str | None, typer.Option(help="The new answer.")] = None,
             db: Db = None, profile: ProfileOpt = None) -> None:
    """Change a taught answer or its questions; it becomes a new number (the old one is
    kept on record, removed)."""
    digits = number.removeprefix("taught.")
    questions = [q.strip() for q in question or [] if q.strip()]
    if not digits.isdigit() or not (questions or (answer or "").strip()):
        typer.echo("give the number of a taught answer and a new --answer or --question", err=True)
        raise typer.Exit(2)

    async def edit(app: App) -> int | None:
        now = datetime.now(UTC)
        async with app.db.unit_of_work() as uow:
            new = await uow.faq.edit(int(digits), now, questions or None,
                                     (answer or "").strip() or None)
            await uow.audit(AuditEntry(at=now, actor="cli", role="admin", action="faq_edit",
                                       allowed=new is not None,
                                       detail=f"taught.{digits} -> taught.{new.id}" if new
                                       else f"taught.{digits}"))
            return new.id if new else None

    new = _run(db, profile, edit)
    if new is None:
        typer.echo(f"no taught answer {_plain(number)} in use", err=True)
        raise typer.Exit(1)
    typer.echo(f"answer taught.{digits} is now taught.{new}")


@faq_cli.command("remove")
def faq_remove(number: Annotated[str, typer.Argument(help="N or taught.N")],
               db: Db = None, profile: ProfileOpt = None) -> None:
    """Stop giving a taught answer (the profile's own FAQ is edited in its YAML file)."""
    digits = number.removeprefix("taught.")
    if not digits.isdigit():
        typer.echo("give the number of a taught answer, as `wasl faq list` shows it", err=True)
        raise typer.Exit(2)

    async def remove(app: App) -> bool:
        now = datetime.now(UTC)
        async with app.db.unit_of_work() as uow:
            gone = await uow.faq.remove(int(digits), now)
            await uow.audit(AuditEntry(at=now, actor="cli", role="admin", action="faq_remove",
                                       allowed=gone is not None, detail=f"taught.{digits}"))
            return gone is not None

    if not _run(db, profile, remove):
        typer.echo(f"no taught answer {_plain(number)} in use", err=True)
        raise typer.Exit(1)
    typer.echo(f"answer taught.{digits} removed")


@cli.command("audit")
def audit(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False,
          actor: Annotated[str | None, typer.Option(help="CHANNEL:SENDER_ID or cli")] = None,
          action: Annotated[str | None, typer.Option(help="e.g. view_file, status_change")] = None,
          case: Annotated[int | None, typer.Option(help="a case number")] = None,
          since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None) -> None:
    """The audit log: who viewed, changed, relayed or was refused what."""
    start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None

    async def entries(app: App) -> list[dict[str, Any]]:
        async with app.db.unit_of_work() as uow:
            rows = await uow.audit_entries(actor=actor, action=action, case_id=case, since=start)
            return [{"at": e.at.isoformat(), "actor": e.actor, "role": e.role,
                     "action": e.action, "allowed": e.allowed, "case": e.case_id,
                     "request": e.request_number, "beneficiary": e.beneficiary_id,
                     "detail": e.detail} for e in rows]

    found = _run(db, profile, entries)
    if as_json:
        return _print_json(found)
    table = Table("at (Riyadh)", "actor", "action", "allowed", "case", "request", "detail")
    for e in found:
        at = datetime.fromisoformat(e["at"])
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(RIYADH)
        table.add_row(*_cells(f"{at:%Y-%m-%d %H:%M}", e["actor"], e["action"],
                              "yes" if e["allowed"] else "NO", e["case"] or "", e["request"],
                              e["detail"]))
    Console().print(table)


@cli.command("desk")
def desk_cmd(who: str, command: Annotated[list[str], typer.Argument(
                 help="The desk command and its arguments, e.g. /find 0501234567")],
             db: Db = None, profile: ProfileOpt = None) -> None:
    """Run one staff desk command as the staff member CHANNEL:SENDER_ID, through the same
    authorization check and audit as their chat; prints what the desk answers."""
    channel, sender = _who(who)
    words = " ".join(command).strip()
    if not words.startswith("/"):
        typer.echo("write a desk command, for example: /queue", err=True)
        raise typer.Exit(2)

    async def run_it(app: App) -> list[Any] | None:
        from handlers.staff import run_command
        return await run_command(app.db, app.profile, app.translations, channel, sender, words,
                                 datetime.now(UTC))

    replies = _run(db, profile, run_it)
    if replies is None:
        typer.echo(f"{_plain(who)} is not staff", err=True)
        raise typer.Exit(1)
    for reply in replies:
        typer.echo(_plain(reply.text))
        for choice in reply.choices:
            typer.echo(f"  [{_plain(choice.id)}] {_plain(choice.label)}")


@db_cli.command("upgrade")
def db_upgrade(db: Db = None, profile: ProfileOpt = None) -> None:
    """Apply the database migrations (PostgreSQL deployments run this on deploy)."""
    from storage.db import Database

    _keys_or_exit(settings(database_url=db))

    async def upgrade() -> None:
        database = Database(settings(database_url=db).database_url)
        try:
            await database.migrate()
        finally:
            await database.close()

    asyncio.run(upgrade())
    typer.echo("database is up to date")


@db_cli.command("revision")
def db_revision(message: str) -> None:
    """(Developers) generate a migration from changes to storage/models.py."""
    import tempfile

    from storage.db import Database, autogenerate

    async def generate() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            database = Database(f"sqlite+aiosqlite:///{tmp}/scratch.db")
            try:
                await autogenerate(database, message)
            finally:
                await database.close()

    asyncio.run(generate())


def _ar_or_en(lang: str) -> None:
    if lang not in ("ar", "en"):
        typer.echo("--lang is ar or en", err=True)
        raise typer.Exit(2)


def _volunteers(db: str | None, profile: str | None, lang: str,
                action: str, detail: str) -> tuple[list[str], list[list[str]]]:
    """The volunteers' table, its viewing audited (it is personal data)."""
    from conversations import volunteer

    _ar_or_en(lang)

    async def body(app: App) -> tuple[list[str], list[list[str]]]:
        now = datetime.now(UTC)
        async with app.db.unit_of_work() as uow:
            found = await uow.volunteers.everyone()
            await uow.audit(AuditEntry(at=now, actor="cli", role="admin", action=action,
                                       allowed=True, detail=f"{len(found)} {detail}".strip()))
        return volunteer.table(found, lang, Context(app.profile, now, "cli", app.translations))

    return _run(db, profile, body)


@volunteers_cli.command("list")
def volunteers_list(db: Db = None, profile: ProfileOpt = None, as_json: AsJson = False,
                    lang: Lang = "ar") -> None:
    """Everyone who signed up to volunteer, the newest first, with what they answered
    (viewing it is audited)."""
    headers, rows = _volunteers(db, profile, lang, "volunteers_list", "")
    if as_json:
        return _print_json([dict(zip(headers, row, strict=True)) for row in rows])
    if not rows:
        typer.echo("no volunteers yet")
        return
    for row in rows:
        typer.echo(" · ".join(f"{h}: {v}" for h, v in zip(headers, row, strict=True)
                              if h != "#" and v != "-") + f" (#{row[0]})")


@volunteers_cli.command("export")
def volunteers_export(out: Annotated[str, typer.Option("--out", help="The file to write: "
                                                       ".xlsx or .csv")],
                      db: Db = None, profile: ProfileOpt = None, lang: Lang = "ar") -> None:
    """The volunteers as a spreadsheet (xlsx, right to left in Arabic) or CSV, for the
    association's volunteering coordinator (the export is audited)."""
    path = Path(out)
    if path.suffix not in (".xlsx", ".csv"):
        typer.echo("--out ends in .xlsx or .csv", err=True)
        raise typer.Exit(2)
    headers, rows = _volunteers(db, profile, lang, "volunteers_export", path.name)
    from bot.report import files

    path.write_bytes(files.table_csv(headers, rows) if path.suffix == ".csv"
                     else files.table_xlsx(headers, rows, lang == "ar"))
    typer.echo(str(path))


@pdpl_cli.command("records")
def pdpl_records(profile: ProfileOpt = None, as_json: AsJson = False, lang: Lang = "ar") -> None:
    """Print the register of processing (purposes, data, retention, recipients, safeguards)
    drawn from the profile, in Arabic or English."""
    from bot import i18n
    from conversations import pdpl

    _ar_or_en(lang)
    try:
        loaded = profiles.load(settings(profile=profile).profile)
        tr = i18n.worded(dict(i18n.load_translations(i18n.LOCALES_DIR)), loaded)[lang]
        found = pdpl.register(loaded, tr, lang)
    except profiles.ProfileError as exc:
        typer.echo(f"profile error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        return _print_json(found)
    typer.echo(pdpl.as_text(found, tr), nl=False)


@cli.command("retention")
def retention_cmd(db: Db = None, profile: ProfileOpt = None,
                  dry_run: Annotated[bool, typer.Option(
                      "--dry-run", help="Only count what would be destroyed.")] = False,
                  as_json: AsJson = False) -> None:
    """Destroy what the profile's retention periods let go (the bot does it once a day);
    with --dry-run, list what would go."""
    from conversations.pdpl import RETENTION
    from storage import retention

    async def body(app: App) -> list[retention.Kind]:
        async with app.db.unit_of_work() as uow:
            return await retention.run(uow, app.profile.retention, datetime.now(UTC), dry_run,
                                       app.profile.volunteering.keep_days)

    kinds = _run(db, profile, body)
    if as_json:
        return _print_json({"dry_run": dry_run, "kinds": [
            {"kind": k.key, "days": k.days, "count": k.count} for k in kinds]})
    table = Table("what", "kept for (days)", "would go" if dry_run else "destroyed")
    for k in kinds:
        table.add_row(RETENTION.get(k.key, k.key), str(k.days), str(k.count))
    Console().print(table)




@keys_cli.command("new")
def keys_new() -> None:
    """Print a fresh data key (base64 of 32 random bytes), for WASL_DATA_KEY."""
    from storage.crypto import new_key

    typer.echo(new_key())


@keys_cli.command("status")
def keys_status(db: Db = None, as_json: AsJson = False) -> None:
    """How many values each key seals, per table ("clear": not sealed yet)."""
    from storage.sealing import census

    async def body(app: App) -> dict[str, dict[str, int]]:
        return {t: dict(c) for t, c in (await census(app.db)).items()}

    found = _run(db, None, body)
    keys = Keyring.for_database(settings(database_url=db).database_url)
    if as_json:
        return _print_json({"current": keys.ids[0], "keys": keys.ids, "tables": found})
    typer.echo(f"newest key: {keys.ids[0]}; known: {', '.join(keys.ids)}")
    table = Table("table", "key", "values")
    for name, counts in found.items():
        for kid, count in sorted(counts.items()):
            table.add_row(name, kid + (" (newest)" if kid == keys.ids[0] else ""), str(count))
    Console().print(table)


@keys_cli.command("rotate")
def keys_rotate(db: Db = None, profile: ProfileOpt = None,
                batch: Annotated[int, typer.Option(help="Rows sealed per transaction.")] = 200,
                keep_key: Annotated[bool, typer.Option(
                    "--keep-key", help="Add no key: only seal again what is not under the "
                    "newest one (after an interrupted rotation, or a new WASL_DATA_KEY).")]
                = False) -> None:
    """Seal every personal value under a new key. With a key file (the embedded default, or
    WASL_DATA_KEY_FILE) a new key is added to it first; with WASL_DATA_KEY, set the new key
    there and the old one in WASL_DATA_KEY_OLD, then run this. Safe to stop and run again;
    a running bot reads the key file again and seals in the background too."""
    import secrets

    from sqlalchemy.engine import make_url

    from storage.crypto import KEY_BYTES, key_file_for, read_key_file, write_key_file
    from storage.sealing import reseal

    config = settings(database_url=db, profile=profile)
    _keys_or_exit(config)
    if not keep_key:
        if os.environ.get("WASL_DATA_KEY"):
            typer.echo("WASL_DATA_KEY is set: put a new key there (`wasl keys new`), the old "
                       "one in WASL_DATA_KEY_OLD, and run `wasl keys rotate --keep-key`.",
                       err=True)
            raise typer.Exit(2)
        path = (Path(os.environ["WASL_DATA_KEY_FILE"]) if os.environ.get("WASL_DATA_KEY_FILE")
                else key_file_for(make_url(config.database_url).database or ""))
        write_key_file(path, [secrets.token_bytes(KEY_BYTES), *read_key_file(path)])
        typer.echo(f"a new key is in {path}; keep the old ones there until every backup "
                   "made before today is gone")

    def progress(table: str, count: int) -> None:
        if count:
            typer.echo(f"{table}: {count} rows sealed again", err=True)

    async def body(app: App) -> Any:
        return await reseal(app.db, app.profile.national_id, batch=batch, progress=progress)

    done = _run(db, profile, body)
    typer.echo(f"sealed again under key {Keyring.for_database(config.database_url).ids[0]}: "
               f"{done.total} rows; every personal value is under it now")


@cli.command("report")
def report(start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (Riyadh).")],
           end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")],
           db: Db = None, profile: ProfileOpt = None,
           fmt: Annotated[str, typer.Option("--format", help="xlsx, csv, png or all")] = "all",
           out: Annotated[str, typer.Option("--out", help="Folder for the files.")] = ".",
           lang: Annotated[str, typer.Option("--lang", help="ar or en")] = "ar",
           by_staff: Annotated[bool, typer.Option("--by-staff", help="Add figures per staff member "
                                                  "(for support, not for punishment).")] = False,
           ) -> None:
    """The periodic report for the board: requests, escalations, satisfaction; prints the files."""
    from datetime import date
    from pathlib import Path

    from bot.i18n import LANGUAGES
    from bot.report import files, gather

    def day(option: str, value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            typer.echo(f"{option}: {value!r} is not a date; write it as YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None

    first, last = day("--from", start), day("--to", end)
    if first > last:
        typer.echo(f"--from {first} is after --to {last}", err=True)
        raise typer.Exit(2)
    if fmt not in (*files.FORMATS, "all"):
        typer.echo(f"--format is one of {', '.join(files.FORMATS)} or all", err=True)
        raise typer.Exit(2)
    if lang not in LANGUAGES:
        typer.echo(f"--lang is one of {', '.join(LANGUAGES)}", err=True)
        raise typer.Exit(2)

    async def make(app: App) -> list[Path]:
        found = await gather(app.db, app.profile, first, last, by_staff=by_staff)
        return files.write(found, {fmt}, Path(out), app.translations[lang])

    for path in _run(db, profile, make):
        typer.echo(str(path))


@cli.command("broadcast")
def broadcast_cmd(
        text_file: Annotated[str, typer.Option("--text-file", help="The announcement, UTF-8 text.")],
        segment: Annotated[list[str] | None, typer.Option(
            "--segment", help="Who receives it; repeat to combine (all must hold): "
            "status=submitted,approved  service=KEY  open-case  volunteers  FIELD=VALUE "
            "(district=العزيزية). "
            "Without it: everyone reachable.")] = None,
        attach: Annotated[str | None, typer.Option(help="A photo (JPEG/PNG) or PDF to send "
                                                   "with it; the text becomes its caption.")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show who it reaches and what "
                                              "they see; write and send nothing.")] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask before sending.")] = False,
        watch: Annotated[bool, typer.Option(help="Stay and show progress until it ends (and "
                                            "send from this process too when Telegram is "
                                            "configured).")] = True,
        db: Db = None, profile: ProfileOpt = None) -> None:
    """Send an announcement to beneficiaries, within the platforms' rate limits."""
    import hashlib
    import mimetypes
    from pathlib import Path

    from bot.channels import sniff
    from conversations import broadcast
    from conversations.base import Context, FileRef
    from handlers import broadcasts

    try:
        text = Path(text_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"--text-file: cannot read {text_file}: {exc}", err=True)
        raise typer.Exit(2) from None
    content = None
    if attach:
        try:
            content = Path(attach).read_bytes()
        except OSError as exc:
            typer.echo(f"--attach: cannot read {attach}: {exc}", err=True)
            raise typer.Exit(2) from None
        mime = sniff(content, mimetypes.guess_type(attach)[0] or "application/octet-stream")
        if mime not in broadcast.FILE_TYPES:
            typer.echo(f"--attach: {attach} is {mime}; send a JPEG, PNG or PDF", err=True)
            raise typer.Exit(2)
    config = settings(database_url=db, profile=profile)
    console = Console()

    async def body(app: App) -> None:
        ctx = Context(app.profile, datetime.now(UTC), "cli", app.translations)
        problem = broadcast.content_problem(text, content is not None, "en", ctx)
        if problem:
            typer.echo(f"--text-file: {problem}", err=True)
            raise typer.Exit(2)
        try:
            wanted = broadcast.parse_segment(segment or [], app.profile)
        except broadcast.SegmentError as exc:
            typer.echo(f"--segment: {_plain(exc)}", err=True)
            raise typer.Exit(2) from None
        async with app.db.unit_of_work() as uow:
            reach, left_out = await broadcasts.audience_count(uow, wanted)
        console.print(f"Recipients: {reach} (left out, stopped or blocked: {left_out})")
        console.print(_plain(broadcast.describe(wanted, "en", ctx)), markup=False,
                      highlight=False)
        console.rule("What an Arabic-speaking beneficiary sees")
        console.print(_plain(broadcast.message(text, "ar", ctx).text), markup=False,
                      highlight=False)
        console.rule()
        if dry_run or not reach:
            if not reach:
                console.print("Nobody matches: nothing was written.")
            return
        if not yes:
            if not sys.stdin.isatty():
                typer.echo("add --yes to send without being asked", err=True)
                raise typer.Exit(2)
            if not typer.confirm(f"Send to {reach} beneficiaries?"):
                raise typer.Exit(1)
        now = datetime.now(UTC)
        async with app.db.unit_of_work() as uow:
            doc_id = None
            if content is not None:
                doc_id = await uow.broadcasts.add_file(FileRef(
                    Path(attach or "file").name, mime, len(content),
                    hashlib.sha256(content).hexdigest(), content), now)
            added = await uow.broadcasts.add("cli", text, doc_id, wanted, "en", now)
            count = await broadcasts.launch(uow, added, ctx, now)
            number = added.id
        console.print(f"Announcement #{number}: {count} copies queued.")
        if watch:
            await _follow(app, config, number, count, console)

    _run(db, profile, body)


async def _follow(app: App, config: Any, number: int, total: int, console: Console) -> None:
    """A progress bar until the broadcast ends; sends from here too when Telegram is set."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    tasks: list[asyncio.Task] = []
    client = None
    if config.telegram_token is not None:
        from bot.channels.telegram.client import make_client
        from bot.channels.telegram.service import TelegramService
        client = make_client(config.telegram_runtime, config.telegram_token.get_secret_value(),
                             config.telegram_api_base)
        await client.start()
        tasks.append(asyncio.create_task(TelegramService(app, client, config).sender.run()))
    else:
        console.print("No Telegram token here: the running bot sends it (wasl run / wasl serve).")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    counts: dict[str, int] = {}
    status = "sending"
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(f"#{number}", total=total, rate="")
            while status in ("sending", "paused"):
                await app.broadcasts.finish()
                async with app.db.unit_of_work() as uow:
                    found = await uow.broadcasts.broadcast(number)
                    counts = await uow.broadcasts.delivery_counts(number)
                status = found.status if found else "done"
                settled = sum(n for s, n in counts.items() if s not in ("pending", "sending"))
                speed = bar.tasks[0].speed
                bar.update(task, completed=settled, rate=f"{speed:.1f}/s" if speed else "",
                           description=f"#{number} {status}: sent {counts.get('sent', 0)}, "
                           f"failed {counts.get('failed', 0)}, "
                           f"blocked {counts.get('unreachable', 0)}")
                await asyncio.sleep(0.5)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if client is not None:
            await client.close()
    table = Table(title=f"Announcement #{number}: {status}")
    for name in ("recipients", "sent", "failed", "blocked", "not sent", "left"):
        table.add_column(name, justify="right")
    table.add_row(str(total), str(counts.get("sent", 0)), str(counts.get("failed", 0)),
                  str(counts.get("unreachable", 0)), str(counts.get("cancelled", 0)),
                  str(counts.get("pending", 0) + counts.get("sending", 0)))
    console.print(table)


def main() -> None:
    cli()
