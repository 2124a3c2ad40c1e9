"""Test sets: questions with expectations, their CSV/JSONL files, runs, results and comparisons.

A row has `question` and optionally `expected_source`, `must_include` and `must_not_include`
(text the answer must / must not contain, case-insensitive; several separated by "|" in
CSV, a list or a string in JSONL) and `should_decline` (true/false). A file with any bad
row is refused as a whole, with every row's reason, so nothing half-imports.

`expected_source` follows the same rule as the exclude patterns (one glob matcher,
`desktop.core.ingest.urls.glob_matches`); several are separated by "|", "#123" names a
passage id. A value without glob characters keeps the "contains" meaning it always had, in
the page's path: `shipping` matches `/en/shipping-rates`. `/shipping` is that path (add `*`
for the pages below it), `*.pdf` any PDF, and a full `https://` address that page (with `*`
where needed). Host names are not part of the path, and matching is case-sensitive, as
paths are: see SOURCE_RULE, which the UI shows as the field's tooltip.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from desktop.core.answering.types import AnswerResult
from desktop.core.errors import ConfigError
from desktop.core.ingest.urls import glob_matches
from desktop.core.store.workspace import Workspace, utc_now

DEFAULT_SET = "default"
FIELDS = ("question", "expected_source", "must_include", "must_not_include", "should_decline")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
MAX_ROW_ERRORS_SHOWN = 20
SOURCE_RULE = (
    "Where the answer's passages must come from, matched like the exclude patterns: a word "
    "or part of a path (shipping) means 'contains', in the path; /shipping is that path and "
    "/shipping* also the pages below it; *.pdf any PDF; a full https:// address that page; "
    "#123 the passage with that id. Several: separate with |. Case-sensitive, as paths are."
)


@dataclass(frozen=True)
class TestQuestion:
    """A saved question and what its answer is expected to do."""

    question: str
    expected_source: str = ""
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    should_decline: bool | None = None
    id: int | None = None

    __test__ = False  # not a pytest class

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"question": self.question}
        if self.expected_source:
            data["expected_source"] = self.expected_source
        if self.must_include:
            data["must_include"] = list(self.must_include)
        if self.must_not_include:
            data["must_not_include"] = list(self.must_not_include)
        if self.should_decline is not None:
            data["should_decline"] = self.should_decline
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestQuestion:
        """The shape `to_json` writes (kept with each stored result)."""
        decline = data.get("should_decline")
        return cls(
            question=str(data.get("question") or ""),
            expected_source=str(data.get("expected_source") or ""),
            must_include=tuple(str(s) for s in data.get("must_include") or ()),
            must_not_include=tuple(str(s) for s in data.get("must_not_include") or ()),
            should_decline=None if decline is None else bool(decline),
        )

    @property
    def key(self) -> str:
        """The question as two spellings of it compare: case and spacing do not count."""
        return question_key(self.question)

    def merged_into(self, stored: TestQuestion) -> TestQuestion:
        """`stored` with what this one states added: its expectations are never wiped."""
        return replace(
            stored,
            expected_source=_join_sources(stored.expected_source, self.expected_source),
            must_include=_union(stored.must_include, self.must_include),
            must_not_include=_union(stored.must_not_include, self.must_not_include),
            should_decline=(
                stored.should_decline if self.should_decline is None else self.should_decline
            ),
        )


def question_key(text: str) -> str:
    return " ".join(text.lower().split())


def _union(first: Sequence[str], second: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def _join_sources(first: str, second: str) -> str:
    items = [s.strip() for s in f"{first}|{second}".split("|") if s.strip()]
    return " | ".join(dict.fromkeys(items))


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line (JSONL) or data row (CSV, after the header)
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


# -- parsing and writing files -------------------------------------------------------
def _parse_bool(value: Any, row: int, errors: list[RowError]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors.append(RowError(row, f"should_decline must be true or false, not {value!r}"))
    return None


def _parse_texts(value: Any, name: str, row: int, errors: list[RowError]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split("|")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        errors.append(RowError(row, f"{name} must be text or a list of texts"))
        return ()
    return tuple(s.strip() for s in items if s.strip())


def _question_from(data: dict[str, Any], row: int, errors: list[RowError]) -> TestQuestion | None:
    before = len(errors)
    unknown = sorted(k for k in data if k not in FIELDS)
    if unknown:
        errors.append(
            RowError(row, f"unknown field(s) {', '.join(unknown)}; expected {', '.join(FIELDS)}")
        )
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        errors.append(RowError(row, "question is missing or empty"))
        question = ""
    source = data.get("expected_source") or ""
    if not isinstance(source, str):
        errors.append(RowError(row, "expected_source must be text"))
        source = ""
    include = _parse_texts(data.get("must_include"), "must_include", row, errors)
    exclude = _parse_texts(data.get("must_not_include"), "must_not_include", row, errors)
    decline = _parse_bool(data.get("should_decline"), row, errors)
    if len(errors) > before:
        return None
    return TestQuestion(question.strip(), source.strip(), include, exclude, decline)


def _check_duplicates(questions: list[tuple[int, TestQuestion]], errors: list[RowError]) -> None:
    seen: dict[str, int] = {}
    for row, q in questions:
        if q.key in seen:
            errors.append(RowError(row, f"the same question as row {seen[q.key]}"))
        else:
            seen[q.key] = row


def parse_csv(text: str) -> tuple[list[TestQuestion], list[RowError]]:
    errors: list[RowError] = []
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "question" not in [f.strip() for f in reader.fieldnames]:
        return [], [RowError(0, "the first line must be a header with a `question` column")]
    found: list[tuple[int, TestQuestion]] = []
    for row_number, raw in enumerate(reader, start=1):
        if None in raw:  # more cells than header columns
            errors.append(RowError(row_number, "more cells than the header has columns"))
            continue
        data = {k.strip(): v for k, v in raw.items() if k is not None}
        if not any((v or "").strip() for v in data.values()):
            continue  # blank line
        question = _question_from(data, row_number, errors)
        if question is not None:
            found.append((row_number, question))
    _check_duplicates(found, errors)
    return [q for _, q in found], errors


def parse_jsonl(text: str) -> tuple[list[TestQuestion], list[RowError]]:
    errors: list[RowError] = []
    found: list[tuple[int, TestQuestion]] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(line_number, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(data, dict):
            errors.append(RowError(line_number, "each line must be a JSON object"))
            continue
        question = _question_from(data, line_number, errors)
        if question is not None:
            found.append((line_number, question))
    _check_duplicates(found, errors)
    return [q for _, q in found], errors


def read_test_file(path: Path) -> list[TestQuestion]:
    """Parse a .csv or .jsonl test set; ConfigError listing every bad row."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ConfigError(
            f"{path.name}: unknown test set format.", hint="Use a .csv or .jsonl file."
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")  # Excel writes a BOM
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path.name} is not UTF-8 text.", hint="Save it as UTF-8 (CSV UTF-8 in Excel)."
        ) from exc
    questions, errors = parse_csv(text) if suffix == ".csv" else parse_jsonl(text)
    if errors:
        shown = "; ".join(str(e) for e in errors[:MAX_ROW_ERRORS_SHOWN])
        more = len(errors) - MAX_ROW_ERRORS_SHOWN
        extra = f"; and {more} more" if more > 0 else ""
        raise ConfigError(
            f"{path.name}: {len(errors)} bad row(s), nothing imported: {shown}{extra}.",
            hint="Fix the rows and import again.",
        )
    if not questions:
        raise ConfigError(f"{path.name} has no questions.")
    return questions


