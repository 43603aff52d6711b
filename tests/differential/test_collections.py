"""Collections, aliases and payload indexes: a state machine over the collection API.

Names come from tiny pools so that creates collide with existing collections and aliases, deletes
hit missing names, and aliases get renamed onto names that are taken: the error paths (same builtin
class, same message) are exercised as much as the happy ones.
"""

from __future__ import annotations

import warnings
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from .compare import Pair, examples, subject_side
from .specs import Call, Enum
from .strategies import AVOID, COLLECTION_KINDS, CollectionKind, collection_kinds, json_values, point_lists

COLLECTION_NAMES = ["a", "b", "c"]
ALIAS_NAMES = ["x", "y", "a"]  # "a" is also a collection name: aliases may not shadow one
names = st.sampled_from(COLLECTION_NAMES)
any_names = st.sampled_from(sorted({*COLLECTION_NAMES, *ALIAS_NAMES, "zz"}))


def _no_nulls(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, list):
        return all(_no_nulls(v) for v in value)
    if isinstance(value, dict):
        return all(_no_nulls(v) for v in value.values())
    return True


_metadata_values = json_values.filter(_no_nulls) if "metadata_null" in AVOID else json_values
metadata = st.none() | st.dictionaries(st.sampled_from(["team", "v", "tags", "n"]), _metadata_values, max_size=3)

PAYLOAD_SCHEMAS = [
    Enum("PayloadSchemaType", m) for m in ("KEYWORD", "INTEGER", "FLOAT", "GEO", "TEXT", "BOOL", "DATETIME", "UUID")
]


@st.composite
def alias_operations(draw: st.DrawFn) -> list[Call]:
    """1..3 create / delete / rename alias operations over the small name pools."""
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["create", "delete", "rename"]))
        if kind == "create":
            ops.append(
                Call(
                    "CreateAliasOperation",
                    create_alias=Call(
                        "CreateAlias", collection_name=draw(any_names), alias_name=draw(st.sampled_from(ALIAS_NAMES))
                    ),
                )
            )
        elif kind == "delete":
            ops.append(
                Call(
                    "DeleteAliasOperation",
                    delete_alias=Call("DeleteAlias", alias_name=draw(st.sampled_from([*ALIAS_NAMES, "zz"]))),
                )
            )
        else:
            ops.append(
                Call(
                    "RenameAliasOperation",
                    rename_alias=Call(
                        "RenameAlias",
                        old_alias_name=draw(st.sampled_from([*ALIAS_NAMES, "zz"])),
                        new_alias_name=draw(st.sampled_from(ALIAS_NAMES)),
                    ),
                )
            )
    return ops


class Collections(RuleBasedStateMachine):
    """create / recreate / delete / exists / get / update / aliases / payload indexes."""

    def __init__(self) -> None:
        super().__init__()
        self.pair = Pair(subject_side())
        self.kinds: dict[str, CollectionKind] = {}

    def _is_alias(self, name: str) -> bool:
        return any(a.alias_name == name for a in self.pair.oracle.get_aliases().aliases)

    def _avoid(self, name: str) -> bool:
        # see test_regressions: collection (re)creation and deletion under an alias's name
        return "collection_ops_on_alias_names" in AVOID and self._is_alias(name)

    @rule(name=names, kind=collection_kinds, meta=metadata)
    def create_collection(self, name: str, kind: CollectionKind, meta: Any) -> None:
        if self._avoid(name):
            return
        outcome = self.pair.check("create_collection", name, metadata=meta, **kind.create_kwargs())
        if outcome.error is None:
            self.kinds[name] = kind

    @rule(name=names, kind=collection_kinds)
    def recreate_collection(self, name: str, kind: CollectionKind) -> None:
        if self._avoid(name):
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            outcome = self.pair.check("recreate_collection", name, **kind.create_kwargs())
        if outcome.error is None:
            self.kinds[name] = kind

    @rule(name=any_names)
    def delete_collection(self, name: str) -> None:
        if self._avoid(name):
            return
        self.pair.check("delete_collection", name)

    @rule(name=any_names)
    def collection_exists(self, name: str) -> None:
        self.pair.check("collection_exists", name)

    @rule(name=any_names)
    def get_collection(self, name: str) -> None:
        self.pair.check("get_collection", name)

    @rule(name=any_names, meta=metadata, data=st.data())
    def update_collection(self, name: str, meta: Any, data: st.DataObject) -> None:
        if "metadata_null_first_update" in AVOID and not _no_nulls(meta or {}):
            current = (
                self.pair.oracle.get_collection(name).config.metadata
                if self.pair.oracle.collection_exists(name)
                else {}
            )
            if current is None:
                return  # see test_regressions.case_metadata_null_on_first_update
        kwargs: dict[str, Any] = {"metadata": meta}
        if data.draw(st.booleans(), label="sparse update"):
            sparse_name = data.draw(st.sampled_from(["s", "t", "zz"]), label="sparse name")
            modifier = data.draw(st.sampled_from([Enum("Modifier", "IDF"), Enum("Modifier", "NONE")]))
            kwargs["sparse_vectors_config"] = {sparse_name: Call("SparseVectorParams", modifier=modifier)}
        self.pair.check("update_collection", name, **kwargs)

    @rule(ops=alias_operations())
    def update_collection_aliases(self, ops: list[Call]) -> None:
        self.pair.check("update_collection_aliases", ops)

    @rule(name=any_names)
    def get_collection_aliases(self, name: str) -> None:
        self.pair.check("get_collection_aliases", name)

    @rule(name=any_names, field=st.sampled_from(["city", "n", "obj.x"]), schema=st.sampled_from(PAYLOAD_SCHEMAS))
    def payload_index(self, name: str, field: str, schema: Enum) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.pair.check("create_payload_index", name, field, field_schema=schema)
            self.pair.check("delete_payload_index", name, field)

    @rule(name=any_names, data=st.data())
    def write_through_name(self, name: str, data: st.DataObject) -> None:
        """Points written through a collection name or an alias land in the same collection."""
        target = self._resolve(name)
        kind = self.kinds.get(target) if target else None
        points = data.draw(point_lists(kind or COLLECTION_KINDS["single_dot"], max_size=3), label="points")
        self.pair.check("upsert", name, points)
        self.pair.check("count", name)

    def _resolve(self, name: str) -> str | None:
        aliases = {a.alias_name: a.collection_name for a in self.pair.oracle.get_aliases().aliases}
        target = aliases.get(name, name)
        return target if self.pair.oracle.collection_exists(target) else None

    @invariant()
    def same_catalogue(self) -> None:
        self.pair.check("get_collections")
        self.pair.check("get_aliases")
        for name in COLLECTION_NAMES:
            self.pair.check("get_collection", name)

    def teardown(self) -> None:
        self.pair.close()


Collections.TestCase.settings = settings(
    max_examples=examples(60),
    stateful_step_count=15,
)
TestCollections = Collections.TestCase
