"""Drive `wasl simulate` as a real process, turn by turn, and answer any profile's fields."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import profiles
from conversations.base import RIYADH
from conversations.fields import luhn_ok, to_hijri
from conversations.profile import FieldKind, FieldSpec, Profile

ROOT = Path(__file__).resolve().parents[2]
NAME = "محمد عبدالله أحمد الغامدي"


def wasl(*args: str, db: str, profile: str | None = None, env: dict[str, str] | None = None,
         **kw: Any) -> subprocess.CompletedProcess:
    """Run a `wasl` command in a child process (with extra environment variables) and
    return what it printed."""
    cmd = [sys.executable, "-m", "bot", *args, "--db", db]
    if profile:
        cmd += ["--profile", profile]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONUTF8": "1", **(env or {})}, check=True, **kw)


def staff_add(db: str, *members: tuple[str, str, str]) -> None:
    """Set a test up with staff members (who, role, name): `wasl staff add` for each, run in
    this process rather than a child's (the same command, without a Python start-up each)."""
    from typer.testing import CliRunner

    from bot.cli import cli

    for who, role, name in members:
        done = CliRunner().invoke(cli, ["staff", "add", who, "--role", role, "--name", name,
                                        "--db", db])
        assert done.exit_code == 0 and f"{who} is now a {role}" in done.output, done.output


