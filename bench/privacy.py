"""Benchmark: the data subject's rights and the sealing at rest, on a database of the size a
busy beneficiary leaves behind.

    .venv/bin/python bench/privacy.py [--requests 20] [--messages 2000] [--rows 5000]

Prints, for SQLite: the time to make a copy of one beneficiary's data (/mydata: gathered
from every table, a PDF and JSON) and its size, the time to destroy it (/delete), and the
sealing pass of `wasl keys rotate` (rows per second) over `--rows` documents and messages.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot import i18n, profiles  # noqa: E402
from conversations.base import Context  # noqa: E402
from conversations.state import State  # noqa: E402
from handlers import mydata  # noqa: E402
from storage import models as m  # noqa: E402
from storage.crypto import Keyring, new_key  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.sealing import reseal  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PHOTO = b"\x89PNG\r\n\x1a\n" + b"0" * 200_000  # a 200 kB photo
ANSWERS = {"full_name": "محمد عبدالله أحمد الغامدي", "national_id": "1234567897",
           "mobile": "+966501234567", "district": "العزيزية", "family_size": 5,
           "monthly_income": "3000", "income_source": "salary", "iban": "SA0380000000608010167519",
           "id_photo": {"name": "id.png", "mime": "image/png", "sha256": "0" * 64}}


async def seed(db: Database, requests: int, messages: int) -> int:
    async with db.unit_of_work() as uow:
        person = await uow.add_beneficiary("telegram", "555", "555", "ar", NOW)
        await uow.add_consent(person, "beneficiary_services", "wasl-privacy-2/ar", "ar",
                              "telegram", NOW)
        for n in range(requests):
            row = m.Request(number=f"BK-2026-{n + 1:06d}", beneficiary_id=person,
                            service="financial_aid", fields=ANSWERS, status="service_delivered",
                            language="ar", channel="telegram", created_at=NOW, confirmed_at=NOW,
                            decision_due=date(2026, 12, 7), updated_at=NOW)
            uow.session.add(row)
            await uow.session.flush()
            uow.session.add(m.Acknowledgment(request_id=row.id, text_version="wasl-ack-1/ar",
                                             text="أقر بصحة البيانات", sha256="f" * 64,
                                             signature=ANSWERS["full_name"], channel="telegram",
                                             at=NOW))
            uow.session.add(m.Document(beneficiary_id=person, request_id=row.id,
                                       field_key="id_photo", name="id.png", mime="image/png",
                                       size=len(PHOTO), sha256=hashlib.sha256(PHOTO).hexdigest(),
                                       content=PHOTO, created_at=NOW))
            uow.session.add(m.RequestEvent(request_id=row.id, status="submitted",
                                           actor="beneficiary", at=NOW))
        for n in range(messages):
            await uow.log_message(person, "in" if n % 2 else "out",
                                  f"رسالة رقم {n} عن الطلب والسكن في حي العزيزية", NOW)
    return person


async def bulk(db: Database, rows: int) -> None:
    async with db.unit_of_work() as uow:
        person = await uow.add_beneficiary("web", "bulk", "bulk", "ar", NOW)
        for n in range(rows):
            uow.session.add(m.Message(beneficiary_id=person, direction="in",
                                      text=f"نص {n} رقم الهوية 1234567897", at=NOW))


async def main(args: argparse.Namespace) -> None:
    profile = profiles.load("bakkah")
    translations = dict(i18n.load_translations(i18n.LOCALES_DIR))
    table = Table("what", "size", "time", "rate")
    with tempfile.TemporaryDirectory() as tmp:
        first, second = new_key(), new_key()
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db",
                      Keyring.for_database("sqlite://", {"WASL_DATA_KEY": first}))
        await db.migrate()
        person = await seed(db, args.requests, args.messages)
        ctx = Context(profile, NOW, "telegram", translations)
        start = time.perf_counter()
        async with db.unit_of_work() as uow:
            pdf_id, json_id = await mydata.make_copy(uow, person, State(lang="ar"), ctx, NOW)
            pdf = await uow.document(pdf_id)
            machine = await uow.document(json_id)
        took = time.perf_counter() - start
        assert pdf and machine
        table.add_row(f"/mydata: {args.requests} requests, {args.messages} messages",
                      f"PDF {pdf.size / 1024:.0f} kB, JSON {machine.size / 1024:.0f} kB",
                      f"{took:.2f} s", "")
        start = time.perf_counter()
        async with db.unit_of_work() as uow:
            done = await uow.subject.destroy(person, NOW, lambda a: "telegram:#x")
        took = time.perf_counter() - start
        table.add_row("/delete: the same beneficiary", f"{sum(done.removed.values())} rows",
                      f"{took:.2f} s", "")
        await bulk(db, args.rows)
        await db.close()
        rotated = Database(f"sqlite+aiosqlite:///{tmp}/bench.db", Keyring.for_database(
            "sqlite://", {"WASL_DATA_KEY": second, "WASL_DATA_KEY_OLD": first}))
        start = time.perf_counter()
        sealed = await reseal(rotated, profile.national_id)
        took = time.perf_counter() - start
        table.add_row("wasl keys rotate: every sealed value", f"{sealed.total} rows",
                      f"{took:.2f} s", f"{sealed.total / took:,.0f} rows/s")
        await rotated.close()
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=5000)
    asyncio.run(main(parser.parse_args()))
