"""The Graph API calls Wasl makes for WhatsApp, over httpx, and what their errors mean.

Error codes (Cloud API error reference):
- 130429 (throughput reached), 80007 (rate limit issues): the number sends too fast;
  every send waits (RetryLater, growing while they repeat).
- 131056 (pair rate limit: too many messages to one person): that message is retried
  later with the outbox's backoff (TemporaryFailure).
- 131047 (more than 24 hours since the person last wrote): OutsideWindow, which the
  service answers with an approved template or by holding the message.
- 131000, 5xx and network trouble: TemporaryFailure. Anything else: Rejected, recorded
  on the message and reported.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.channels.errors import DeliveryError, Rejected, RetryLater, TemporaryFailure

THROUGHPUT = (130429, 80007)
PAIR_LIMIT = 131056
WINDOW_CLOSED = 131047


class OutsideWindow(DeliveryError):
    """WhatsApp refused a free-form message: the 24-hour window is closed."""


class WhatsAppClient:
    def __init__(self, base: str, version: str, phone_number_id: str, token: str,
                 timeout: float = 20.0) -> None:
        self.root = f"{base.rstrip('/')}/{version}"
        self.phone_number_id = phone_number_id
        self.http = httpx.AsyncClient(timeout=timeout,
                                      headers={"Authorization": f"Bearer {token}"})
        self._throttled = 0  # throughput errors in a row: the wait doubles

    async def close(self) -> None:
        await self.http.aclose()

    async def send(self, message: dict[str, Any]) -> str:
        """Send one message; its WhatsApp id (wamid)."""
        data = await self._call("POST", f"{self.root}/{self.phone_number_id}/messages",
                                json=message)
        self._throttled = 0
        return str(data["messages"][0]["id"])

    async def upload(self, content: bytes, mime: str, name: str) -> str:
        """Upload a photo or document for sending; its media id."""
        data = await self._call("POST", f"{self.root}/{self.phone_number_id}/media",
                                data={"messaging_product": "whatsapp", "type": mime},
                                files={"file": (name, content, mime)})
        return str(data["id"])

    async def media(self, media_id: str) -> dict[str, Any]:
        """A received file's URL (valid for minutes), type and size."""
        return await self._call("GET", f"{self.root}/{media_id}")

    async def download(self, url: str, max_bytes: int) -> bytes:
        """The file behind a media URL, with the same token; at most max_bytes + 1."""
        try:
            async with self.http.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise (TemporaryFailure if response.status_code >= 500 else Rejected)(
                        f"media download: HTTP {response.status_code}")
                content = b""
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > max_bytes:
                        break
                return content
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"media download: {type(exc).__name__}") from exc

    async def _call(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code < 400 and isinstance(data, dict) and "error" not in data:
            return data
        raise self._error(response.status_code, data)

    def _error(self, status: int, data: Any) -> DeliveryError:
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        details = (error.get("error_data") or {}).get("details") or error.get("message") or ""
        text = f"WhatsApp error {code} (HTTP {status}): {details}"[:500]
        if code in THROUGHPUT:
            self._throttled += 1
            return RetryLater(min(2.0 * 2 ** (self._throttled - 1), 60.0), text)
        if code == WINDOW_CLOSED:
            return OutsideWindow(text)
        if code == PAIR_LIMIT or code == 131000 or status >= 500 or status == 429:
            return TemporaryFailure(text)
        return Rejected(text)
