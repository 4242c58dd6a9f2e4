"""The eviction planner, pure: least recently used first, never pinned or busy entries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from s3d.cache.planner import FS_BLOCK, Budget, Candidate, Usage, footprint, plan_eviction

K = FS_BLOCK
"""Sizes in filesystem blocks, so that each entry frees exactly what it holds."""


def test_least_recently_used_first_until_enough_is_freed() -> None:
    candidates = [
        Candidate("new", 100 * FS_BLOCK, last_access=30.0),
        Candidate("old", 100 * FS_BLOCK, last_access=10.0),
        Candidate("mid", 100 * FS_BLOCK, last_access=20.0),
    ]
    assert [c.entry_id for c in plan_eviction(candidates, 150 * FS_BLOCK)] == ["old", "mid"]
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
    assert not budget.needs_eviction(Usage(900))
    assert budget.needs_eviction(Usage(901))
    assert budget.to_free(Usage(950)) == 450
    spacey = Budget(1000, 0.9, 0.5, min_free_space=300)
    assert spacey.needs_eviction(Usage(10, free=299))
    assert not spacey.needs_eviction(Usage(10, free=300))
    assert spacey.to_free(Usage(1000, free=100)) == 200 + 400


def test_pending_writes_count_and_only_clean_entries_make_way() -> None:
    budget = Budget(max_size=1000 * K, high_watermark=0.9, low_watermark=0.5)
    # Clean entries alone are under the high watermark; pending writes take it over.
    assert not budget.needs_eviction(Usage(cached=600 * K))
    assert budget.needs_eviction(Usage(cached=600 * K, pending=400 * K))
    assert budget.to_free(Usage(cached=600 * K, pending=400 * K)) == 500 * K
    # Pending writes alone past the low watermark: every clean byte goes, and no more.
    assert budget.to_free(Usage(cached=300 * K, pending=800 * K)) == 300 * K
    assert budget.to_free(Usage(cached=300 * K, pending=2000 * K)) == 300 * K
    # A write about to join the pending ones counts before it lands.
    assert not budget.needs_eviction(Usage(cached=400 * K, pending=500 * K))
    assert budget.needs_eviction(Usage(cached=400 * K, pending=500 * K + 1))
    # Six clean entries of 100, e0 the least recently used, e5 pinned.
    candidates = [Candidate(f"e{i}", 100 * K, float(i), pinned=i == 5) for i in range(6)]
    # 300 pending and a write of 100 coming: down to 500 means dropping 500 of the 600.
    usage = Usage(cached=600 * K, pending=(300 + 100) * K)
    chosen = plan_eviction(candidates, budget.to_free(usage))
    assert [c.entry_id for c in chosen] == ["e0", "e1", "e2", "e3", "e4"]
    # 300 pending and no write coming: only 400 to drop, the four oldest.
    usage = Usage(cached=600 * K, pending=300 * K)
    chosen = plan_eviction(candidates, budget.to_free(usage))
    assert [c.entry_id for c in chosen] == ["e0", "e1", "e2", "e3"]
    # Pending alone over the size: all but the pinned entry, never anything else.
    usage = Usage(cached=600 * K, pending=1200 * K)
    chosen = plan_eviction(candidates, budget.to_free(usage))
    assert [c.entry_id for c in chosen] == ["e0", "e1", "e2", "e3", "e4"]


def test_bytes_are_counted_in_whole_filesystem_blocks() -> None:
    assert [footprint(n) for n in (0, 1, 4096, 4097)] == [0, 4096, 4096, 8192]
    small = [Candidate(str(i), 10, float(i)) for i in range(4)]
    # Each 10-byte file frees a 4 KiB block: two are enough for 5000 bytes.
    assert len(plan_eviction(small, 5000)) == 2


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
    freed = sum(c.on_disk for c in chosen)
    # …long enough to free what was asked, or all of them; never one more than needed.
    assert freed >= to_free or chosen == evictable
    if chosen:
        assert freed - chosen[-1].on_disk < to_free
