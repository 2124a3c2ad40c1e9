"""The Help menu's windows: the user guide (shipped Markdown, read-only), About, the log folder.

The guide is our own file, but it is still rendered without raw HTML, and no link is ever
followed inside the app: web links open in the system browser, anything else is ignored.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.logs import log_file
from desktop.core.paths import resource_path, user_data_dir
from desktop.ui.widgets import plain_label

GUIDE_PATH = ("guide", "user-guide.md")
ABOUT_MIN_WIDTH = 520
EXTERNAL_SCHEMES = ("http", "https", "mailto")
# GitHub's Markdown (tables, task lists, autolinks) without any HTML inlines or blocks.
GUIDE_FEATURES = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)


def guide_file() -> Path:
    return resource_path(*GUIDE_PATH)


def open_external(url: QUrl) -> bool:
    """Open a web or mail link in the system's browser; refuse every other kind."""
    if url.scheme().lower() not in EXTERNAL_SCHEMES:
        return False
    return QDesktopServices.openUrl(url)


def open_folder(folder: Path) -> bool:
    """Show a folder in the system's file manager (created first if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class GuideViewer(QDialog):
    """Help ▸ User guide: the shipped guide, rendered, read-only."""

    def __init__(self, parent: QWidget | None = None, *, path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Botdesk user guide")
        self.followed: list[QUrl] = []  # the links the user clicked, in order
        self.browser = QTextBrowser()
        self.browser.setObjectName("user-guide")
        self.browser.setOpenLinks(False)  # never navigate inside the app
        self.browser.setOpenExternalLinks(False)
        self.browser.setSearchPaths([])
        self.browser.anchorClicked.connect(self._follow)
        source = path or guide_file()
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            text = f"# The user guide is missing\n\n{source} could not be read ({exc.strerror})."
        self.browser.document().setMarkdown(text, GUIDE_FEATURES)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(760, 600)

    def _follow(self, url: QUrl) -> None:
        self.followed.append(url)
        open_external(url)


class AboutDialog(QDialog):
    """Help ▸ About: the version, and where the workspace, the data and the log are."""

    def __init__(self, parent: QWidget | None, *, workspace: Path | None) -> None:
        super().__init__(parent)
        from desktop import __version__

        self.setWindowTitle("About Botdesk")
        title = plain_label(f"Botdesk {__version__}")
        title.setStyleSheet("font-size: 16pt; font-weight: 600;")
        intro = plain_label("Curate what your website chatbot knows, test it, and publish it.")
        self.workspace_label = self._path_label(
            str(workspace) if workspace is not None else "No workspace is open."
        )
        self.log_label = self._path_label(str(log_file()))
        self.data_label = self._path_label(str(user_data_dir()))
        form = QFormLayout()
        form.addRow("Workspace", self.workspace_label)
        form.addRow("Log file", self.log_label)
        form.addRow("Data folder", self.data_label)
        self.open_log_button = QPushButton("Open log folder")
        self.open_log_button.clicked.connect(lambda: open_folder(log_file().parent))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.open_log_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(ABOUT_MIN_WIDTH)  # paths on one line where they fit

    @staticmethod
    def _path_label(text: str) -> QLabel:
        label = plain_label(text)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def text(self) -> str:
        """Everything the dialog says, for tests and for copying."""
        labels = self.findChildren(QLabel)
        return "\n".join(label.text() for label in labels)