class Simulator:
    """One `wasl simulate` process; `send` writes an event and returns the replies of that line."""

    def __init__(self, db: str, profile: str = "bakkah", env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "simulate", "--db", db, "--profile", profile],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", bufsize=1,
            env={**os.environ, "PYTHONUTF8": "1", **(env or {})},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.line_no = 0
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def raw(self, line: str, timeout: float = 30) -> list[dict]:
        assert self.proc.stdin
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        self.line_no += 1
        out = []
        while True:
            got = self.lines.get(timeout=timeout)
            if got is None:
                raise RuntimeError(f"simulator exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            obj = json.loads(got)
            if obj.get("ack") == self.line_no:
                return out
            out.append(obj)

    def send(self, sender: str, **event: Any) -> list[dict]:
        return self.raw(json.dumps({"from": sender, **event}, ensure_ascii=False))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        assert self.proc.returncode == 0, self.proc.stderr.read() if self.proc.stderr else ""


def riyadh_today() -> date:
    return datetime.now(RIYADH).date()


def resident_id() -> str:
    return next(f"20000000{a}{b}" for a in "0123456789" for b in "0123456789"
                if luhn_ok(f"20000000{a}{b}"))


def answer(spec: FieldSpec, files: Path) -> dict[str, Any]:
    """A valid answer to any field, typed the way a beneficiary might (Arabic digits, Hijri)."""
    rules, today = spec.rules, riyadh_today()
    match spec.kind:
        case FieldKind.TEXT:
            text = NAME if "name" in spec.key else "إجابة للاختبار"
            if rules.min_length and rules.min_length == rules.max_length:
                text = "1" * rules.min_length
            text = text.ljust(rules.min_length or 0, "ا")[: rules.max_length or 300]
            return {"text": text}
        case FieldKind.INTEGER | FieldKind.MONEY:
            low = int(rules.min) if rules.min is not None else 2
            return {"text": str(max(low, 2 if rules.max is None else min(low + 1, int(rules.max))))}
        case FieldKind.NATIONAL_ID:
            return {"text": resident_id() if rules.id_type == "resident" else "١٢٣٤٥٦٧٨٩٧"}
        case FieldKind.PHONE:
            return {"text": "٠٥٠ ١٢٣ ٤٥٦٧"}
        case FieldKind.IBAN:
            return {"text": "SA03 8000 0000 6080 1016 7519"}
        case FieldKind.DATE:
            if rules.not_expired:
                day = today + timedelta(days=400)
            elif rules.min_age is not None or rules.max_age is not None:
                age = (rules.min_age + 1) if rules.min_age is not None else rules.max_age - 1
                day = today.replace(year=today.year - age) - timedelta(days=10)
            elif rules.not_future:
                day = today - timedelta(days=100)
            else:
                day = today + timedelta(days=30)
            h = to_hijri(day)
            return {"text": f"{h.day}/{h.month}/{h.year} هـ"}
        case FieldKind.CHOICE:
            return {"choice": spec.options[0].key}
        case FieldKind.FILE:
            pdf_only = rules.mime and "image/png" not in rules.mime
            path = files / ("doc.pdf" if pdf_only else "photo.png")
            path.write_bytes(b"%PDF-1.4 test\n" if pdf_only else b"\x89PNG\r\n\x1a\n" + b"0" * 64)
            mime = "application/pdf" if pdf_only else "image/png"
            return {"file": {"path": str(path), "name": path.name, "mime": mime}}
    raise AssertionError(spec.kind)


def complete_intake(sim: Simulator, sender: str, profile: Profile, service_key: str,
                    files: Path) -> list[dict]:
    """From the menu to the request number, answering whatever the bot asks."""
    service = profile.service(service_key)
    assert service
    replies = sim.send(sender, choice="new_request")
    replies = sim.send(sender, choice=service_key)
    given: dict[str, Any] = {}
    while replies[-1]["expects"] and replies[-1]["expects"]["kind"] not in ("confirm",):
        key = replies[-1]["expects"]["field"]
        said = {"choice": "accept"} if key == "sensitive_consent" else answer(service.field(key), files)
        given[key] = said
        replies = sim.send(sender, **said)
        assert replies[-1]["expects"]["field"] != key, replies[-1]["text"]
        given[key] = said
    assert replies[-1]["expects"] == {"field": "acknowledgment", "kind": "confirm"}
    replies = sim.send(sender, choice="confirm")
    if replies[-1]["expects"] == {"field": "signature", "kind": "confirm"}:
        replies = sim.send(sender, text=given[profile.signature.name_field]["text"])
    return replies


def apply(sim: Simulator, who: str, files: Path) -> str:
    """A newcomer agrees and applies for Bakkah's financial aid: the request's number."""
    sim.send(who, text="السلام عليكم")
    sim.send(who, choice="accept")
    done = complete_intake(sim, who, profiles.load("bakkah"), "financial_aid", files)
    return next(w.strip("،.;؛") for r in done for w in r["text"].split() if w.startswith("BK-"))


def register(sim: Simulator, number: str, researcher: str) -> list[dict]:
    """A researcher takes a submitted request for review (or goes on with it), presses ✅ on
    each item the review card offers, one after the other, then «Complete the registration»;
    the replies of that last press (the beneficiary's notice, the committee's)."""
    replies = sim.send(researcher, text=f"/review {number}")
    while True:
        cards = [r for r in replies if r.get("to") == researcher and r["choices"]]
        assert cards, replies
        ids = [c["id"] for c in cards[-1]["choices"]]
        match = next((i for i in ids if i.startswith(f"match:{number} ")), None)
        if match is None:
            break
        replies = sim.send(researcher, choice=match)
    assert f"register:{number}" in ids, cards[-1]["text"]  # everything matched
    return sim.send(researcher, choice=f"register:{number}")


def approve(sim: Simulator, number: str, researcher: str, committee: str,
            meeting: str = "12") -> list[dict]:
    """The policy's path to an approval: reviewed and registered by `researcher` (see
    `register`), then approved by `committee` (a committee member) at a meeting held today;
    the replies of the decision (the beneficiary's notice, the researcher's)."""
    register(sim, number, researcher)
    return sim.send(committee, text=f"/decide {number} approve {meeting}")


def surveys(db: str) -> dict:
    """Surveys, answers and tickets, as `wasl surveys --json` prints them."""
    return json.loads(wasl("surveys", "--json", db=db).stdout)


def shift(db: str, **changes: datetime) -> None:
    """Move the stored survey due times, as the passing of a day would."""
    from sqlalchemy import update

    from storage import models as m
    from storage.db import Database

    async def go() -> None:
        database = Database(db)
        async with database.unit_of_work() as uow:
            await uow.session.execute(update(m.Survey).values(**changes))
        await database.close()
    asyncio.run(go())
