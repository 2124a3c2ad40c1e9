"""The quick in-app look of the chat widget, painted with Qt from the form's config.

It follows the form as the user types: colour, light or dark, launcher side and label, bot
name, greeting and the suggested questions. (The real widget, run in a browser, is the
widget engineer's WidgetPreviewPanel beside it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

DEFAULT_PRIMARY = "#1a73e8"
MARGIN = 12.0
LAUNCHER_H = 44.0
HEADER_H = 40.0
CHIP_H = 26.0
INPUT_H = 28.0
PANEL_MAX_W = 340.0
PANEL_MAX_H = 560.0  # about the real widget's height: a tall window shows page above it


@dataclass(frozen=True)
class Palette:
    """The widget's colours in light or dark mode."""

    page: QColor
    panel: QColor
    text: QColor
    bubble: QColor
    primary: QColor

    @property
    def on_primary(self) -> QColor:
        return QColor("#ffffff") if self.primary.lightness() < 170 else QColor("#000000")


LIGHT = ("#f3f3f3", "#ffffff", "#202020", "#eef1f5")
DARK = ("#2b2b2b", "#1f1f1f", "#eeeeee", "#333333")


@dataclass
class Layout:
    """Where each part goes; the paint and the tests read the same rectangles."""

    panel: QRectF
    header: QRectF
    bubble: QRectF
    launcher: QRectF
    input_box: QRectF
    chips: list[tuple[QRectF, str]] = field(default_factory=list)
    hidden_questions: int = 0  # suggested questions with no room left (said on the chip row)


