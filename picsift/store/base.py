"""The `ImageStore` interface: one image collection and one topic collection, two backends."""

from __future__ import annotations

import abc
import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from picsift.errors import ModelMismatchError, StoreError
from picsift.store.collection import Collection
from picsift.store.notes import Notes
from picsift.store.records import (
    CollectionSpec,
    Hit,
    Leg,
    PayloadSelect,
    PointData,
    Record,
    SparseVector,
)
from picsift.store.schema import (
    DEFAULT_TEXT_LANGUAGES,
    IMAGE_INDEXES,
    SCHEMA_VERSION,
    TOPIC_INDEXES,
    StoreMeta,
    text_vector_name,
    vector_name,
)

Backend = Literal["embedded", "server"]
# The store's types, for the backends and callers that import them from here.
__all__ = [
    "Collection",
    "CollectionSpec",
    "Hit",
    "ImageStore",
    "Leg",
    "PayloadSelect",
    "PointData",
    "Record",
    "SparseVector",
]


class ImageStore(abc.ABC):
    """The image collection and its topic collection, on one backend.

    A store may be opened before anything was indexed; `ensure(model_id, dim)` creates the
    collections (or checks that the existing ones were built with that model).
    """

    backend: Backend

    def __init__(
        self,
        collection: str,
        location: str,
        text_languages: Sequence[str] = DEFAULT_TEXT_LANGUAGES,
    ):
        self.collection = collection
        self.location = location
        self.text_languages = tuple(text_languages)  # of the text vectors of a new store
        self._images: Collection | None = None
        self._topics: Collection | None = None
        self._notes: dict[str, Notes] = {}
        self._notes_lock = threading.Lock()  # two requests' first use open it once
        self.meta: StoreMeta | None = None

    @property
    def images(self) -> Collection:
        """The image collection (raises if nothing was indexed yet)."""
        if self._images is None:
            raise StoreError(
                f"store {self.location} has no collection {self.collection!r} yet; "
                "index some images first: picsift index SOURCE"
            )
        return self._images

    @property
    def topics(self) -> Collection:
        """The topic table, one point per topic (vector = centroid)."""
        if self._topics is None:
            raise StoreError(f"store {self.location} has no topic collection yet")
        return self._topics

    def notes(self, kind: str) -> Notes:
        """The collection `<collection>_<kind>` of researchers' records (saved selections),
        opened, or made, on first use."""
        with self._notes_lock:
            if kind not in self._notes:
                self._notes[kind] = self._open_notes(f"{self.collection}_{kind}")
            return self._notes[kind]

    @abc.abstractmethod
    def _open_notes(self, name: str) -> Notes:
        """Open or make the records collection `name`."""

    def _close_notes(self) -> None:
        try:
            for notes in self._notes.values():
                notes.close()
        finally:
            self._notes = {}

    @property
    def exists(self) -> bool:
        """Whether the image collection exists."""
        return self.meta is not None

    def ensure(self, model_id: str, dim: int) -> StoreMeta:
        """Create the collections for `model_id`, or check that they were made with it.

        Raises:
            ModelMismatchError: the store holds vectors of another model or dimension.
        """
        if self.meta is not None:
            self.check_model(model_id, dim)
            return self.meta
        meta = StoreMeta(
            model=model_id,
            dim=dim,
            vector_name=vector_name(model_id),
            schema_version=SCHEMA_VERSION,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            text_languages=self.text_languages,
        )
        image_spec = CollectionSpec(
            self.collection,
            meta.vector_name,
            dim,
            IMAGE_INDEXES,
            meta.to_dict(),
            tuple(meta.text_vectors),
        )
        topic_spec = CollectionSpec(
            f"{self.collection}_topics", meta.vector_name, dim, TOPIC_INDEXES, meta.to_dict()
        )
        self._images, self._topics = self._create(image_spec, topic_spec)
        self.meta = meta
        return meta

    def check_model(self, model_id: str, dim: int | None = None) -> None:
        """Fail clearly when the requested model is not the one the store was built with."""
        if self.meta is None:
            return
        if vector_name(model_id) != self.meta.vector_name or (
            dim is not None and dim != self.meta.dim
        ):
            raise ModelMismatchError(
                f"store {self.location} (collection {self.collection!r}) was built with model "
                f"{self.meta.model!r} ({self.meta.dim}-d), not {model_id!r}"
                f"{f' ({dim}-d)' if dim else ''}; leave PICSIFT_MODEL unset to use the store's "
                "model, or pick another PICSIFT_STORE/PICSIFT_COLLECTION for the new model"
            )

    def _load_meta(self, raw: Mapping[str, Any] | None) -> None:
        if not raw:
            return
        meta = StoreMeta.from_dict(dict(raw))
        if meta.schema_version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.location} has schema version {meta.schema_version}, newer than "
                f"this picsift understands ({SCHEMA_VERSION}); upgrade picsift"
            )
        self.meta = meta

    @property
    def has_text_vectors(self) -> bool:
        """Whether the images have text vectors to search (a store of schema 2)."""
        return self.meta is not None and bool(self.meta.text_languages)

    def add_text_vectors(self) -> StoreMeta:
        """Give a store of schema 1 the text vectors of `text_languages` (empty: no point has
        one until the text phase runs), in place; the meta is written last, so a store cut
        off before it opens as schema 1 and is migrated again.

        Raises:
            StoreError: nothing indexed yet, or the store has text vectors already.
        """
        if self.meta is None:
            raise StoreError(f"store {self.location} is empty: nothing to migrate")
        if not self.text_languages:
            raise StoreError(
                "PICSIFT_TEXT_LANGUAGES is empty: name the languages to search the text in "
                "(e.g. german,english)"
            )
        if self.has_text_vectors:
            raise StoreError(
                f"store {self.location} has text vectors already "
                f"({', '.join(self.meta.text_languages)}): nothing to migrate"
            )
        self.images.add_sparse([text_vector_name(lang) for lang in self.text_languages])
        meta = replace(self.meta, schema_version=SCHEMA_VERSION, text_languages=self.text_languages)
        self._save_meta(meta)
        self.meta = meta
        return meta

    def staging(self, model_id: str, dim: int) -> ImageStore:
        """A store beside this one, for its images embedded again with `model_id` (`picsift
        reembed`): a new one, or the one a re-embed with that model left unfinished.

        Raises:
            ModelMismatchError: an unfinished one holds vectors of that name but another size.
        """
        staged = self._staging(model_id)
        staged.ensure(model_id, dim)
        return staged

    @abc.abstractmethod
    def _staging(self, model_id: str) -> ImageStore:
        """The store `staging` fills (opened, maybe empty)."""

    @abc.abstractmethod
    def replace_with(self, staged: ImageStore) -> None:
        """Switch to the collections of `staged` (from `staging`), closing it; this store's
        own collections are deleted. A switch cut short is finished by the next open (embedded)
        or by the next `replace_with` (server)."""

    def add_indexes(self) -> list[str]:
        """Create the payload indexes a store made by an earlier picsift lacks (`picsift store
        migrate`: filters on those fields scan without them); returns the fields indexed."""
        if self.meta is None:
            return []
        added = self.images.add_indexes(IMAGE_INDEXES)
        if added:
            self._save_meta(self.meta)  # the embedded store records its indexes with it
        return added

    @abc.abstractmethod
    def _save_meta(self, meta: StoreMeta) -> None:
        """Record a changed meta with both collections (after `add_text_vectors`)."""

    def refresh_index(self) -> None:
        """Call after bulk payload writes: the embedded engine brute-forces rewritten points
        until optimized (1 -> 11 ms per query at 20k); a server optimizes in the background."""
        if self.backend == "embedded" and self.exists:
            self.images.optimize()

    @abc.abstractmethod
    def _create(self, images: CollectionSpec, topics: CollectionSpec) -> tuple[Collection, ...]:
        """Create both collections with their payload indexes."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush and release the store (and its lock)."""

    def __enter__(self) -> ImageStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
