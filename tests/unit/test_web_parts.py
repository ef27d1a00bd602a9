"""The web chat's small parts: abuse limits, the visitor's language, what may go into
the page's HTML, file names, and the embedders' origins."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from bot.channels.web import Limiter, chat_id_of, new_token
from bot.channels.web.routes import _file_name, _hint, _json_for_html
from bot.config import Settings


def test_the_limit_is_a_sliding_minute_per_key():
    now = [1000.0]
    limit = Limiter(3, clock=lambda: now[0])
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b")  # another browser is not held back
    now[0] += 59.9
    assert not limit.allow("a")
    now[0] += 0.2  # the first three are now more than a minute old
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]


def test_a_token_is_random_and_only_its_hash_is_the_chat_id():
    a, b = new_token(), new_token()
    assert a != b and len(a) == 43
    assert chat_id_of(a) == chat_id_of(a) and len(chat_id_of(a)) == 40 and a not in chat_id_of(a)


def request(accept_language: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/chat/", "query_string": b"",
                    "headers": [(b"accept-language", accept_language.encode())]})


@pytest.mark.parametrize(("header", "lang"), [
    ("", "ar"), ("ar-SA,ar;q=0.9", "ar"), ("en-US,en;q=0.9", "en"),
    ("en-GB;q=0.5,ar;q=0.8", "ar"), ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
    ("de-DE", "ar"), ("en;q=abc,ar;q=0.1", "ar"), ("x" * 5000, "ar"),
])
def test_the_visitors_language_is_arabic_unless_english_comes_first(header, lang):
    assert _hint(request(header)) == lang


def test_nothing_in_the_pages_settings_can_close_its_script_element():
    text = _json_for_html({"name": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\\u003c/script\\u003e" in text


@pytest.mark.parametrize(("given", "kept"), [
    ("هوية.jpg", "هوية.jpg"), ("../../etc/passwd", "passwd"), ("C:\\Users\\a\\b.pdf", "b.pdf"),
    ("", "file"), (None, "file"), ("a\x00b\nc.png", "abc.png"), ("x" * 300, "x" * 200),
])
def test_a_file_keeps_only_a_printable_base_name(given, kept):
    assert _file_name(given) == kept


def test_embedding_sites_are_origins_and_nothing_else(monkeypatch):
    monkeypatch.setenv("WASL_WEB_ALLOWED_ORIGINS", "https://a.org.sa, https://b.org:8443/")
    assert Settings().web_allowed_origins == ["https://a.org.sa", "https://b.org:8443"]
    for bad in ("https://a.org.sa; script-src *", "javascript:alert(1)", "*", "https://a.org/x"):
        monkeypatch.setenv("WASL_WEB_ALLOWED_ORIGINS", bad)
        with pytest.raises(ValidationError):
            Settings()