class WidgetPreview(QWidget):
    """Paints the chat widget as a visitor would see it: the launcher and the opened chat."""

    def __init__(self) -> None:
        super().__init__()
        self.config: dict[str, Any] = {}
        self.setMinimumSize(240, 320)
        self.setMaximumWidth(int(PANEL_MAX_W + 2 * MARGIN + 60))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("A quick look at the chat widget, following the form as you type")

    def set_config(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self.update()

    # -- what the painting uses, with safe fallbacks while the form holds invalid values --
    def _theme(self) -> Mapping[str, Any]:
        theme = self.config.get("theme")
        return theme if isinstance(theme, Mapping) else {}

    def colour(self) -> QColor:
        colour = QColor(str(self._theme().get("primary_color", "")))
        return colour if colour.isValid() else QColor(DEFAULT_PRIMARY)

    def dark(self) -> bool:
        mode = self._theme().get("mode", "auto")
        if mode == "auto":  # the visitor's system: here, this computer's
            return bool(self.palette().window().color().lightness() < 128)
        return bool(mode == "dark")

    def on_left(self) -> bool:
        return bool(self._theme().get("position") == "bottom-left")

    def questions(self) -> list[str]:
        found = self.config.get("suggested_questions")
        return [str(q) for q in found if str(q).strip()] if isinstance(found, list) else []

    def colours(self) -> Palette:
        page, panel, text, bubble = DARK if self.dark() else LIGHT
        return Palette(QColor(page), QColor(panel), QColor(text), QColor(bubble), self.colour())

    def layout_parts(self) -> Layout:
        metrics = QFontMetrics(self.font())
        width, height = float(self.width()), float(self.height())
        label = str(self._theme().get("launcher_label") or "")
        launcher_w = max(LAUNCHER_H, metrics.horizontalAdvance(label) + 36.0) if label else 44.0
        left = self.on_left()
        launcher = QRectF(
            MARGIN if left else width - MARGIN - launcher_w,
            height - MARGIN - LAUNCHER_H,
            launcher_w,
            LAUNCHER_H,
        )
        panel_w = min(PANEL_MAX_W, width - 2 * MARGIN)
        panel_h = min(PANEL_MAX_H, height - 3 * MARGIN - LAUNCHER_H)
        panel = QRectF(
            MARGIN if left else width - MARGIN - panel_w,
            launcher.top() - MARGIN - panel_h,
            panel_w,
            panel_h,
        )
        header = QRectF(panel.left(), panel.top(), panel.width(), HEADER_H)
        input_box = QRectF(panel.left() + 10, panel.bottom() - 38, panel.width() - 20, INPUT_H)
        text_w = panel.width() - 40
        greeting = str(self.config.get("greeting") or "")
        bounds = metrics.boundingRect(
            0, 0, int(text_w), 10_000, int(Qt.TextFlag.TextWordWrap), greeting
        )
        # The greeting gives way to the questions: at most half the space between them.
        room = input_box.top() - header.bottom() - 20
        bubble_h = min(bounds.height() + 16.0, max(room / 2, 30.0))
        bubble = QRectF(panel.left() + 10, header.bottom() + 10, text_w + 20, bubble_h)
        parts = Layout(panel, header, bubble, launcher, input_box)
        y = bubble.bottom() + 10
        questions = self.questions()
        for number, question in enumerate(questions):
            if y + CHIP_H > input_box.top() - 6:
                parts.hidden_questions = len(questions) - number
                break
            chip_text = metrics.elidedText(question, Qt.TextElideMode.ElideRight, int(text_w))
            chip_w = metrics.horizontalAdvance(chip_text) + 20.0
            parts.chips.append((QRectF(panel.left() + 10, y, chip_w, CHIP_H), chip_text))
            y += CHIP_H + 6
        return parts

    # -- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colours, parts = self.colours(), self.layout_parts()
        painter.fillRect(self.rect(), colours.page)
        self._paint_launcher(painter, colours, parts.launcher)
        self._paint_panel(painter, colours, parts)
        self._paint_messages(painter, colours, parts)
        painter.end()

    def _paint_launcher(self, painter: QPainter, colours: Palette, launcher: QRectF) -> None:
        label = str(self._theme().get("launcher_label") or "")
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours.primary)
        painter.drawRoundedRect(launcher, 22, 22)
        painter.setPen(colours.on_primary)
        painter.drawText(launcher, Qt.AlignmentFlag.AlignCenter, label or "💬")

    def _paint_panel(self, painter: QPainter, colours: Palette, parts: Layout) -> None:
        path = QPainterPath()
        path.addRoundedRect(parts.panel, 10, 10)
        painter.fillPath(path, colours.panel)
        painter.setBrush(Qt.BrushStyle.NoBrush)  # the outline only: the panel keeps its colour
        painter.setPen(QPen(QColor(128, 128, 128, 90)))
        painter.drawPath(path)
        header = parts.header
        # Rounded at the top only: a rounded band, then its lower half squared off.
        header_path = QPainterPath()
        header_path.addRoundedRect(header, 10, 10)
        painter.fillPath(header_path, colours.primary)
        painter.fillRect(
            QRectF(header.left(), header.center().y(), header.width(), header.height() / 2),
            colours.primary,
        )
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(colours.on_primary)
        name = str(self.config.get("bot_name") or "")
        painter.drawText(
            header.adjusted(12, 0, -12, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            QFontMetrics(bold).elidedText(
                name, Qt.TextElideMode.ElideRight, int(header.width() - 24)
            ),
        )
        painter.setFont(self.font())
        box = parts.input_box
        painter.setPen(QPen(QColor(128, 128, 128, 140)))
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(QColor(128, 128, 128))
        painter.drawText(
            box.adjusted(8, 0, 0, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            "Ask a question…",
        )

    def _paint_messages(self, painter: QPainter, colours: Palette, parts: Layout) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours.bubble)
        painter.drawRoundedRect(parts.bubble, 8, 8)
        painter.setPen(colours.text)
        painter.drawText(
            parts.bubble.adjusted(10, 8, -10, -8),
            int(Qt.TextFlag.TextWordWrap),
            str(self.config.get("greeting") or ""),
        )
        # The suggested questions: chips outlined in the theme colour, on the panel's colour.
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for chip, text in parts.chips:
            painter.setPen(QPen(colours.primary, 1.5))
            painter.drawRoundedRect(chip, 13, 13)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
        if parts.hidden_questions and parts.chips:
            last = parts.chips[-1][0]
            painter.setPen(colours.text)
            painter.drawText(
                QRectF(last.right() + 8, last.top(), 80, last.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                f"+{parts.hidden_questions} more",
            )
