"""The periodic report an association shows its board: requests, escalations, satisfaction.

`figures.gather()` computes a `Report` for a period; `files.write()` turns it into XLSX, CSV and
PNG files in the reader's language. `wasl report` on the command line does both.
"""

from bot.report.figures import Report, gather

__all__ = ["Report", "gather"]
