"""Which pages the window shows, in order. Each concern adds its page here."""

from __future__ import annotations

from desktop.ui.content.page import ContentPage
from desktop.ui.context import WindowContext
from desktop.ui.conversations.page import ConversationsPage
from desktop.ui.pages import Page
from desktop.ui.publish.page import PublishPage
from desktop.ui.search.page import SearchPage
from desktop.ui.testbench.page import TestBenchPage


def build_pages(context: WindowContext) -> list[Page]:
    return [
        ContentPage(context),
        SearchPage(context),
        TestBenchPage(context),
        PublishPage(context),
        ConversationsPage(context),
    ]
