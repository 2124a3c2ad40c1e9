"""Test sets: file import/export with per-row errors, judging answers, runs and comparisons."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from desktop.core.answering import runreview, testbench, testruns
from desktop.core.answering.profiles import default_profile
from desktop.core.answering.testbench import TestQuestion
from desktop.core.answering.types import AnswerProfile, AnswerResult, RetrievedPassage
from desktop.core.errors import CancelledError, ConfigError
from desktop.core.jobs import Job
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_reads_every_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "set.csv",
        "question,expected_source,must_include,must_not_include,should_decline\n"
        'When do you open?,/hours,8 o\'clock | weekdays,"closed",false\n'
        "Tell me a joke,,,,yes\n"
        "\n"
        "Plain question,,,,\n",
    )
    questions = testbench.read_test_file(path)
    assert questions[0] == TestQuestion(
        "When do you open?", "/hours", ("8 o'clock", "weekdays"), ("closed",), False
    )
    assert questions[1].should_decline is True
    assert questions[2] == TestQuestion("Plain question")


def test_csv_with_bom_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("question\nÉté?\n".encode("utf-8-sig"))
    assert testbench.read_test_file(path) == [TestQuestion("Été?")]


def test_bad_csv_rows_are_all_reported_and_nothing_imported(
    tmp_path: Path, workspace: Workspace
) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "question,should_decline,must_inlcude\n,true,\nFine?,maybe,\nFine?,false,\n",
    )
    with pytest.raises(ConfigError) as error:
        testbench.read_test_file(path)
    text = str(error.value)
    assert "nothing imported" in text
    assert "row 1: unknown field(s) must_inlcude" in text
    assert "question is missing or empty" in text
    assert "row 2: should_decline must be true or false, not 'maybe'" in text
    assert testbench.list_questions(workspace) == []


def test_csv_without_header_and_ragged_rows(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="header with a `question` column"):
        testbench.read_test_file(write(tmp_path, "a.csv", "When do you open?\n"))
    with pytest.raises(ConfigError, match="more cells than the header"):
        testbench.read_test_file(write(tmp_path, "b.csv", "question\nA?,extra\n"))


def test_jsonl_import_and_errors(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        "set.jsonl",
        '{"question": "Q1?", "must_include": ["a", "b"], "should_decline": false}\n\n'
        '{"question": "Q2?", "must_not_include": "x", "expected_source": "#12"}\n',
    )
    assert testbench.read_test_file(good) == [
        TestQuestion("Q1?", must_include=("a", "b"), should_decline=False),
        TestQuestion("Q2?", expected_source="#12", must_not_include=("x",)),
    ]
    bad = write(
        tmp_path,
        "bad.jsonl",
        '{"question": "Q1?"}\n'
        "not json\n"
        "[1, 2]\n"
        '{"question": "Q3?", "must_include": [1]}\n'
        '{"question": "Q1?"}\n',
    )
    with pytest.raises(ConfigError) as error:
        testbench.read_test_file(bad)
    text = str(error.value)
    assert "4 bad row(s)" in text
    assert "row 2: not valid JSON" in text
    assert "row 3: each line must be a JSON object" in text
    assert "row 4: must_include must be text or a list of texts" in text
    assert "row 5: the same question as row 1" in text


def test_unknown_format_unreadable_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown test set format"):
        testbench.read_test_file(write(tmp_path, "set.xlsx", "x"))
    with pytest.raises(ConfigError, match="Cannot read"):
        testbench.read_test_file(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("question\nÉté?\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        testbench.read_test_file(latin)
    with pytest.raises(ConfigError, match="has no questions"):
        testbench.read_test_file(write(tmp_path, "empty.jsonl", "\n"))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_save_export_import_round_trip(tmp_path: Path, workspace: Workspace, suffix: str) -> None:
    questions = [
        TestQuestion("When?", "/hours|/faq", ("8",), ("never",), False),
        TestQuestion("Joke?", should_decline=True),
        TestQuestion('Comma, "quote"?'),
    ]
    report = testbench.save_questions(workspace, questions)
    assert (report.added, report.updated, report.total) == (3, 0, 3)
    path = tmp_path / f"out{suffix}"
    testbench.write_test_file(path, testbench.list_questions(workspace))
    again = testbench.read_test_file(path)
    assert again == questions
    # Re-importing updates the same questions instead of duplicating them.
    changed = [TestQuestion("WHEN?", should_decline=True)]
    report = testbench.save_questions(workspace, changed)
    assert (report.added, report.updated, report.total) == (0, 1, 3)
    assert testbench.list_questions(workspace)[0].should_decline is True


def result(answer: str, *, declined: bool = False, error: str = "") -> AnswerResult:
    return AnswerResult(
        question="q",
        profile="default",
        generator="ollama:fake",
        answer=answer,
        declined=declined,
        error=error,
        retrieved=[
            RetrievedPassage(12, "t", "", 1.0, SourceRef(url="https://acme.test/Hours")),
            RetrievedPassage(13, "t", "", 1.0, SourceRef(path="/docs/manual.pdf")),
        ],
    )


def test_evaluate_each_expectation() -> None:
    q = TestQuestion("q", "/Hours", ("eight",), ("closed",), False)
    assert testbench.evaluate(q, result("We open at EIGHT [1].")) == {
        "retrieval": True,
        "must_include": True,
        "must_not_include": True,
        "decline": True,
    }
    bad = testbench.evaluate(q, result("Closed.", declined=True))
    assert bad == {
        "retrieval": True,
        "must_include": False,
        "must_not_include": False,
        "decline": False,
    }
    assert testbench.evaluate(TestQuestion("q", "#13"), result(""))["retrieval"]
    assert not testbench.evaluate(TestQuestion("q", "pricing|#99"), result(""))["retrieval"]
    assert testbench.evaluate(TestQuestion("q"), result("")) == {}
    errored = testbench.evaluate(TestQuestion("q", should_decline=True), result("", error="down"))
    assert errored == {"decline": False}


def fake_ask(delay: float = 0.0, in_flight: list[int] | None = None):  # type: ignore[no-untyped-def]
    state = {"now": 0, "max": 0}

    async def ask(question: str, profile: AnswerProfile) -> AnswerResult:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(delay)
        state["now"] -= 1
        if in_flight is not None:
            in_flight.append(state["max"])
        if "decline" in question:
            answer = result(profile.refusal, declined=True)
        elif "broken" in question:
            answer = result("", error="Ollama is not running. Run `ollama serve`.")
        else:
            answer = result(f"{profile.name} says eight [1].")
        answer.profile = profile.name
        return answer

    return ask


def seed(workspace: Workspace, n: int = 6) -> None:
    questions = [TestQuestion(f"question {i}?", "Hours", ("eight",)) for i in range(n)]
    questions.append(TestQuestion("please decline?", should_decline=True))
    questions.append(TestQuestion("broken?", should_decline=False))
    testbench.save_questions(workspace, questions)


def test_run_is_bounded_stored_totalled_and_reports_failures(workspace: Workspace) -> None:
    seed(workspace)
    seen: list[int] = []
    job = Job("Test run")
    profiles = [default_profile(), AnswerProfile(**{**default_profile().__dict__, "name": "b"})]
    report = asyncio.run(
        testruns.run_test_set(workspace, job, profiles, fake_ask(0.01, seen), concurrency=3)
    )
    assert max(seen) == 3  # bounded, and actually concurrent
    assert report.status == "finished" and len(report.results) == 16
    assert job.done == job.total == 16
    assert len(job.errors) == 2 and "ollama serve" in job.errors[0].reason
    totals = report.totals["default"]
    assert totals.questions == 8 and totals.passed == 7 and totals.errors == 1
    assert totals.retrieval_hit_rate == 1.0 and totals.correct_declines == 1
    assert totals.decline_checked == 2 and totals.should_decline == 1
    assert totals.valid_citations == 0  # no citations set
    stored = testruns.run_results(workspace, report.run_id)
    assert len(stored) == 16 and stored[0].checks == {
        "retrieval": True,
        "must_include": True,
    }
    runs = testruns.list_runs(workspace)
    assert runs[0].status == "finished" and set(runs[0].profiles) == {"default", "b"}
    assert runs[0].profiles["b"]["k"] == 5  # settings snapshot kept with the run
    assert runs[0].totals["b"].passed == 7


def test_cancel_keeps_answers_and_marks_the_run(workspace: Workspace) -> None:
    seed(workspace, 20)
    job = Job("Test run")
    base = fake_ask()

    async def ask(question: str, profile: AnswerProfile) -> AnswerResult:
        if question == "question 3?":
            job.cancel()
        return await base(question, profile)

    with pytest.raises(CancelledError, match="they are kept"):
        asyncio.run(testruns.run_test_set(workspace, job, [default_profile()], ask, concurrency=1))
    run = testruns.list_runs(workspace)[0]
    assert run.status == "cancelled"
    assert len(testruns.run_results(workspace, run.id)) == 4


def test_empty_set_and_bad_concurrency_are_refused(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match="empty"):
        asyncio.run(testruns.run_test_set(workspace, Job("t"), [default_profile()], fake_ask()))
    seed(workspace, 1)
    with pytest.raises(ConfigError, match="at least 1"):
        asyncio.run(
            testruns.run_test_set(
                workspace, Job("t"), [default_profile()], fake_ask(), concurrency=0
            )
        )


def test_compare_runs_shows_better_and_worse(workspace: Workspace) -> None:
    testbench.save_questions(
        workspace, [TestQuestion("a?", must_include=("eight",)), TestQuestion("b?")]
    )
    answers = {"a?": "nine [1]", "b?": "fine"}

    async def ask(question: str, profile: AnswerProfile) -> AnswerResult:
        return result(answers[question], error="down" if answers[question] == "x" else "")

    first = asyncio.run(testruns.run_test_set(workspace, Job("1"), [default_profile()], ask))
    answers.update({"a?": "eight [1]", "b?": "x"})
    second = asyncio.run(testruns.run_test_set(workspace, Job("2"), [default_profile()], ask))
    diff = runreview.compare_runs(workspace, first.run_id, second.run_id)
    by_question = {c.question: c for c in diff.changes}
    assert by_question["a?"].change == "better"
    assert by_question["a?"].checks_changed == {"must_include": (False, True)}
    assert by_question["b?"].change == "worse"
    assert diff.counts["better"] == 1 and diff.counts["worse"] == 1
    as_json = json.loads(json.dumps(diff.to_json()))  # JSON only at the CLI, same shape
    changed = {c["question"]: c for c in as_json["changes"]}["a?"]["checks_changed"]
    assert changed == {"must_include": {"before": False, "after": True}}


def test_a_refused_item_fails_alone_and_a_bug_stops_the_run(workspace: Workspace) -> None:
    seed(workspace, 3)
    base = fake_ask()

    async def ask(question: str, profile: AnswerProfile) -> AnswerResult:
        if question == "question 1?":
            raise ConfigError("Unknown generator 'x'.")
        return await base(question, profile)

    report = asyncio.run(testruns.run_test_set(workspace, Job("t"), [default_profile()], ask))
    assert report.status == "finished" and len(report.results) == 5
    failed = [r for r in report.results if r.result.error == "Unknown generator 'x'."]
    assert len(failed) == 1

    async def buggy(question: str, profile: AnswerProfile) -> AnswerResult:
        if question == "question 1?":
            raise KeyError("bug")
        await asyncio.sleep(0.01)
        return await base(question, profile)

    with pytest.raises(KeyError):
        asyncio.run(
            testruns.run_test_set(workspace, Job("t"), [default_profile()], buggy, concurrency=2)
        )
    assert testruns.list_runs(workspace)[0].status == "failed"
