"""The Content page's dialogs: each opens one, wires its signals to the page's actions, and
returns it (the tests drive it). A mixin of ContentPage, apart so the page stays wiring."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from desktop.ui.content.actions import ContentActions, SyncOutcome, failed_items, skipped_items
from desktop.ui.content.dialogs import (
    BoilerplateDialog,
    FlaggedDialog,
    LeftOutDialog,
    PassageDialog,
    PatternDialog,
    TextEntryDialog,
    suggest_exclude_pattern,
)
from desktop.ui.content.panels import DocumentsPanel, SourcesPanel
from desktop.ui.content.reading import PassagesPanel
from desktop.ui.content.site_dialog import AddSiteDialog
from desktop.ui.content.source_settings import SourceSettingsDialog
from desktop.ui.context import WindowContext


class ContentDialogs(QWidget):
    """The dialogs of the Content page (which sets these attributes)."""

    context: WindowContext
    content_actions: ContentActions
    sources: SourcesPanel
    documents: DocumentsPanel
    passages: PassagesPanel
    last_sync: SyncOutcome | None

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def open_add_text(self) -> TextEntryDialog:
        dialog = TextEntryDialog(
            self, "Add text", line_label="Title", body_label="Text (Markdown or plain text)"
        )
        dialog.accepted.connect(lambda: self.content_actions.add_text(dialog.line(), dialog.body()))
        dialog.open()
        return dialog

    def open_add_qa(self) -> TextEntryDialog:
        dialog = TextEntryDialog(
            self,
            "Add a question and its answer",
            line_label="Question",
            body_label="Answer",
            line_required=True,
            note="The pair becomes one passage the bot can quote.",
        )
        dialog.accepted.connect(lambda: self.content_actions.add_qa(dialog.line(), dialog.body()))
        dialog.open()
        return dialog

    def open_add_site(self) -> AddSiteDialog:
        dialog = AddSiteDialog(self, self.context.jobs, self.context.backends)
        dialog.accepted.connect(
            lambda: self.content_actions.add_site(dialog.url(), **dialog.site_settings())
        )
        dialog.open()
        return dialog

    def open_edit_passage(self) -> PassageDialog | None:
        chosen = self.passages.selected()
        if len(chosen) != 1:
            return None
        passage = chosen[0]
        dialog = PassageDialog(self, passage)

        def done() -> None:
            text = dialog.text()
            changed = text.strip() != passage.text.strip()
            if dialog.result_action == "edit" and changed:
                self.content_actions.edit_passage(passage.id, text)
            elif dialog.result_action == "keep-edit":
                self.content_actions.resolve_review(passage.id, "edit", text if changed else None)
            elif dialog.result_action == "take-source":
                self.content_actions.resolve_review(passage.id, "source")

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def open_add_passage(self) -> TextEntryDialog | None:
        document_id = self.documents.current_id()
        if document_id is None:
            return None
        dialog = TextEntryDialog(
            self,
            "Add a passage",
            line_label="Heading",
            body_label="Text",
            note="A passage written by hand stays as you wrote it through every sync.",
        )
        dialog.accepted.connect(
            lambda: self.content_actions.add_passage(document_id, dialog.body(), dialog.line())
        )
        dialog.open()
        return dialog

    def open_exclude_pattern(self) -> PatternDialog | None:
        ws = self.workspace
        if ws is None:
            return None
        uris = [d.uri for d in content.list_documents(ws)]
        doc = self.documents.current()
        suggestion = suggest_exclude_pattern(doc.uri, uris) if doc is not None else ""
        dialog = PatternDialog(self, suggestion, uris)
        dialog.accepted.connect(lambda: self.content_actions.exclude_url_pattern(dialog.pattern()))
        dialog.open()
        return dialog

    def open_flagged(self) -> FlaggedDialog | None:
        ws = self.workspace
        if ws is None:
            return None
        dialog = FlaggedDialog(self, content.flagged_passages(ws))

        def refresh() -> None:
            if self.workspace is not None:
                dialog.set_flagged(content.flagged_passages(self.workspace))

        def accept(ids: list[int]) -> None:
            if self.workspace is None:
                return
            try:
                content.accept_flagged(self.workspace, ids)
            except BotdeskError as exc:  # a read-only workspace says why
                self.context.messages.error(exc)
                return
            refresh()

        def exclude(ids: list[int]) -> None:
            if self.content_actions.set_excluded(ids, True):  # undoable, like any exclusion
                refresh()

        dialog.accept_requested.connect(accept)
        dialog.exclude_requested.connect(exclude)
        dialog.open()
        return dialog

    def open_boilerplate(self) -> BoilerplateDialog | None:
        ws = self.workspace
        if ws is None:
            return None
        dialog = BoilerplateDialog(self, content.boilerplate_groups(ws))

        def exclude(keys: list[str]) -> None:
            if self.content_actions.exclude_boilerplate(keys) and self.workspace is not None:
                dialog.set_groups(content.boilerplate_groups(self.workspace))

        dialog.exclude_requested.connect(exclude)
        dialog.open()
        return dialog

    def open_source_settings(self) -> SourceSettingsDialog | None:
        ws, source = self.workspace, self.sources.current()
        if ws is None or source is None:
            return None
        current = content_sources.source_chunk_settings(ws, source.id)
        site = content_sources.source_site_config(ws, source.id) if source.kind == "site" else None
        dialog = SourceSettingsDialog(self, source, current, source.passages, site)

        def preview(chunking: dict[str, int]) -> None:
            handle = self.content_actions.preview_chunking(source.id, chunking)
            if handle is not None:
                handle.finished.connect(
                    lambda event, result: dialog.show_preview(
                        result if isinstance(result, list) else None, event.summary
                    )
                )

        dialog.preview_requested.connect(preview)
        dialog.accepted.connect(
            lambda: self.content_actions.apply_source_settings(
                source.id, dialog.chunking(), dialog.site_settings()
            )
        )
        dialog.open()
        return dialog

    def show_sync_errors(self) -> LeftOutDialog:
        failed = failed_items(self.last_sync, self.sources.model.rows)
        dialog = LeftOutDialog(
            self,
            "What failed in the last sync",
            f"{len(failed)} items failed; the rest went on.",
            failed,
            empty="Nothing failed.",
        )
        dialog.open()
        return dialog

    def show_skipped(self) -> LeftOutDialog:
        total, items = skipped_items(self.last_sync, self.sources.model.rows)
        listed = f" (the first {len(items)} listed)" if len(items) < total else ""
        dialog = LeftOutDialog(
            self,
            "What the last sync skipped",
            f"{total} addresses were not fetched{listed}, each with the reason. Change a "
            "source's rules in its Settings.",
            items,
            empty="Nothing was skipped.",
        )
        dialog.open()
        return dialog
