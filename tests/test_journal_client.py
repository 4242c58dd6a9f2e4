"""What ``s3d flush`` says when the remote refused changes (tests/test_cli.py runs the command
against a real daemon with a real dead letter)."""

from __future__ import annotations

from s3d.cli.journal_client import SHOWN_DEAD, refused_message


def dead(i: int) -> dict[str, object]:
    return {
        "id": i,
        "bucket": "b",
        "key": f"k{i}",
        "change": "put",
        "attempts": 1,
        "error": "AccessDenied: Access Denied",
    }


def test_nothing_refused() -> None:
    assert refused_message({"queue": 0, "dead_letters": 0, "dead": []}) is None
    assert refused_message({}) is None


def test_the_first_dead_letters_are_named_then_how_many_more() -> None:
    message = refused_message({"dead_letters": 60, "dead": [dead(i) for i in range(1, 51)]})
    assert message is not None
    named = [f"id {i}: b/k{i} (put, 1 attempt): AccessDenied: Access Denied" for i in range(1, 6)]
    assert SHOWN_DEAD == 5
    assert message == (
        "what remains are dead letters: "
        f"the remote refused 60 changes: {'; '.join(named)}; and 55 more; "
        "see `s3d journal retry|discard`"
    )


def test_one_refused_change() -> None:
    assert refused_message({"dead_letters": 1, "dead": [dead(3)]}) == (
        "what remains are dead letters: the remote refused 1 change: "
        "id 3: b/k3 (put, 1 attempt): AccessDenied: Access Denied; "
        "see `s3d journal retry|discard`"
    )