def write_test_file(path: Path, questions: Sequence[TestQuestion]) -> None:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        lines = [json.dumps(q.to_json(), ensure_ascii=False) for q in questions]
        text = "\n".join(lines) + ("\n" if lines else "")
    elif suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(FIELDS)
        for q in questions:
            decline = "" if q.should_decline is None else str(q.should_decline).lower()
            writer.writerow(
                [
                    q.question,
                    q.expected_source,
                    " | ".join(q.must_include),
                    " | ".join(q.must_not_include),
                    decline,
                ]
            )
        text = buffer.getvalue()
    else:
        raise ConfigError(f"{path.name}: unknown format.", hint="Export to .csv or .jsonl.")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror or exc}.") from exc


# -- the saved set ---------------------------------------------------------------------
def _set_id(ws: Workspace, name: str = DEFAULT_SET) -> int:
    found = ws.scalar("select id from test_sets where name = ?", (name,))
    if found is not None:
        return int(found)
    ws.execute("insert into test_sets(name, created_at) values (?, ?)", (name, utc_now()))
    return ws.last_insert_id()


def _question_from_row(r: Mapping[str, Any]) -> TestQuestion:
    return TestQuestion(
        question=r["question"],
        expected_source=r["expected_source"],
        must_include=tuple(json.loads(r["must_include"])),
        must_not_include=tuple(json.loads(r["must_not_include"])),
        should_decline=None if r["should_decline"] is None else bool(r["should_decline"]),
        id=int(r["id"]),
    )


