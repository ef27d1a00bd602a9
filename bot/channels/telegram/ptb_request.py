"""python-telegram-bot's HTTP requests over aiohttp instead of httpx.

PTB sends through a `BaseRequest`, its documented place for another HTTP library.
Its default, httpx, spends about 1.2 ms of CPU on a `sendMessage` on this project's
machine; aiohttp (already here for aiogram) about 0.4 ms, the PTB objects included.
At 1000 messages a second a sender is CPU-bound, so that is most of the
difference between reaching Telegram's paid broadcast rate and not
(`bench/broadcast.py`). The errors are PTB's own: `TimedOut` and `NetworkError`.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a pool of `connection_pool_size` connections."""

    def __init__(self, connection_pool_size: int = 16, read_timeout: float = 5.0,
                 connect_timeout: float = 5.0) -> None:
        self._pool_size = connection_pool_size
        self._read, self._connect = read_timeout, connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`: the status and the body; what PTB makes of them
        (a 429's retry_after, a 403) is PTB's."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            if request_data.contains_files:  # an upload: multipart, as PTB lays it out
                form = aiohttp.FormData()
                for key, value in request_data.json_parameters.items():
                    form.add_field(key, value)
                for key, part in request_data.multipart_data.items():
                    name, content, *mime = part
                    form.add_field(key, content, filename=name,
                                   content_type=mime[0] if mime else None)
                data = form
            else:
                data = request_data.json_parameters
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect,  # type: ignore[arg-type]
                                        sock_read=read)  # type: ignore[arg-type]
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as res:
                return res.status, await res.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:  # the connection refused, reset or cut short
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
