"""picsift's store types in qdrant-client's models: payload index schemas, filters, payload
selectors, search parameters and sparse vectors."""

from __future__ import annotations

from typing import Any

from qdrant_client import models as qm

from picsift.store import filters as f
from picsift.store.records import SparseVector
from picsift.store.schema import INT8_OVERSAMPLING, IndexKind

SCHEMAS: dict[IndexKind, Any] = {
    IndexKind.KEYWORD: qm.PayloadSchemaType.KEYWORD,
    IndexKind.INTEGER: qm.PayloadSchemaType.INTEGER,
    IndexKind.FLOAT: qm.PayloadSchemaType.FLOAT,
    IndexKind.BOOL: qm.PayloadSchemaType.BOOL,
    IndexKind.TEXT: qm.TextIndexParams(
        type=qm.TextIndexType.TEXT, tokenizer=qm.TokenizerType.WORD, lowercase=True
    ),
}
BATCH = 256


def to_qdrant_filter(flt: f.Filter | None) -> qm.Filter | None:
    """Translate a neutral filter to qdrant-client's models."""
    if not flt:
        return None

    def conds(items: tuple[f.Condition, ...]) -> list[Any] | None:
        return [_condition(c) for c in items] or None

    return qm.Filter(must=conds(flt.must), should=conds(flt.should), must_not=conds(flt.must_not))


def _condition(cond: f.Condition) -> Any:
    match cond:
        case f.Match(key, value):
            return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))
        case f.MatchAny(key, values):
            return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))
        case f.Range(key, gte, lte, gt, lt):
            return qm.FieldCondition(key=key, range=qm.Range(gte=gte, lte=lte, gt=gt, lt=lt))
        case f.Text(key, text):
            return qm.FieldCondition(key=key, match=qm.MatchText(text=text))
        case f.HasId(ids):
            return qm.HasIdCondition(has_id=list(ids))
        case f.IsEmpty(key):
            return qm.IsEmptyCondition(is_empty=qm.PayloadField(key=key))
        case f.Nested(key, inner):
            return qm.NestedCondition(nested=qm.Nested(key=key, filter=to_qdrant_filter(inner)))
        case f.Filter():
            return to_qdrant_filter(cond)
    raise TypeError(f"unsupported filter condition {cond!r}")


def search_params(hnsw_ef: int | None, exact: bool = False) -> qm.SearchParams:
    """A dense search's parameters: with int8 vectors, rescored with the originals."""
    quantization = qm.QuantizationSearchParams(rescore=True, oversampling=INT8_OVERSAMPLING)
    return qm.SearchParams(hnsw_ef=hnsw_ef, exact=exact, quantization=quantization)


def sparse(vector: SparseVector) -> qm.SparseVector:
    return qm.SparseVector(indices=list(vector.indices), values=list(vector.values))


# Text vectors hold BM25 term weights; the engine weights them by IDF when queried.
SPARSE_PARAMS = qm.SparseVectorParams(modifier=qm.Modifier.IDF)
