"""Test-set edits (merge on add, edit, delete and restore), the expected-source rule shared
with the exclude patterns, the words that say why a check failed, and typed run totals."""

from __future__ import annotations

import asyncio

import pytest

from desktop.core.answering import profiles, runreview, testbench, testruns
from desktop.core.answering.profiles import default_profile
from desktop.core.answering.testbench import TestQuestion
from desktop.core.answering.types import AnswerProfile, AnswerResult, RetrievedPassage
from desktop.core.errors import ConfigError
from desktop.core.ingest.urls import pattern_problem
from desktop.core.jobs import Job
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace


def answered(*locations: str, answer: str = "Eight [1].", declined: bool = False) -> AnswerResult:
    return AnswerResult(
        question="q",
        profile="default",
        generator="ollama:fake",
        answer=answer,
        declined=declined,
        retrieved=[
            RetrievedPassage(20 + i, "t", "", 1.0, SourceRef.from_uri(loc))
            for i, loc in enumerate(locations)
        ],
    )


def test_adding_an_existing_question_keeps_its_expectations(workspace: Workspace) -> None:
    saved = TestQuestion("Do you ship abroad?", "/shipping*", ("Europe",), ("never",), False)
    testbench.save_questions(workspace, [saved])
    # The same question typed again, with nothing stated: nothing is wiped.
    report = testbench.save_questions(workspace, [TestQuestion("do you  SHIP abroad?")], merge=True)
    assert (report.added, report.updated, report.unchanged, report.total) == (0, 0, 1, 1)
    assert testbench.list_questions(workspace)[0].must_include == ("Europe",)
    # What a new statement adds is merged in; the rest is kept.
    more = TestQuestion("Do you ship abroad?", "/faq", ("Japan",), should_decline=None)
    report = testbench.save_questions(workspace, [more], merge=True)
    assert report.updated == 1
    merged = testbench.list_questions(workspace)[0]
    assert merged.expected_source == "/shipping* | /faq"
    assert merged.must_include == ("Europe", "Japan")
    assert merged.must_not_include == ("never",) and merged.should_decline is False
    # An imported file still states the expectations in full (its rows replace).
    testbench.save_questions(workspace, [TestQuestion("Do you ship abroad?")])
    assert testbench.list_questions(workspace)[0].must_include == ()


def test_edit_delete_and_restore_keep_ids_places_and_results(workspace: Workspace) -> None:
    testbench.save_questions(
        workspace, [TestQuestion(f"Q{i}?", must_include=("a",)) for i in range(3)]
    )
    first, second, third = testbench.list_questions(workspace)
    assert second.id is not None and third.id is not None
    edited = testbench.update_question(
        workspace, second.id, TestQuestion(" Q1 edited? ", "/x", ("b",), should_decline=True)
    )
    assert edited.question == "Q1 edited?" and edited.id == second.id
    assert testbench.get_question(workspace, second.id).must_include == ("b",)
    with pytest.raises(ConfigError, match="already has this question"):
        testbench.update_question(workspace, second.id, TestQuestion("q0?"))
    with pytest.raises(ConfigError, match="empty"):
        testbench.update_question(workspace, second.id, TestQuestion("  "))

    async def ask(question: str, profile: AnswerProfile) -> AnswerResult:
        return answered("https://acme.test/x", answer="b")

    asyncio.run(testruns.run_test_set(workspace, Job("t"), [default_profile()], ask))
    deleted = testbench.delete_questions(workspace, [second.id])
    assert [q.question for q in testbench.list_questions(workspace)] == ["Q0?", "Q2?"]
    assert len(deleted) == 1 and len(deleted[0].result_ids) == 1
    testbench.restore_questions(workspace, deleted)
    restored = testbench.list_questions(workspace)
    assert [q.id for q in restored] == [first.id, second.id, third.id]  # its place, its id
    linked = workspace.scalar(
        "select count(*) from test_results where question_id = ?", (second.id,)
    )
    assert linked == 1  # the past result points at it again


