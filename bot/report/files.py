"""The report as files for the board: an Excel workbook, one CSV file and a PNG of charts.

Every label goes through gettext with an English msgid, so an Arabic catalog gives an Arabic
report (right to left in Excel). The XLSX and the CSV are written from the same tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date

from bot.report.figures import Ratings, Report, Requests, Satisfaction
from conversations.base import RIYADH, Translator
from conversations.fields import N_

FORMATS = ("xlsx", "csv", "png")
DASH = "-"

SHEETS = {
    "summary": N_("Summary"),
    "services": N_("Services"),
    "satisfaction": N_("Satisfaction"),
    "comments": N_("Comments"),
    "months": N_("Months"),
    "staff": N_("Staff"),
}

STATUSES = {
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "needs_info": N_("Needs information"),
    "committee": N_("With the committee"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "service_delivered": N_("Service delivered"),
    "closed": N_("Closed"),
}

CASE_HELP = N_("Help from a researcher")
ALL_SERVICES = N_("All services")
OVERALL = N_("Overall")
CSAT = N_("CSAT (4–5)")
MEAN = N_("Mean rating (1–5)")


# --- a neutral table model shared by the XLSX and the CSV ---------------------------------------

@dataclass(frozen=True)
class Pct:
    """A share from 0 to 1, shown as a percentage."""

    value: float | None


@dataclass(frozen=True)
class Num:
    """A decimal shown with a fixed number of digits."""

    value: float | None
    digits: int = 1


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    wide: int | None = None  # a column of long text (comments), wrapped


@dataclass
class Sheet:
    key: str
    name: str
    heading: list[str]
    tables: list[Table]


def language(tr: Translator) -> str:
    """The catalog's language ("ar" or "en"), from its header; English when unknown."""
    info = getattr(tr, "info", None)
    lang = (info().get("language", "") if callable(info) else "") or "en"
    return "ar" if lang.lower().startswith("ar") else "en"


def _day(d: date, lang: str) -> str:
    return format_date(d, "d MMMM y", locale=lang)


def _month(start: date, end: date, lang: str) -> str:
    return format_date(start, "LLLL y", locale=lang)


def _period(report: Report, tr: Translator, lang: str) -> str:
    return tr.gettext("From {start} to {end}").format(start=_day(report.start, lang),
                                                       end=_day(report.end, lang))


def _ratings_cells(r: Ratings) -> list[Any]:
    return [r.count, Num(r.mean, 2), Pct(r.csat)]


def _satisfaction_cells(s: Satisfaction) -> list[Any]:
    return [s.sent, s.answered, Pct(s.response_rate), *_ratings_cells(s.ratings),
            *s.ratings.distribution]


def _request_cells(r: Requests) -> list[Any]:
    return [r.received, *(n for _, n in r.by_status), r.decided, r.on_time, Pct(r.on_time_share),
            Num(r.median_days_to_registration, 1), Num(r.median_days, 1),
            Num(r.median_days_to_delivery, 1)]


def _status(key: str, tr: Translator) -> str:
    return tr.gettext(STATUSES[key]) if key in STATUSES else key


