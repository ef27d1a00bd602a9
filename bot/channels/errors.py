"""What can go wrong when a channel sends, in the outbox's terms (each channel
adapter maps its platform's errors onto these).

DeliveryError
 ├── RetryLater        the platform asks us to slow down (HTTP 429, retry_after)
 ├── Unreachable       the person blocked the bot or no longer exists (403): stop
 ├── TemporaryFailure  network trouble or a server error: retry with backoff
 ├── Rejected          the platform refused this message for good (400)
 └── Held              it may not be sent now (WhatsApp's window is closed and no
                       template fits): kept until the person writes again
"""

from __future__ import annotations


class DeliveryError(Exception):
    pass


class RetryLater(DeliveryError):
    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds} s")
        self.seconds = seconds


class Unreachable(DeliveryError):
    pass


class TemporaryFailure(DeliveryError):
    pass


class Rejected(DeliveryError):
    pass


class Held(DeliveryError):
    pass
