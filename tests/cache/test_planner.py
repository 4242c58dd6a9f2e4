"""The eviction planner, pure: least recently used first, never pinned or busy entries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from s3d.cache.planner import Budget, Candidate, plan_eviction


def test_least_recently_used_first_until_enough_is_freed() -> None:
    candidates = [
        Candidate("new", 100, last_access=30.0),
        Candidate("old", 100, last_access=10.0),
        Candidate("mid", 100, last_access=20.0),
    ]
    assert [c.entry_id for c in plan_eviction(candidates, 150)] == ["old", "mid"]
    assert [c.entry_id for c in plan_eviction(candidates, 0)] == []


def test_pinned_and_busy_entries_are_skipped() -> None:
    candidates = [
        Candidate("pinned", 500, 1.0, pinned=True),
        Candidate("busy", 500, 2.0, busy=True),
        Candidate("free", 10, 3.0),
    ]
    assert [c.entry_id for c in plan_eviction(candidates, 1000)] == ["free"]


def test_watermarks_and_free_space() -> None:
    budget = Budget(max_size=1000, high_watermark=0.9, low_watermark=0.5, min_free_space=0)
    assert not budget.needs_eviction(900, None)
    assert budget.needs_eviction(901, None)
    assert budget.to_free(950, None) == 450
    spacey = Budget(1000, 0.9, 0.5, min_free_space=300)
    assert spacey.needs_eviction(10, free=299)
    assert not spacey.needs_eviction(10, free=300)
    assert spacey.to_free(10, free=100) == 200 + 400


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.floats(0, 1e6), st.booleans(), st.booleans()),
        max_size=50,
    ),
    st.integers(0, 100_000),
)
def test_plan_properties(rows: list[tuple[int, float, bool, bool]], to_free: int) -> None:
    candidates = [Candidate(str(i), s, a, p, b) for i, (s, a, p, b) in enumerate(rows)]
    chosen = plan_eviction(candidates, to_free)
    assert not any(c.pinned or c.busy for c in chosen)
    evictable = sorted(
        (c for c in candidates if not (c.pinned or c.busy)), key=lambda c: c.last_access
    )
    # A prefix of the evictable entries, oldest first…
    assert chosen == evictable[: len(chosen)]
    freed = sum(c.stored for c in chosen)
    # …long enough to free what was asked, or all of them; never one more than needed.
    assert freed >= to_free or chosen == evictable
    if chosen:
        assert freed - chosen[-1].stored < to_free
