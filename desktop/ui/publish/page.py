"""The Publish page: checks with fixes, changes since the last release, the widget form with a
quick preview, dry run, publish with progress, and the release history with rollback.

Wiring only: the panels (panels.py) emit what the user wants, the actions (actions.py) do it
through the publish service, and their signals come back to the panels here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QSplitter, QTabWidget, QVBoxLayout

from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import publish
from desktop.services.publish import TokenStatus
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.publish import dialogs
from desktop.ui.publish.actions import PublishActions
from desktop.ui.publish.panels import ChecksPanel, ReleasesPanel, TargetPanel, WidgetPanel
from desktop.ui.publish.widget_preview import WidgetPreviewPanel
from desktop.ui.widgets import plain_label


class PublishPage(Page):
    """Where and how to publish on the left; the chat widget's settings on the right."""

    title = "Publish"

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        self.publisher = PublishActions(context, self)
        self.target = TargetPanel()
        self.checks = ChecksPanel()
        self.releases = ReleasesPanel()
        self.widget_panel = WidgetPanel()
        # The views of the chat widget, one tab each; more are added here with addTab.
        self.widget_tabs = QTabWidget()
        self.widget_tabs.addTab(self.widget_panel, "Widget settings")
        self.widget_preview = WidgetPreviewPanel(context)
        self.widget_tabs.addTab(self.widget_preview, "Embed and preview")
        # What a run found and what went live, one tab each (a laptop has no room for both).
        self.findings_tabs = QTabWidget()
        self.findings_tabs.addTab(self.checks, "Checks and changes")
        self.findings_tabs.addTab(self.releases, "Release history")
        self.empty_label = plain_label("Open or create a workspace to publish its bot.")
        self.body = self._lay_out()
        self._wire_panels()
        self._wire_actions()
        self.on_workspace_changed(context.workspace)

    def _lay_out(self) -> QSplitter:
        target_scroll = QScrollArea()
        target_scroll.setWidgetResizable(True)
        target_scroll.setWidget(self.target)
        target_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(target_scroll)
        left.addWidget(self.findings_tabs)
        left.setChildrenCollapsible(False)
        left.setStretchFactor(0, 0)
        left.setStretchFactor(1, 1)
        left.setSizes([self.target.sizeHint().height(), 400])
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(self.widget_tabs)
        body.setChildrenCollapsible(False)
        body.setStretchFactor(0, 2)
        body.setStretchFactor(1, 3)
        body.setSizes([380, 820])  # the widget form and its preview need the room
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label)
        layout.addWidget(body, 1)
        return body

    def _wire_panels(self) -> None:
        target, publisher = self.target, self.publisher
        # Bound methods, not lambdas holding the page: no reference cycle through Qt objects
        # for a worker thread's garbage collection to break (Qt warns, or worse).
        target.dry_run_requested.connect(self._dry_run)
        target.publish_requested.connect(self._publish)
        target.build_requested.connect(self._choose_bundle_file)
        target.set_token_requested.connect(self.ask_token)
        target.forget_token_requested.connect(self.forget_token)
        target.endpoint_edited.connect(self._look_up_token)
        self.releases.refresh_requested.connect(publisher.refresh_releases)
        self.releases.rollback_requested.connect(self.rollback)
        self.widget_panel.save_requested.connect(publisher.save_widget)
        self.widget_panel.form_changed.connect(self._show_problems)

    def _wire_actions(self) -> None:
        publisher = self.publisher
        publisher.busy_changed.connect(self.target.set_busy)
        publisher.status_changed.connect(self.target.set_status)
        publisher.report_ready.connect(self.checks.show_report)
        publisher.report_ready.connect(self._show_findings_tab)
        publisher.releases_changed.connect(self.releases.show_releases)
        publisher.token_changed.connect(self._show_token)
        publisher.widget_saved.connect(self._widget_saved)
        publisher.target_changed.connect(self.target.set_target)

    # -- workspace --------------------------------------------------------------------------
    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self.body.setVisible(workspace is not None)
        self.empty_label.setVisible(workspace is None)
        self.checks.clear()
        self.releases.show_releases([])
        if workspace is None:
            return
        self.target.set_target(*publish.get_target(workspace))
        self.widget_panel.load(publish.get_widget(workspace))
        self.publisher.show_local_releases()
        self.publisher.refresh_token(self.target.target()[0])

    def _dry_run(self) -> None:
        self.start_publish(dry_run=True)

    def _publish(self) -> None:
        self.start_publish(dry_run=False)

    def _look_up_token(self) -> None:
        self.publisher.refresh_token(self.target.target()[0])

    def _show_problems(self, config: dict[str, Any]) -> None:
        self.widget_panel.show_problems(publish.widget_problems_by_label(config))

    def _show_findings_tab(self, report: publish.PublishReport) -> None:
        self.findings_tabs.setCurrentWidget(self.checks if report.dry_run else self.releases)

    # -- user intents that need a question first --------------------------------------------
    def start_publish(self, *, dry_run: bool) -> JobHandle | None:
        return self.publisher.start_publish(
            self.widget_panel.form.config(),
            self.target.target(),
            notes=self.target.notes(),
            quantization=self.target.quantization(),
            dry_run=dry_run,
        )

    def build_bundle_file(self, path: str) -> JobHandle | None:
        return self.publisher.build_bundle_file(path, self.target.quantization())

    def _choose_bundle_file(self) -> None:
        ws = self.context.workspace
        if ws is not None:
            path = dialogs.choose_bundle_path(self, ws.path.with_suffix(".bundle"))
            if path:
                self.build_bundle_file(path)

    def rollback(self, release_id: str) -> JobHandle | None:
        info = self.releases.selected_info()
        if not release_id or info is None:
            self.context.messages.info("Select the release to make live in the history first.")
            return None
        if info.active:
            self.context.messages.info(f"Release {info.version} is already live.")
            return None
        if not dialogs.confirm(
            self,
            f"Make release {info.version} live?",
            f"Visitors get release {info.version} ({info.release_id}, "
            f"{info.published_at or info.created_at}) instead of the live one at once. "
            "You can make any release live again later.",
            f"Make release {info.version} live",
        ):
            return None
        return self.publisher.rollback(release_id)

    def ask_token(self) -> None:
        endpoint = self.target.target()[0]
        if not endpoint:
            self.context.messages.info("Give the endpoint URL first; the token is kept under it.")
            return
        status = self.publisher.token
        if status is None:  # not looked up yet (typed just now)
            try:
                status = publish.token_status(endpoint)
            except BotdeskError as exc:  # not an endpoint address: say so, ask nothing
                self.context.messages.error(exc, context="Publish token")
                return
        choice = dialogs.ask_token(self, endpoint, status)
        if choice is not None and choice.token:
            self.publisher.set_token(endpoint, choice)

    def forget_token(self) -> None:
        endpoint = self.target.target()[0]
        if endpoint and dialogs.confirm(
            self,
            "Forget the publish token?",
            f"Botdesk removes the token for {endpoint} from this computer. Publishing needs "
            "it again afterwards.",
            "Forget token",
        ):
            self.publisher.forget_token(endpoint)

    # -- what comes back --------------------------------------------------------------------
    def _show_token(self, status: TokenStatus | str) -> None:
        if isinstance(status, TokenStatus):
            self.target.set_token_text(status.text(), found=bool(status.source))
        else:
            self.target.set_token_text(status, found=False)

    def _widget_saved(self, config: dict[str, Any], text: str) -> None:
        if config != self.widget_panel.form.config():  # undo or redo: the form follows
            self.widget_panel.load(config)
        self.widget_panel.show_saved(text)

    @property
    def job(self) -> JobHandle | None:
        """The publish, dry run or bundle build under way."""
        return self.publisher.job
