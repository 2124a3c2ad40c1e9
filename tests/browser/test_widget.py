"""The real widget in headless Chromium, on a hostile host page served by the preview server.

The workspace is a loopback shop site crawled and synced for real; answers come from the
Ollama stand-in through the real providers, the same `answers.ask` as the test bench.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.publish.widget_config import default_config
from tests.browser.conftest import ThreadedPreview
from tests.helpers.backends import test_backends
from tests.helpers.fake_ollama import FakeOllama
from tests.helpers.model_script import Scripted
from tests.helpers.shop import Shop, model_answer, synced_shop
from tests.helpers.webdriver import KEYS, Browser

REFUSAL = "Sorry, I can't answer that from our pages. Ask us directly!"
QUESTION = "When do you deliver?"
LAUNCHER = "return document.querySelector('botdesk-widget')"
SHADOW = "const r = document.querySelector('botdesk-widget').shadowRoot;"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with synced_shop(tmp_path_factory.mktemp("widget")) as served:
        yield served


@pytest.fixture(scope="module")
def module_ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        fake.chat_answer = model_answer
        yield fake


@pytest.fixture
def ollama(module_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    from desktop.providers.ollama import forget_model_limits

    forget_model_limits()
    module_ollama.script_state.chunk_delay_s = 0.0
    module_ollama.script_state.queues.clear()  # no scripted failure left by another test
    return module_ollama


@pytest.fixture
def widget_settings() -> dict[str, Any]:
    config = copy.deepcopy(default_config())
    config["bot_name"] = "Lumen Bakery"
    config["greeting"] = "Hello! Ask me about deliveries, prices and opening hours."
    config["suggested_questions"] = [QUESTION, "How much is rye flour?"]
    config["theme"]["primary_color"] = "#0b6e4f"
    config["answering"]["refusal_message"] = REFUSAL
    config["lead_capture"] = {
        "enabled": True,
        "fields": ["name", "email"],
        "when": "on_refusal",
        "consent_text": "Lumen Bakery may e-mail me about my question.",
    }
    return config


@pytest.fixture
def preview(
    widget_settings: dict[str, Any], shop: Shop, ollama: FakeOllama
) -> Iterator[ThreadedPreview]:
    with ThreadedPreview(
        shop.path, widget_settings, backends=test_backends(ollama=ollama), page_url=shop.url + "/"
    ) as served:
        yield served


def open_page(browser: Browser, url: str) -> None:
    browser.before_load(
        "window.__shifts = [];"
        "new PerformanceObserver(l => { for (const e of l.getEntries())"
        " window.__shifts.push(e.value); }).observe({type: 'layout-shift', buffered: true});"
    )
    browser.get(url)
    browser.wait_for(LAUNCHER + " && document.querySelector('botdesk-widget').shadowRoot")
    wait_settled(browser)


def wait_settled(browser: Browser) -> None:
    """Until the widget's entrance animations are over (sizes are then final)."""
    browser.wait_for(SHADOW + " return r.getAnimations().every(a => a.playState !== 'running')")


def shadow(browser: Browser, expression: str) -> Any:
    return browser.run(SHADOW + " return " + expression)


def open_by_keyboard(browser: Browser) -> None:
    for _ in range(30):
        if shadow(browser, "r.activeElement && r.activeElement.classList.contains('l')"):
            break
        browser.press(KEYS["tab"])
    else:
        raise AssertionError("Tab never reached the launcher")
    browser.press(KEYS["enter"])
    browser.wait_for(SHADOW + " return !r.querySelector('.p').hidden")
    wait_settled(browser)


def ask_typed(browser: Browser, text: str) -> None:
    browser.wait_for(SHADOW + " return r.activeElement && r.activeElement.tagName === 'TEXTAREA'")
    browser.type_text(text)
    browser.press(KEYS["enter"])


def last_answer_done(browser: Browser) -> Any:
    return browser.wait_for(
        SHADOW + " const m = [...r.querySelectorAll('.g > .m:not(.v)')].pop();"
        " return m && !m.classList.contains('s') && m.className"
    )