def _notes(report: Report, tr: Translator) -> dict[str, str]:
    n = report.decision_days
    return {
        "on_time": tr.ngettext(
            "On time: decided (approved or rejected) on or before the decision date given to the "
            "beneficiary, {n} day after the request. The share counts the received requests that "
            "are decided, plus the undecided ones whose decision date is before the last day of "
            "the period.",
            "On time: decided (approved or rejected) on or before the decision date given to the "
            "beneficiary, {n} days after the request. The share counts the received requests that "
            "are decided, plus the undecided ones whose decision date is before the last day of "
            "the period.", n).format(n=n),
        "days": tr.gettext("Days to the registration, to a decision and to the delivery: from "
                           "the request's confirmation to its registration (complete and sent "
                           "to the committee), to its first approval or rejection, and to the "
                           "service recorded as provided; the medians, in days."),
        "status": tr.gettext("Requests received in the period, by their status today."),
        "wait": tr.gettext("Escalations: cases referred to a researcher in the period. Wait: minutes "
                           "from the referral to a researcher's first reply; the median over the "
                           "cases that had one."),
        "ratings": tr.gettext("Surveys sent and answered: invitations sent in the period. Ratings, "
                              "mean and CSAT: the ratings given in the period, anonymous ones "
                              "included. CSAT is the share of ratings of 4 or 5."),
        "months": tr.gettext("Each month is cut to the period. Requests decided: first approvals or "
                             "rejections made in the month. Surveys answered: ratings given in the "
                             "month."),
        "comments": tr.gettext("Comments as the beneficiaries wrote them, without their names or "
                               "numbers."),
        "redacted": tr.gettext("Names of staff are replaced by …"),
        "staff": tr.gettext("For support and planning, never to punish anyone. Cases taken: "
                            "escalations of the period each person took last (a transfer hands "
                            "a case on). First reply: minutes from the referral to the first "
                            "message to the beneficiary, counted for the person who wrote it, "
                            "not for one who received the case by transfer later. Ratings: "
                            "ratings of a researcher's help that were not given anonymously."),
    }


