"""Charset decoding: BOM, declared charset, meta tag, detection, bogus declarations."""

from __future__ import annotations

import codecs

from desktop.core.ingest.encoding import decode_text, meta_charset

FRENCH = "Café crème à Zürich: naïve résumé, où est la forêt? Ça coûte 5 €."
RUSSIAN = "Привет, мир! Это проверка кодировки страницы, которая не объявлена нигде. " * 4


def test_bom_wins_over_everything() -> None:
    data = codecs.BOM_UTF16_LE + FRENCH.encode("utf-16-le")
    assert decode_text(data, declared_charset="iso-8859-1", is_html=True) == FRENCH
    assert decode_text(codecs.BOM_UTF8 + FRENCH.encode()) == FRENCH


def test_declared_charset_from_the_http_header() -> None:
    assert decode_text(FRENCH.encode("cp1252"), declared_charset="windows-1252") == FRENCH
    # ISO-8859-1 is decoded as windows-1252, as browsers do (the euro sign survives).
    assert decode_text(FRENCH.encode("cp1252"), declared_charset="ISO-8859-1") == FRENCH


def test_meta_charset_and_http_equiv() -> None:
    body = RUSSIAN.encode("cp1251")
    html = b'<html><head><meta charset="windows-1251"></head><body>' + body
    assert RUSSIAN in decode_text(html, is_html=True)
    equiv = (
        b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>'
        + RUSSIAN.encode("koi8-r")
    )
    assert meta_charset(equiv) == "koi8-r"
    assert RUSSIAN in decode_text(equiv, is_html=True)


def test_meta_is_ignored_for_non_html() -> None:
    data = b'<meta charset="koi8-r">' + FRENCH.encode()
    assert decode_text(data) == data.decode()


def test_bogus_declared_charset_falls_through() -> None:
    assert decode_text(FRENCH.encode(), declared_charset="no-such-charset") == FRENCH
    html = b'<meta charset="x-made-up">' + RUSSIAN.encode("cp1251")
    assert RUSSIAN in decode_text(html, declared_charset="bogus", is_html=True)


def test_utf8_declared_as_latin1_is_not_mangled() -> None:
    assert decode_text(FRENCH.encode(), declared_charset="iso-8859-1") == FRENCH


def test_missing_charset_is_detected() -> None:
    assert decode_text(RUSSIAN.encode("cp1251")) == RUSSIAN


def test_undecodable_bytes_never_raise() -> None:
    text = decode_text(b"abc \x80\x81\xfe abc" * 3, declared_charset="utf-8")
    assert "abc" in text
    assert decode_text(b"") == ""