def test_the_widget_loads_on_a_hostile_page_without_errors_or_layout_shift(
    browser: Browser, preview: ThreadedPreview
) -> None:
    open_page(browser, preview.url)
    # The customer's scripts were removed (and the policy would block them anyway).
    assert browser.run("return document.title") == "Lumen Bakery"
    assert browser.run("return document.querySelector('base').href").endswith("/")
    assert browser.run("return document.querySelectorAll('iframe, [href^=javascript]').length") == 0
    size = shadow(
        browser,
        "(() => { const b = r.querySelector('.l').getBoundingClientRect();"
        " const s = getComputedStyle(r.querySelector('.l'));"
        " const e = document.documentElement;"
        " return [b.width, b.height, e.clientWidth - b.right, e.clientHeight - b.bottom,"
        " s.position, s.backgroundColor]; })()",
    )
    width, height, right_gap, bottom_gap, position, background = size
    assert width < 300 and 40 <= height <= 80, size  # not `button { width: 100% }`
    assert (right_gap, bottom_gap) == (20, 20) and position == "fixed"
    assert background == "rgb(11, 110, 79)"  # the theme colour, not the page's red
    # The widget's CSS does not leak: the page's own `.p` stays where the page put it.
    assert browser.run("return getComputedStyle(document.querySelector('main .p')).position") in (
        "static",
        "",
    )
    open_by_keyboard(browser)
    styles = shadow(
        browser,
        "(() => { const t = r.querySelector('.g .m .t'); const s = getComputedStyle(t);"
        " const p = r.querySelector('.p').getBoundingClientRect();"
        " const h = getComputedStyle(r.querySelector('.h'));"
        " return [s.color, s.fontSize, p.width, h.display]; })()",
    )
    assert styles[0] != "rgb(255, 0, 0)" and styles[1] == "15px", styles
    assert styles[2] == 380 and styles[3] == "flex", styles
    assert browser.run("return window.__shifts") == []  # CLS 0
    # Styles as a constructed sheet: no inline <style> a strict page policy would block.
    assert shadow(browser, "[r.adoptedStyleSheets.length, r.querySelectorAll('style').length]") == [
        1,
        0,
    ]
    assert browser.console_errors() == []


def test_focus_moves_in_and_back_and_escape_closes(
    browser: Browser, preview: ThreadedPreview
) -> None:
    open_page(browser, preview.url)
    label = shadow(browser, "r.querySelector('.l').textContent")
    assert label == "Chat with us"  # the launcher's label is its accessible name
    open_by_keyboard(browser)
    assert shadow(browser, "r.activeElement.getAttribute('aria-label')") == "Your question"
    assert shadow(browser, "r.querySelector('.l').getAttribute('aria-expanded')") == "true"
    browser.press(KEYS["escape"])
    browser.wait_for(SHADOW + " return r.querySelector('.p').hidden")
    assert shadow(browser, "r.activeElement === r.querySelector('.l')")
    assert shadow(browser, "r.querySelector('.l').getAttribute('aria-expanded')") == "false"


def test_a_suggested_question_streams_an_answer_with_a_citation_link_and_thumbs(
    browser: Browser, preview: ThreadedPreview, ollama: FakeOllama, shop: Shop
) -> None:
    ollama.script_state.chunk_delay_s = 0.15
    open_page(browser, preview.url)
    open_by_keyboard(browser)
    shadow(browser, "r.querySelector('.q button').click()")
    # Part of the answer is on screen while the rest is still coming.
    partial = browser.wait_for(
        SHADOW + " const m = r.querySelector('.m.s'); const t = m && m.textContent;"
        " return t && t.length > 0 && t"
    )
    assert "Sundays" not in partial
    assert last_answer_done(browser) == "m"
    answer = shadow(
        browser, "[...r.querySelectorAll('.g > .m')].pop().querySelector('.t').textContent"
    )
    assert answer == "We deliver Monday to Friday, never on Sundays [1]."
    links = shadow(
        browser,
        "[...[...r.querySelectorAll('.g > .m')].pop().querySelectorAll('a')]"
        ".map(a => [a.textContent, a.href, a.target, a.rel])",
    )
    assert [shop.url + "/delivery"] == sorted({href for _text, href, _t, _r in links})
    assert links[0][0] == "[1]" and links[0][2] == "_blank" and "noopener" in links[0][3]
    shadow(browser, "r.querySelector('.f button[aria-label=Helpful]').click()")
    browser.wait_for(SHADOW + " return r.querySelector('.f span').textContent.includes('Thanks')")
    conversation = preview.server.conversations.conversations()[-1]
    visitor, assistant = conversation["messages"]
    assert visitor["text"] == QUESTION and assistant["feedback"] == "up"
    assert assistant["citations"][0]["url"] == shop.url + "/delivery"
    assert conversation["page_url"] == shop.url + "/"  # the customer's page, not 127.0.0.1


