"""The write-back benchmark's drain measurement: a batch of objects onto the remote.

Per round, ``count`` PUTs with ``concurrency`` in flight: directly (the baseline: answered means
stored); into write-back s3d while the relay holds everything bound for the remote, then timed
from the release until s3d's journal is empty (the backlog drained); and into write-back s3d
and rclone, timed from the first PUT until the last object is on the remote. Around each timed
window the relay's counters say how many requests reached the remote, how long each was open
and how many were open on average: where the time went, measured at the remote's door.
"""

from __future__ import annotations

import time
from typing import Any

from bench.control import RelayControl
from bench.landing import check_stored
from bench.uploads import put_all
from bench.write_back_measure import BUCKET, Context, Endpoint
from bench.write_back_results import DrainRow, Run

DRAIN_LABELS = {
    "direct": "direct upload, from the first PUT",
    "s3d-held": "s3d write-back, pending objects drained (from release)",
    "s3d": "s3d write-back, from the first PUT",
    "rclone": "rclone write-back, from the first PUT",
}
DRAIN_THROUGH = {
    "direct": "direct",
    "s3d-held": "s3d-write-back",
    "s3d": "s3d-write-back",
    "rclone": "rclone-write-back",
}
"""Each drain row's endpoint."""


async def measure_drain(
    ctx: Context,
    endpoints: dict[str, Endpoint],
    relay: RelayControl,
    *,
    count: int,
    size: int,
    rounds: int,
    concurrency: int,
    run: Run,
) -> None:
    """Fill ``run.drain``, round by round (see the module doc)."""
    rows = run.drain
    for row_id, label in DRAIN_LABELS.items():
        rows[row_id] = DrainRow(row_id, label)
    for round_ in range(rounds):
        for row_id, row in rows.items():
            endpoint = endpoints.get(DRAIN_THROUGH[row_id])
            if endpoint is None:
                row.skipped = f"{DRAIN_THROUGH[row_id]} not available"
                continue
            prefix = f"drain/{row_id}/{round_}-"
            sent = ctx.bodies(prefix, count, size)
            urls = endpoint.presign(list(sent))
            requests = list(zip(urls, sent.values(), strict=True))
            if row_id == "s3d-held":
                pending = await _held(ctx, endpoint, relay, requests, concurrency, row)
                if pending != count:
                    run.notes.append(
                        f"WARNING drain round {round_ + 1}: {pending} changes pending in s3d's "
                        f"journal at release, not {count}"
                    )
            else:
                before = await relay.stats()
                started = time.perf_counter()
                await put_all(ctx.client, requests, concurrency)
                row.answered.append(time.perf_counter() - started)
                row.on_remote.append(await ctx.settle(endpoint, list(sent)) - started)
                _at_remote(row, before, await relay.stats())
            await check_stored(ctx.client, ctx.remote, BUCKET, prefix, sent)
            row.verified = True
        ctx.say(
            f"drain, round {round_ + 1}/{rounds}: "
            + ", ".join(f"{r.id} {r.on_remote[-1]:.2f} s" for r in rows.values() if r.on_remote)
        )


async def _held(
    ctx: Context,
    endpoint: Endpoint,
    relay: RelayControl,
    requests: list[tuple[str, bytes]],
    concurrency: int,
    row: DrainRow,
) -> object:
    """PUT into s3d while the relay holds everything bound for the remote, then release it
    and time until s3d's journal is empty; how many changes were pending at release."""
    assert endpoint.admin is not None
    await relay.hold()
    try:
        started = time.perf_counter()
        await put_all(ctx.client, requests, concurrency)
        row.answered.append(time.perf_counter() - started)
        pending = (await endpoint.admin.journal()).get("queue")
    finally:
        before = await relay.stats()
        released = time.perf_counter()
        await relay.release()
    await endpoint.admin.flush()
    row.on_remote.append(time.perf_counter() - released)
    _at_remote(row, before, await relay.stats())
    return pending


def _at_remote(row: DrainRow, before: dict[str, Any], after: dict[str, Any]) -> None:
    """The relay's view of the window: requests completed (moto closes the connection after
    each answer, so a closed connection is a request), and connection-seconds."""
    row.requests.append(int(after["closed"]) - int(before["closed"]))
    row.busy.append(float(after["busy_seconds"]) - float(before["busy_seconds"]))