def sheets(report: Report, tr: Translator, lang: str | None = None) -> list[Sheet]:
    """The report as titled tables, one list per sheet."""
    lang = lang or language(tr)
    _ = tr.gettext
    notes = _notes(report, tr)
    req, esc, sat, q = report.requests, report.escalations, report.overall, report.questions
    heading = [
        report.association.get(lang),
        _("Beneficiary services and satisfaction: report for the board"),
        _period(report, tr, lang),
        _("Generated on {date}").format(
            date=report.generated_at.astimezone(RIYADH).strftime("%Y-%m-%d %H:%M")),
    ]
    figure, value = _("Figure"), _("Value")
    summary = [
        Table(_("Requests"), [figure, value], [
            [_("Requests received"), req.received],
            [_("Requests decided"), req.decided],
            [_("Decided on time"), req.on_time],
            [_("On-time share"), Pct(req.on_time_share)],
            [_("Median days to the registration"), Num(req.median_days_to_registration, 1)],
            [_("Median days to a decision"), Num(req.median_days, 1)],
            [_("Median days to the delivery"), Num(req.median_days_to_delivery, 1)],
        ], [notes["on_time"], notes["days"]]),
        Table(_("Requests by status"), [_("Status"), _("Requests")],
              [[_status(s, tr), n] for s, n in req.by_status], [notes["status"]]),
        Table(_("Escalations and feedback"), [figure, value], [
            [_("Escalations to a researcher"), esc.cases],
            [_("Median wait for a first reply (minutes)"), Num(esc.median_wait_minutes, 1)],
            [_("Escalations with a reply"), esc.replied],
            [_("Escalations closed"), esc.closed],
            [_("Follow-ups of low ratings"), esc.follow_ups],
            [_("Suggestions"), esc.suggestions],
            [_("Complaints"), esc.complaints],
        ], [notes["wait"]]),
        Table(_("Questions answered by the bot"), [figure, value], [
            [_("Questions answered by the bot"), q.answered],
            [_("Confirmed helpful by the beneficiary"), q.helpful],
            [_("Helpful share of the answered"), Pct(q.helpful_share)],
            [_("Passed to a researcher (after an answer or none)"), q.escalated],
            [_("Questions with no answer found"), q.unanswered],
        ], [_("The bot answers from the association's FAQ and profile, on this machine; the "
              "words of the questions are not kept for these figures.")]),
        Table(_("Satisfaction"), [figure, value], [
            [_("Surveys sent"), sat.sent],
            [_("Surveys answered"), sat.answered],
            [_("Response rate"), Pct(sat.response_rate)],
            [_("Ratings"), sat.ratings.count],
            [_(MEAN), Num(sat.ratings.mean, 2)],
            [_(CSAT), Pct(sat.ratings.csat)],
        ], [notes["ratings"]]),
    ]

    statuses = [_status(s, tr) for s, _n in req.by_status]
    services = Table(
        _("Requests and satisfaction by service"),
        [_("Service"), _("Requests received"), *statuses, _("Requests decided"), _("Decided on time"),
         _("On-time share"), _("Median days to the registration"), _("Median days to a decision"),
         _("Median days to the delivery"), _("Surveys sent"), _("Surveys answered"),
         _("Response rate"), _("Ratings"), _(MEAN), _(CSAT)],
        [[s.label.get(lang), *_request_cells(s.requests), *_satisfaction_cells(s.satisfaction)[:6]]
         for s in report.services]
        + [[_(OVERALL), *_request_cells(req), *_satisfaction_cells(report.all_services)[:6]]],
        [notes["on_time"], notes["days"], notes["ratings"]])

    rated = [_("Rated {n}").format(n=i) for i in range(1, 6)]
    satisfaction = Table(
        _("Satisfaction by service and with the researchers' help"),
        [_("Service"), _("Surveys sent"), _("Surveys answered"), _("Response rate"), _("Ratings"),
         _(MEAN), _(CSAT), *rated],
        [[s.label.get(lang), *_satisfaction_cells(s.satisfaction)] for s in report.services]
        + [[_(ALL_SERVICES), *_satisfaction_cells(report.all_services)],
           [_(CASE_HELP), *_satisfaction_cells(report.case_help)],
           [_(OVERALL), *_satisfaction_cells(report.overall)]],
        [notes["ratings"]])

    comment_notes = [notes["comments"]] + ([] if report.staff is not None else [notes["redacted"]])
    comments = Table(
        _("Comments"), [_("Date"), _("Service"), _("Rating"), _("Comment")],
        [[c.on, _(CASE_HELP) if c.kind == "case" else report.service_label(c.service).get(lang),
          c.rating, c.text] for c in report.comments],
        comment_notes, wide=3)

    months = Table(
        _("Month by month"),
        [_("Month"), _("From"), _("To"), _("Requests received"), _("Requests decided"),
         _("Surveys answered"), _(MEAN), _(CSAT)],
        [[_month(m.start, m.end, lang), m.start, m.end, m.received, m.decided, m.answered,
          Num(m.ratings.mean, 2), Pct(m.ratings.csat)] for m in report.months],
        [notes["months"]])

    names = {key: tr.gettext(msgid) for key, msgid in SHEETS.items()}
    found = [
        Sheet("summary", names["summary"], heading, summary),
        Sheet("services", names["services"], [], [services]),
        Sheet("satisfaction", names["satisfaction"], [], [satisfaction]),
        Sheet("comments", names["comments"], [], [comments]),
        Sheet("months", names["months"], [], [months]),
    ]
    if report.staff is not None:
        found.append(Sheet("staff", names["staff"], [], [Table(
            _("Staff"),
            [_("Name"), _("Cases taken"), _("Median first reply (minutes)"), _("Ratings"),
             _(MEAN)],
            [[s.name, s.cases_claimed, Num(s.median_first_reply_minutes, 1), s.ratings,
              Num(s.mean_rating, 2)] for s in report.staff],
            [notes["staff"]])]))
    return found