def test_a_declined_answer_looks_different_and_offers_lead_capture(
    browser: Browser, preview: ThreadedPreview
) -> None:
    open_page(browser, preview.url)
    open_by_keyboard(browser)
    ask_typed(browser, "Zebra quantum xylophone?")
    assert last_answer_done(browser) == "m d"
    text = shadow(browser, "r.querySelector('.m.d .t').textContent")
    assert text == REFUSAL
    styles = shadow(
        browser,
        "[getComputedStyle(r.querySelector('.m.d')).borderStyle,"
        " getComputedStyle(r.querySelector('.g > .m')).borderStyle]",
    )
    assert styles == ["dashed", "none"]
    # Lead capture on refusal: fields, consent, and it reaches the preview server.
    browser.wait_for(SHADOW + " return r.activeElement && r.activeElement.name === 'name'")
    browser.type_text("Ada Baker")
    browser.press(KEYS["tab"])
    browser.type_text("ada@example.com")
    shadow(browser, "r.querySelector('.k input[type=checkbox]').click()")
    shadow(browser, "r.querySelector('.k button[type=submit]').click()")
    browser.wait_for(
        SHADOW + " return [...r.querySelectorAll('.g .m')].pop().textContent.includes('Thank you')"
    )
    lead = preview.server.conversations.conversations()[-1]["lead"]
    assert lead == {"name": "Ada Baker", "email": "ada@example.com"}


def test_an_html_answer_shows_as_text(browser: Browser, preview: ThreadedPreview) -> None:
    open_page(browser, preview.url)
    open_by_keyboard(browser)
    ask_typed(browser, "When do you deliver? HTML please")
    last_answer_done(browser)
    text = shadow(
        browser, "[...r.querySelectorAll('.g > .m')].pop().querySelector('.t').textContent"
    )
    assert text.startswith('<img src=x onerror="window.__pwned = 1"><b>not bold</b>')
    assert shadow(browser, "r.querySelectorAll('img, b').length") == 0
    assert browser.run("return window.__pwned === undefined")


def test_rate_limits_get_a_friendly_message(
    browser: Browser, preview: ThreadedPreview, widget_settings: dict[str, Any]
) -> None:
    widget_settings["limits"]["messages_per_day"] = 1
    open_page(browser, preview.url)
    open_by_keyboard(browser)
    ask_typed(browser, QUESTION)
    assert last_answer_done(browser) == "m"
    ask_typed(browser, "And on Saturdays?")
    assert last_answer_done(browser) == "m e"
    message = shadow(browser, "[...r.querySelectorAll('.g > .m')].pop().textContent")
    assert "very busy today" in message


def test_a_320_pixel_phone_gets_the_whole_screen(
    browser: Browser, preview: ThreadedPreview
) -> None:
    browser.viewport(320, 640)
    open_page(browser, preview.url)
    launcher = shadow(browser, "r.querySelector('.l').getBoundingClientRect().right")
    assert launcher == 300
    open_by_keyboard(browser)
    box = shadow(
        browser,
        "(() => { const p = r.querySelector('.p'); const b = p.getBoundingClientRect();"
        " return [b.left, b.width, b.height, p.scrollWidth,"
        " getComputedStyle(r.querySelector('.l')).display,"
        " r.querySelector('.i .b').getBoundingClientRect().right]; })()",
    )
    assert box[:3] == [0, 320, 640] and box[3] <= 320, box
    assert box[4] == "none" and box[5] <= 320, box  # the close button takes over; Send fits
    shadow(browser, "r.querySelector('.x').click()")
    assert shadow(browser, "r.activeElement === r.querySelector('.l')")


