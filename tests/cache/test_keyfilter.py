"""The cache index's key filter (``cache/keyfilter.py``): never a false "no"."""

from __future__ import annotations

from s3d.cache.keyfilter import KeyFilter


def test_a_key_added_is_held_until_removed_as_often() -> None:
    keys = KeyFilter(slots=4)  # tiny: every key shares a slot with others
    keys.add("b", "one")
    keys.add("b", "two")
    keys.remove("b", "one")
    assert keys.may_hold("b", "two")  # its slot may be "one"'s too: still counted
    keys.remove("b", "two")
    assert not keys.may_hold("b", "two")


def test_a_full_slot_never_says_no_again() -> None:
    keys = KeyFilter(slots=1)
    for n in range(300):
        keys.add("b", f"k{n}")
    for n in range(300):
        keys.remove("b", f"k{n}")
    assert keys.may_hold("b", "k0")  # stuck at its ceiling: "maybe", never a false "no"


def test_an_empty_filter_holds_nothing() -> None:
    assert not KeyFilter().may_hold("b", "k")
