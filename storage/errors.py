"""What the storage layer raises to its callers."""


class Unavailable(Exception):
    """The database could not take this event now (SQLite busy, the server unreachable, a
    moment's conflict with another transaction): nothing of the unit of work was kept;
    deliver the event again later."""
