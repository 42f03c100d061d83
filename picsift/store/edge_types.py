"""picsift's store types in Qdrant Edge's: payload index schemas, filters, payload selectors,
search parameters and sparse vectors."""

from __future__ import annotations

import uuid
from typing import Any

import qdrant_edge as qe

from picsift.store import filters as f
from picsift.store.records import SparseVector
from picsift.store.schema import INT8_OVERSAMPLING, IndexKind

SCHEMAS: dict[IndexKind, Any] = {
    IndexKind.KEYWORD: qe.PayloadSchemaType.Keyword,
    IndexKind.INTEGER: qe.PayloadSchemaType.Integer,
    IndexKind.FLOAT: qe.PayloadSchemaType.Float,
    IndexKind.BOOL: qe.PayloadSchemaType.Bool,
    IndexKind.TEXT: qe.TextIndexParams(tokenizer=qe.TokenizerType.Word, lowercase=True),
}


def to_edge_filter(flt: f.Filter | None) -> qe.Filter | None:
    """Translate a neutral filter to Qdrant Edge's types."""
    if not flt:
        return None

    def conds(items: tuple[f.Condition, ...]) -> list[Any] | None:
        return [_condition(c) for c in items] or None

    return qe.Filter(must=conds(flt.must), should=conds(flt.should), must_not=conds(flt.must_not))


def _condition(cond: f.Condition) -> Any:
    match cond:
        case f.Match(key, value):
            return qe.FieldCondition(key=key, match=qe.MatchValue(value))
        case f.MatchAny(key, values):
            return qe.FieldCondition(key=key, match=qe.MatchAny(list(values)))
        case f.Range(key, gte, lte, gt, lt):
            return qe.FieldCondition(key=key, range=qe.RangeFloat(gte=gte, lte=lte, gt=gt, lt=lt))
        case f.Text(key, text):
            return qe.FieldCondition(key=key, match=qe.MatchText(text))
        case f.HasId(ids):
            return qe.HasIdCondition({uuid.UUID(i) for i in ids})
        case f.IsEmpty(key):
            return qe.IsEmptyCondition(key)
        case f.Nested(key, inner):
            return qe.NestedCondition(key, to_edge_filter(inner))
        case f.Filter():
            return to_edge_filter(cond)
    raise TypeError(f"unsupported filter condition {cond!r}")


def search_params(hnsw_ef: int | None, exact: bool = False) -> qe.SearchParams:
    """A dense search's parameters: with int8 vectors, rescored with the originals."""
    quantization = qe.QuantizationSearchParams(rescore=True, oversampling=INT8_OVERSAMPLING)
    return qe.SearchParams(hnsw_ef=hnsw_ef, exact=exact, quantization=quantization)


def sparse(vector: SparseVector) -> qe.SparseVector:
    return qe.SparseVector(list(vector.indices), list(vector.values))


def sparse_params() -> qe.EdgeSparseVectorParams:
    """Text vectors hold BM25 term weights; the engine weights them by IDF when queried."""
    return qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)