# --- CSV --------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if isinstance(value, Pct):
        return DASH if value.value is None else f"{value.value * 100:.1f}%"
    if isinstance(value, Num):
        return DASH if value.value is None else f"{value.value:.{value.digits}f}"
    if value is None:
        return DASH
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render_csv(report: Report, tr: Translator) -> bytes:
    """One CSV file: each table is a title line, a header line and its rows, then a blank line.
    UTF-8 with a byte order mark, so that Excel reads the Arabic."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    for sheet in sheets(report, tr):
        for line in sheet.heading:
            out.writerow([line])
        if sheet.heading:
            out.writerow([])
        for table in sheet.tables:
            out.writerow([f"{sheet.name}: {table.title}" if table.title != sheet.name else table.title])
            out.writerow(table.headers)
            out.writerows([_text(v) for v in row] for row in table.rows)
            for note in table.notes:
                out.writerow([note])
            out.writerow([])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- XLSX -------------------------------------------------------------------------------------

_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_title(name: str) -> str:
    return name.translate(_BAD_SHEET_CHARS).strip()[:31] or "Sheet"


def render_xlsx(report: Report, tr: Translator) -> bytes:
    """The workbook: Summary, Services, Satisfaction, Comments, Months (and Staff when the report
    has staff figures), right to left in Arabic."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lang = language(tr)
    bold, italic, big = Font(bold=True), Font(italic=True, color="555555"), Font(bold=True, size=14)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets(report, tr, lang):
        ws = book.create_sheet(_sheet_title(sheet.name))
        ws.sheet_view.rightToLeft = lang == "ar"
        widths: dict[int, int] = {}
        wrapped: set[int] = set()
        row = 1
        for i, line in enumerate(sheet.heading):
            ws.cell(row, 1, line).font = big if i == 0 else bold
            row += 1
        if sheet.heading:
            row += 1
        for table in sheet.tables:
            ws.cell(row, 1, table.title).font = big
            row += 1
            for col, header in enumerate(table.headers, 1):
                cell = ws.cell(row, col, header)
                cell.font, cell.fill = bold, fill
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                widths[col] = max(widths.get(col, 0), min(len(header), 28))
            row += 1
            for values in table.rows:
                for col, value in enumerate(values, 1):
                    cell = ws.cell(row, col)
                    _put(cell, value)
                    if table.wide is not None and col == table.wide + 1:
                        cell.alignment = wrap
                        wrapped.add(col)
                    widths[col] = max(widths.get(col, 0), len(_text(value)))
                row += 1
            for note in table.notes:
                ws.cell(row, 1, note).font = italic
                row += 1
            row += 1
        for col, width in widths.items():
            limit = 70 if col in wrapped else 40
            ws.column_dimensions[get_column_letter(col)].width = max(10, min(width + 2, limit))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _put(cell: Any, value: Any) -> None:
    if isinstance(value, Pct):
        if value.value is None:
            cell.value = DASH
        else:
            cell.value, cell.number_format = value.value, "0.0%"
    elif isinstance(value, Num):
        if value.value is None:
            cell.value = DASH
        else:
            cell.value, cell.number_format = value.value, "0." + "0" * value.digits
    elif isinstance(value, date) and not isinstance(value, datetime):
        cell.value, cell.number_format = value, "yyyy-mm-dd"
    elif value is None:
        cell.value = DASH
    else:
        cell.value = value


# --- PNG --------------------------------------------------------------------------------------

def _shapes_text() -> bool:
    """Matplotlib 3.11 and later lay text out with libraqm (Arabic letters joined, right to
    left); earlier versions draw code points one by one, left to right."""
    from matplotlib.ft2font import FT2Font
    return hasattr(FT2Font, "_layout")


def visual(text: str, shaped_by_matplotlib: bool | None = None) -> str:
    """A string as matplotlib must be given it: unchanged when matplotlib shapes text itself,
    otherwise Arabic is joined (arabic_reshaper) and put in display order (python-bidi)."""
    if shaped_by_matplotlib is None:
        shaped_by_matplotlib = _shapes_text()
    if shaped_by_matplotlib or not any("\u0600" <= c <= "\u06ff" for c in text):
        return text
    import arabic_reshaper
    from bidi.algorithm import get_display
    return "\n".join(str(get_display(arabic_reshaper.reshape(line))) for line in text.split("\n"))