def list_questions(ws: Workspace) -> list[TestQuestion]:
    rows = ws.fetch_all(
        "select q.* from test_questions q join test_sets s on s.id = q.test_set_id"
        " where s.name = ? order by q.ordinal, q.id",
        (DEFAULT_SET,),
    )
    return [_question_from_row(r) for r in rows]


def get_question(ws: Workspace, question_id: int) -> TestQuestion:
    row = ws.fetch_one("select * from test_questions where id = ?", (question_id,))
    if row is None:
        raise ConfigError("That test question no longer exists.", hint="Reload the test set.")
    return _question_from_row(row)


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    total: int
    unchanged: int = 0


def _expectation_values(q: TestQuestion) -> tuple[Any, ...]:
    return (
        q.expected_source,
        json.dumps(list(q.must_include), ensure_ascii=False),
        json.dumps(list(q.must_not_include), ensure_ascii=False),
        None if q.should_decline is None else int(q.should_decline),
    )


def _insert_question(ws: Workspace, set_id: int, q: TestQuestion) -> int:
    ordinal = int(
        ws.scalar(
            "select coalesce(max(ordinal), 0) + 1 from test_questions where test_set_id = ?",
            (set_id,),
        )
    )
    ws.execute(
        "insert into test_questions(test_set_id, ordinal, question, expected_source,"
        " must_include, must_not_include, should_decline, created_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?)",
        (set_id, ordinal, q.question, *_expectation_values(q), utc_now()),
    )
    return ws.last_insert_id()


def _existing_ids(ws: Workspace, set_id: int) -> dict[str, int]:
    return {
        question_key(str(r["question"])): int(r["id"])
        for r in ws.fetch_all(
            "select id, question from test_questions where test_set_id = ?", (set_id,)
        )
    }


def save_questions(
    ws: Workspace, questions: Sequence[TestQuestion], *, merge: bool = False
) -> ImportReport:
    """Add the questions to the set. One with the same text as a saved question replaces
    its expectations (an imported file is the user's statement of them), or with
    `merge` adds what it states to them, keeping the rest (one question added by hand)."""
    added = updated = unchanged = 0
    with ws.transaction():
        set_id = _set_id(ws)
        existing = _existing_ids(ws, set_id)
        for q in questions:
            found = existing.get(q.key)
            if found is None:
                existing[q.key] = _insert_question(ws, set_id, q)
                added += 1
                continue
            stored = get_question(ws, found)
            replacing = replace(q, id=found, question=stored.question)
            wanted = q.merged_into(stored) if merge else replacing
            if wanted == stored:
                unchanged += 1
                continue
            _update_expectations(ws, found, wanted)
            updated += 1
        total = int(
            ws.scalar("select count(*) from test_questions where test_set_id = ?", (set_id,))
        )
    return ImportReport(added, updated, total, unchanged)


def _update_expectations(ws: Workspace, question_id: int, q: TestQuestion) -> None:
    ws.execute(
        "update test_questions set expected_source = ?, must_include = ?,"
        " must_not_include = ?, should_decline = ? where id = ?",
        (*_expectation_values(q), question_id),
    )


