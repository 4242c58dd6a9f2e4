"""The DRS catalogue's admin commands (``s3d drs …``), on the admin endpoint.

``GET drs/objects[?after=ID&limit=N]``: a page of records in id order, as drs.index lines;
``GET drs/object?id=ID``: one record (provisional ids resolve to the object they moved to);
``POST drs/import?source=PATH|s3://bucket/key`` and ``POST drs/export?target=s3://bucket/key``:
streamed, with the records done so far as progress. An import's ``PATH`` is read by the daemon:
a path on its file system. A drs.index that does not check out is refused with
``InvalidDrsIndex`` naming the file and the line; nothing of it is kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from s3d.catalogue.index_format import IndexFormatError
from s3d.catalogue.service import Catalogue
from s3d.catalogue.transfer import Transfers
from s3d.protocol.errors import InvalidArgument, S3Error
from s3d.protocol.routing import Query
from s3d.server.admin import AdminRoute, Report
from s3d.server.admin_query import parameters
from s3d.telemetry import trace

MAX_PAGE = 1000


class InvalidDrsIndex(S3Error):
    code = "InvalidDrsIndex"
    status = 400
    default_message = "The drs.index cannot be read."


class NoSuchDrsObject(S3Error):
    code = "NoSuchDrsObject"
    status = 404
    default_message = "The catalogue has no DRS object with this id."


def drs_routes(catalogue: Catalogue, transfers: Transfers) -> tuple[AdminRoute, ...]:
    async def objects(query: Query) -> Mapping[str, object]:
        given = parameters(query, "after", "limit")
        limit_text = given.get("limit", str(MAX_PAGE))
        if not (limit_text.isdigit() and 1 <= int(limit_text) <= MAX_PAGE):
            raise InvalidArgument(f"limit must be from 1 to {MAX_PAGE}.", ArgumentName="limit")
        await catalogue.settled()
        records = await catalogue.page(given.get("after", ""), int(limit_text))
        totals = await catalogue.totals()
        return {
            "objects": [record.to_json() for record in records],
            "next": records[-1].id if len(records) == int(limit_text) else None,
            "total": totals.objects,
            "bytes": totals.bytes,
        }

    async def one(query: Query) -> Mapping[str, object]:
        object_id = parameters(query, "id").get("id")
        if not object_id:
            raise InvalidArgument("id is required.", ArgumentName="id")
        record = await catalogue.get(object_id)
        if record is None:
            raise NoSuchDrsObject(Id=object_id)
        return {"object": record.to_json()}

    async def import_(query: Query, report: Report) -> Mapping[str, object]:
        source = parameters(query, "source").get("source")
        if not source:
            raise InvalidArgument("source is required: a path or s3://bucket/key.")
        try:
            with trace("catalogue.import", {"s3d.catalogue.source": source}):
                result = await transfers.import_(source, lambda n: report({"records": n}))
        except IndexFormatError as error:
            raise InvalidDrsIndex(str(error)) from None
        except OSError as error:
            raise InvalidDrsIndex(f"{source}: cannot be read: {error.strerror or error}") from None
        except ValueError as error:
            raise InvalidArgument(str(error), ArgumentName="source") from None
        return result.as_dict()

    async def export(query: Query, report: Report) -> Mapping[str, object]:
        target = parameters(query, "target").get("target")
        if not target:
            raise InvalidArgument("target is required: s3://bucket/key.")
        try:
            with trace("catalogue.export", {"s3d.catalogue.target": target}):
                result = await transfers.export(target, lambda n: report({"records": n}))
        except ValueError as error:
            raise InvalidArgument(str(error), ArgumentName="target") from None
        return result.as_dict()

    return (
        AdminRoute("GET", "drs/objects", "s3d:ListDrsObjects", objects),
        AdminRoute("GET", "drs/object", "s3d:GetDrsObject", one),
        AdminRoute("POST", "drs/import", "s3d:ImportDrsIndex", streamed=import_),
        AdminRoute("POST", "drs/export", "s3d:ExportDrsIndex", streamed=export),
    )