@pytest.mark.parametrize(
    ("rule", "url", "matches"),
    [
        ("shipping", "https://acme.test/en/shipping-rates", True),  # no glob: contains
        ("/shipping", "https://acme.test/shipping", True),
        ("/shipping", "https://acme.test/shipping/abroad", False),  # a path is that path
        ("/shipping*", "https://acme.test/shipping/abroad", True),
        ("*.pdf", "/docs/manual.pdf", True),
        ("https://acme.test/faq", "https://acme.test/faq", True),
        ("acme.test", "https://acme.test/faq", False),  # the host is not in the path
        ("Shipping", "https://acme.test/shipping", False),  # case-sensitive, as paths are
    ],
)
def test_expected_source_is_the_exclude_rule(rule: str, url: str, matches: bool) -> None:
    checks = testbench.evaluate(TestQuestion("q", rule), answered(url))
    assert checks["retrieval"] is matches
    # One rule: the same text as an exclude pattern keeps exactly the same pages out.
    assert (pattern_problem(url, (), (rule,)) is not None) is matches


def test_failure_text_names_the_check_and_what_was_found(workspace: Workspace) -> None:
    testbench.save_questions(
        workspace,
        [TestQuestion("Ship?", "/shipping*", ("Europe", "days"), ("never",), should_decline=False)],
    )

    async def ask(question: str, profile: AnswerProfile) -> AnswerResult:
        return answered(
            "https://acme.test/about",
            "https://acme.test/faq?x=1",
            "https://acme.test/about",
            answer="We never ship in 3 days.",
        )

    report = asyncio.run(testruns.run_test_set(workspace, Job("t"), [default_profile()], ask))
    result = testruns.run_results(workspace, report.run_id)[0]
    assert result.failed_checks == ["retrieval", "must_include", "must_not_include"]
    lines = runreview.explain_checks(result)
    assert lines[0] == (
        "✗ expected source /shipping* — not retrieved (retrieved: /about, /faq?x=1)"
    )
    assert lines[1] == "✗ must include “Europe” — missing from the answer"
    assert lines[2] == "✗ must not include “never” — found in the answer"
    assert lines[3] == "✓ should answer — answered"


def test_totals_are_typed_and_read_back_from_older_runs(workspace: Workspace) -> None:
    totals = testruns.ProfileTotals.from_json({"questions": 2, "passed": 1, "retired": 5})
    assert totals.passed == 1 and totals.retrieval_hit_rate is None  # unknown keys dropped
    assert list(totals.to_json())[:3] == ["questions", "passed", "errors"]
    assert testruns.compute_totals([]).cost == 0.0


def test_profiles_new_rename_delete_and_default_is_protected(workspace: Workspace) -> None:
    fast = profiles.create_profile(
        workspace, AnswerProfile("fast", "ollama:small", default_profile().system_prompt, k=2)
    )
    with pytest.raises(ConfigError, match="already a profile named 'fast'"):
        profiles.create_profile(workspace, fast)
    renamed = profiles.rename_profile(workspace, "fast", "quick")
    assert renamed.k == 2
    assert [p.name for p in profiles.list_profiles(workspace)] == ["default", "quick"]
    with pytest.raises(ConfigError, match="cannot be renamed"):
        profiles.rename_profile(workspace, "default", "other")
    with pytest.raises(ConfigError, match="already a profile named 'default'"):
        profiles.rename_profile(workspace, "quick", "default")
    gone = profiles.delete_profile(workspace, "quick")
    assert gone.k == 2 and [p.name for p in profiles.list_profiles(workspace)] == ["default"]
    with pytest.raises(ConfigError, match="cannot be deleted"):
        profiles.delete_profile(workspace, "default")


@pytest.mark.parametrize(
    ("rule", "hint"),
    [
        (
            "acme.test/shipping",
            "“acme.test/shipping” names a host: the rule matches the path"
            " (/shipping) or a full https:// address",
        ),
        ("www.acme.test", "“www.acme.test” names a host: the rule matches the path (/)"),
        ("/Shipping*", "the rule is case-sensitive: “/Shipping*” does not match /shipping/eu"),
        ("/returns", ""),  # simply not retrieved: nothing to explain
    ],
)
def test_a_failed_source_rule_says_why_a_right_looking_value_missed(rule: str, hint: str) -> None:
    """Sets written for the old rule (any case, host included) fail after an upgrade: the
    failure says which part of the rule they trip on."""
    assert testbench.evaluate(
        TestQuestion("q", rule), answered("https://acme.test/shipping/eu")
    ) == {"retrieval": False}
    found = testbench.source_rule_hint(testbench.expected_items(rule), ["/shipping/eu"])
    assert found.startswith(hint) and (found == "") == (hint == "")