def update_question(ws: Workspace, question_id: int, question: TestQuestion) -> TestQuestion:
    """Change a saved question's text and expectations; refuses the text of another one."""
    text = question.question.strip()
    if not text:
        raise ConfigError("The question is empty.", hint="Type the question a visitor asks.")
    with ws.transaction():
        stored = get_question(ws, question_id)
        clash = _existing_ids(ws, _set_id(ws)).get(question_key(text))
        if clash is not None and clash != question_id:
            raise ConfigError(
                "The test set already has this question.", hint="Edit that one instead."
            )
        ws.execute("update test_questions set question = ? where id = ?", (text, question_id))
        _update_expectations(ws, question_id, question)
    return replace(question, question=text, id=stored.id)


@dataclass(frozen=True)
class DeletedQuestion:
    """A deleted question with what it takes to put it back (its place, its results)."""

    question: TestQuestion
    ordinal: int
    created_at: str
    result_ids: tuple[int, ...]


def delete_questions(ws: Workspace, ids: Sequence[int]) -> list[DeletedQuestion]:
    """Delete these questions (only these); what is returned restores them."""
    deleted: list[DeletedQuestion] = []
    with ws.transaction():
        for question_id in ids:
            row = ws.fetch_one("select * from test_questions where id = ?", (question_id,))
            if row is None:
                continue
            results = ws.fetch_all(
                "select id from test_results where question_id = ?", (question_id,)
            )
            deleted.append(
                DeletedQuestion(
                    _question_from_row(row),
                    int(row["ordinal"]),
                    str(row["created_at"]),
                    tuple(int(r["id"]) for r in results),
                )
            )
            ws.execute("delete from test_questions where id = ?", (question_id,))
    return deleted


def restore_questions(ws: Workspace, deleted: Sequence[DeletedQuestion]) -> None:
    """Put deleted questions back with their ids, places and links to past results."""
    with ws.transaction():
        set_id = _set_id(ws)
        for item in deleted:
            q = item.question
            ws.execute(
                "insert into test_questions(id, test_set_id, ordinal, question, expected_source,"
                " must_include, must_not_include, should_decline, created_at)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (q.id, set_id, item.ordinal, q.question, *_expectation_values(q), item.created_at),
            )
            for result_id in item.result_ids:
                ws.execute(
                    "update test_results set question_id = ? where id = ?", (q.id, result_id)
                )


# -- judging one answer --------------------------------------------------------------
def expected_items(expected_source: str) -> list[str]:
    return [s.strip() for s in expected_source.split("|") if s.strip()]


def source_matches(item: str, chunk_id: int, location: str) -> bool:
    if item.startswith("#") and item[1:].isdigit():
        return chunk_id == int(item[1:])
    return glob_matches(location, item)


_HOST_LIKE = re.compile(r"^[\w-]+(\.[\w-]+)+(/|$)")


def source_rule_hint(items: Sequence[str], retrieved: Sequence[str]) -> str:
    """Why an expected source that reads right may still not match, for a failed check:
    the rule matches paths, case-sensitively (sets written for the older "contains, any
    case, host too" rule fail on these two after an upgrade). "" when neither applies."""
    hosts = [item for item in items if "://" not in item and _HOST_LIKE.match(item)]
    if hosts:
        path = "/" + hosts[0].split("/", 1)[1] if "/" in hosts[0] else "/"
        return (
            f"“{hosts[0]}” names a host: the rule matches the path ({path}) "
            "or a full https:// address"
        )
    for item in items:
        for location in retrieved:
            if not glob_matches(location, item) and glob_matches(location.lower(), item.lower()):
                return f"the rule is case-sensitive: “{item}” does not match {location}"
    return ""


def evaluate(question: TestQuestion, result: AnswerResult) -> dict[str, bool]:
    """Pass/fail per expectation the question states (an unstated one is not checked)."""
    checks: dict[str, bool] = {}
    if question.expected_source:
        checks["retrieval"] = any(
            source_matches(item, p.chunk_id, p.location)
            for item in expected_items(question.expected_source)
            for p in result.retrieved
        )
    answer = result.answer.lower()
    if question.must_include:
        checks["must_include"] = all(s.lower() in answer for s in question.must_include)
    if question.must_not_include:
        checks["must_not_include"] = not any(s.lower() in answer for s in question.must_not_include)
    if question.should_decline is not None:
        checks["decline"] = not result.error and result.declined == question.should_decline
    return checks
