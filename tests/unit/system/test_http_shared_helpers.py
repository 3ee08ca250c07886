"""Shared HTTP helpers of the client and admin routes: §1.12 CSV cells and rows, §1.4 comma lists."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.shared.errors import InvalidValueError
from spotopt.entrypoints.http import csv_export
from spotopt.entrypoints.http.csv_export import cell, csv_response
from spotopt.entrypoints.http.queries import comma_list


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-2", "@cmd", "\tx", "\rx"])
def test_csv_formula_cells_are_prefixed_with_a_quote(text: str) -> None:
    assert cell(text) == "'" + text


@given(st.text().filter(lambda t: not t.startswith(("=", "+", "-", "@", "\t", "\r"))))
def test_csv_plain_text_is_kept_as_sent(text: str) -> None:
    assert cell(text) == text


def test_csv_cells_follow_the_wire_formats() -> None:
    assert [cell(None), cell(True), cell(False), cell(Decimal("0.00001234")), cell(3)] == [
        "",
        "true",
        "false",
        "0.00001234",
        "3",
    ]
    assert cell(datetime(2026, 11, 28, 9, 26, 29, 123456, tzinfo=UTC)) == "2026-11-28T09:26:29Z"
    assert cell(date(2026, 11, 28)) == "2026-11-28"


def test_csv_numbers_are_never_prefixed_even_when_negative() -> None:
    assert cell(Decimal("-1.5")) == "-1.5"


def test_csv_response_is_rfc4180_with_crlf_and_an_attachment_name() -> None:
    response = csv_response("x.csv", ["a", "b"], [["1,2", None], ['say "hi"', "=x"]])
    assert response.content == b'a,b\r\n"1,2",\r\n"say ""hi""",\'=x\r\n'
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert "X-Row-Limit-Reached" not in response.headers


def test_csv_response_caps_rows_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_export, "MAX_ROWS", 2)
    response = csv_response("x.csv", ["n"], [[i] for i in range(5)])
    assert response.content == b"n\r\n0\r\n1\r\n"
    assert response.headers["X-Row-Limit-Reached"] == "true"


def test_comma_list_drops_empty_items_and_duplicates() -> None:
    assert comma_list("status", "a,,b,a") == ("a", "b")
    assert comma_list("status", None) == ()


def test_comma_list_rejects_unknown_values_naming_the_parameter() -> None:
    with pytest.raises(InvalidValueError) as caught:
        comma_list("trigger", "evaluator,nope", frozenset({"evaluator"}))
    assert caught.value.field == "trigger"