def test_reduced_motion_turns_animation_off(browser: Browser, preview: ThreadedPreview) -> None:
    browser.color_scheme("light", reduced_motion=True)
    open_page(browser, preview.url)
    assert shadow(browser, "getComputedStyle(r.querySelector('.l')).animationName") == "none"


def test_another_origin_is_refused(browser: Browser, preview: ThreadedPreview, shop: Shop) -> None:
    browser.get(shop.url + "/pricing")  # a page on another origin calls the preview's API
    outcome = browser.wait_for(
        "return fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({session_id: 'abcdefgh12', message: 'hi'})})"
        ".then(r => 'status ' + r.status, e => 'refused: ' + e.name)",
        preview.url + "v1/bots/preview/chat",
    )
    assert outcome.startswith("refused")
    assert preview.server.conversations.conversations() == []


def test_left_position_forced_dark_and_an_icon_only_launcher(
    browser: Browser, preview: ThreadedPreview, widget_settings: dict[str, Any]
) -> None:
    widget_settings["theme"].update(position="bottom-left", mode="dark", launcher_label="")
    browser.color_scheme("light")
    open_page(browser, preview.url)
    found = shadow(
        browser,
        "(() => { const l = r.querySelector('.l'); const b = l.getBoundingClientRect();"
        " return [b.left, l.getAttribute('aria-label'), l.textContent,"
        " r.querySelector('.w').classList.contains('dark')]; })()",
    )
    assert found == [20, "Open chat with Lumen Bakery", "", True]


def test_lead_capture_before_chat_asks_first_and_can_be_skipped(
    browser: Browser, preview: ThreadedPreview, widget_settings: dict[str, Any]
) -> None:
    widget_settings["lead_capture"].update(when="before_chat", fields=["email", "phone"])
    open_page(browser, preview.url)
    open_by_keyboard(browser)
    assert shadow(browser, "r.activeElement.name") == "email"
    types = shadow(browser, "[...r.querySelectorAll('.k input')].map(i => i.type)")
    assert types == ["email", "tel", "checkbox"]
    shadow(browser, "r.querySelector('.k .b2').click()")  # No thanks
    assert shadow(browser, "r.querySelector('.k')") is None
    assert shadow(browser, "r.activeElement.tagName") == "TEXTAREA"


def test_a_model_failure_mid_answer_gets_a_friendly_message(
    browser: Browser, preview: ThreadedPreview, ollama: FakeOllama
) -> None:
    ollama.script("/api/chat", *[Scripted(status=500, body={"error": "boom"})] * 5)
    open_page(browser, preview.url)
    open_by_keyboard(browser)
    ask_typed(browser, QUESTION)
    assert last_answer_done(browser) == "m e"
    message = shadow(browser, "[...r.querySelectorAll('.g > .m')].pop().textContent")
    assert "something went wrong on our side" in message and "boom" not in message
    assert preview.problems and preview.problems[0][0] == QUESTION  # the reason, for the app
    # The visitor can ask again at once.
    assert shadow(browser, "r.querySelector('.i .b').disabled") is False


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [320, 375, 1280])
def test_screenshots(
    browser: Browser, preview: ThreadedPreview, scheme: str, width: int, tmp_path: Path
) -> None:
    """Screenshots to look at (BOTDESK_SCREENSHOTS=folder keeps them): answered, opened."""
    browser.viewport(width, 720 if width > 600 else 640)
    browser.color_scheme(scheme)
    open_page(browser, preview.url)
    open_by_keyboard(browser)
    shadow(browser, "r.querySelector('.q button').click()")
    last_answer_done(browser)
    shadow(browser, "r.querySelector('.f button[aria-label=Helpful]').click()")
    shadow(browser, "r.querySelector('textarea').focus()")
    ask_typed(browser, "Zebra quantum xylophone?")
    assert last_answer_done(browser) == "m d"
    dark = shadow(browser, "r.querySelector('.w').classList.contains('dark')")
    assert dark is (scheme == "dark")
    folder = Path(os.environ.get("BOTDESK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = browser.screenshot(folder / f"widget-{scheme}-{width}.png")
    assert shot.stat().st_size > 5000