def render_png(report: Report, tr: Translator) -> bytes:
    """Two charts: the distribution of ratings (services and researchers' help) and, month by
    month, the requests received with the mean rating."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lang = language(tr)
    _ = tr.gettext
    shaped = _shapes_text()

    def v(text: str) -> str:
        return visual(text, shaped)

    # DejaVu Sans ships with matplotlib and has the Arabic letters and presentation forms.
    with rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"],
                     "axes.unicode_minus": False}):
        fig = Figure(figsize=(11, 8.5), dpi=110, layout="constrained")
        FigureCanvasAgg(fig)
        fig.suptitle(v(f"{report.association.get(lang)}\n{_period(report, tr, lang)}"), fontsize=14)
        bars, line = fig.subplots(2, 1)

        ticks = list(range(1, 6))
        width = 0.38
        service, case = report.all_services.ratings, report.case_help.ratings
        b1 = bars.bar([t - width / 2 for t in ticks], service.distribution, width, color="#2E75B6",
                      label=v(_(ALL_SERVICES)))
        b2 = bars.bar([t + width / 2 for t in ticks], case.distribution, width, color="#70AD47",
                      label=v(_(CASE_HELP)))
        for group, counts in ((b1, service.distribution), (b2, case.distribution)):
            bars.bar_label(group, labels=[str(n) if n else "" for n in counts], padding=2, fontsize=9)
        bars.set_xticks(ticks, [str(t) for t in ticks])
        bars.set_xlabel(v(_("Rating")))
        bars.set_ylabel(v(_("Ratings")))
        bars.set_title(v(_("Rating distribution")))
        bars.legend(loc="upper center", ncols=2, frameon=False)
        top = max([*service.distribution, *case.distribution, 0])
        bars.set_ylim(0, max(1, top) * 1.35)
        bars.yaxis.get_major_locator().set_params(integer=True)
        if report.overall.ratings.count == 0:
            bars.text(3, max(1, top) * 0.6, v(_("No ratings in this period")), ha="center",
                      fontsize=12, color="#777777")

        labels = [v(_month(m.start, m.end, lang)) for m in report.months]
        xs = list(range(len(report.months)))
        received = [m.received for m in report.months]
        means = [m.ratings.mean if m.ratings.mean is not None else float("nan") for m in report.months]
        l1 = line.plot(xs, received, marker="o", color="#2E75B6", label=v(_("Requests received")))
        line.set_ylabel(v(_("Requests received")))
        line.set_ylim(0, max([*received, 1]) * 1.35)
        line.yaxis.get_major_locator().set_params(integer=True)
        line.set_xticks(xs, labels)
        rating = line.twinx()
        l2 = rating.plot(xs, means, marker="s", color="#C55A11", label=v(_(MEAN)))
        rating.set_ylim(0, 5.5)
        rating.set_ylabel(v(_(MEAN)))
        line.set_title(v(_("Requests and mean rating by month")))
        line.legend(handles=[*l1, *l2], loc="upper center", ncols=2, frameon=False)
        line.grid(axis="y", alpha=0.3)
        line.set_xlim(-0.5, len(xs) - 0.5)

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


# --- files ------------------------------------------------------------------------------------

RENDERERS = {"xlsx": render_xlsx, "csv": render_csv, "png": render_png}


def file_name(report: Report, fmt: str) -> str:
    return f"wasl-report-{report.start.isoformat()}-{report.end.isoformat()}.{fmt}"


def write(report: Report, formats: Iterable[str], out: Path, tr: Translator) -> list[Path]:
    """Write the report in each format asked for ("all" means every one) into `out`."""
    asked = set(formats)
    wanted: Sequence[str] = FORMATS if "all" in asked else [f for f in FORMATS if f in asked]
    unknown = asked - {*FORMATS, "all"}
    if unknown:
        raise ValueError(f"unknown report format: {', '.join(sorted(unknown))}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in wanted:
        path = out / file_name(report, fmt)
        path.write_bytes(RENDERERS[fmt](report, tr))
        written.append(path)
    return written


def table_csv(headers: list[str], rows: list[list[str]]) -> bytes:
    """A plain table as CSV, UTF-8 with its mark so that a spreadsheet reads Arabic right."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(headers)
    out.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(headers: list[str], rows: list[list[str]], right_to_left: bool) -> bytes:
    """A plain table as a workbook of one sheet, its heading bold, right to left in Arabic."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.sheet_view.rightToLeft = right_to_left
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for i, header in enumerate(headers, 1):
        width = max([len(header), *(len(r[i - 1]) for r in rows)])
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width + 2, 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
