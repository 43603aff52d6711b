"""The light model base class behind every class in :mod:`qdrant_local.models`.

qdrant-client's models are pydantic classes; importing pydantic and building ~400 validated classes
costs most of a second, which test suites pay on every run. These models keep the parts users rely
on (keyword construction with the same field names and aliases, defaults, equality, a readable repr,
``model_dump()``, ``model_copy()``) and leave validation to the engine, which checks every request
as a whole before applying it.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

__all__ = ["Model", "Factory"]


class Factory:
    """A default built anew for every instance (pydantic's ``default_factory``)."""

    __slots__ = ("make",)

    def __init__(self, make: Any) -> None:
        self.make = make

    def __repr__(self) -> str:
        return f"Factory({self.make!r})"


_REQUIRED = object()


class Model:
    """Keyword-constructed record with qdrant_client's field names.

    Subclasses declare fields as annotated class attributes; an attribute value is the default, and a
    field without one is required. ``_aliases`` maps a field name to the name used on the wire and as
    a keyword (``MatchExcept(**{"except": [...]})`` sets ``except_``).
    """

    _aliases: ClassVar[dict[str, str]] = {}
    _field_names: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _by_keyword: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        defaults: dict[str, Any] = {}
        for base in cls.__bases__:
            if issubclass(base, Model):
                names.extend(n for n in base._field_names if n not in names)
                defaults.update(base._defaults)
        for name in cls.__dict__.get("__annotations__", {}):
            if name.startswith("_"):
                continue
            if name not in names:
                names.append(name)
            defaults[name] = cls.__dict__.get(name, defaults.get(name, _REQUIRED))
        cls._field_names = tuple(names)
        cls._defaults = defaults
        by_keyword = {name: name for name in names}
        by_keyword.update({alias: name for name, alias in cls._aliases.items()})
        cls._by_keyword = by_keyword
        # Instance attributes shadow these; removing them keeps ``getattr(cls, field)`` from
        # returning a default for a field a duck-typed reader expects on instances only.
        for name in names:
            if name in cls.__dict__:
                delattr(cls, name)

    def __init__(self, **data: Any) -> None:
        by_keyword = self._by_keyword
        values = self.__dict__
        for keyword, value in data.items():
            name = by_keyword.get(keyword)
            if name is None:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument '{keyword}'")
            values[name] = value
        for name, default in self._defaults.items():
            if name in values:
                continue
            if default is _REQUIRED:
                raise TypeError(f"{type(self).__name__}() missing required field '{name}'")
            values[name] = default.make() if isinstance(default, Factory) else default

    @classmethod
    def model_construct(cls, **values: Any) -> Any:
        """Build without checks from values for every field (pydantic's name); used on hot read paths."""
        instance = object.__new__(cls)
        instance.__dict__.update(values)
        return instance

    # -- pydantic-compatible surface -------------------------------------------------------------

    def model_dump(
        self,
        *,
        mode: str = "python",
        by_alias: bool = False,
        exclude_none: bool = False,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        """Return the fields as a dict, recursively (``mode="json"`` turns enums and arrays into plain values)."""
        result: dict[str, Any] = {}
        for name in self._field_names:
            value = self.__dict__.get(name)
            if exclude_none and value is None:
                continue
            if exclude_defaults or exclude_unset:
                default = self._defaults.get(name, _REQUIRED)
                if default is not _REQUIRED and not isinstance(default, Factory) and _same(value, default):
                    continue
            key = self._aliases.get(name, name) if by_alias else name
            result[key] = _dump(value, mode, by_alias, exclude_none)
        return result

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Model:
        """Return a copy, optionally with some fields replaced."""
        import copy

        clone = copy.deepcopy(self) if deep else copy.copy(self)
        if update:
            clone.__dict__.update(update)
        return clone

    def dict(self, **kwargs: Any) -> dict[str, Any]:  # pydantic v1 spelling, still common in user code
        return self.model_dump(**kwargs)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        try:
            return bool(self.__dict__ == other.__dict__)
        except ValueError:  # numpy arrays among the fields: compare their plain forms
            return self.model_dump(mode="json") == other.model_dump(mode="json")

    __hash__ = None  # type: ignore[assignment]  # mutable, like pydantic models

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={self.__dict__.get(name)!r}" for name in self._field_names)
        return f"{type(self).__name__}({fields})"

    def __str__(self) -> str:  # pydantic prints fields without the class name
        return " ".join(f"{name}={self.__dict__.get(name)!r}" for name in self._field_names)

    def __copy__(self) -> Model:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except ValueError:
        return False


def _dump(value: Any, mode: str, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(value, Model):
        return value.model_dump(mode=mode, by_alias=by_alias, exclude_none=exclude_none)
    if isinstance(value, list | tuple):
        return [_dump(item, mode, by_alias, exclude_none) for item in value]
    if isinstance(value, dict):
        return {key: _dump(item, mode, by_alias, exclude_none) for key, item in value.items()}
    if mode == "json":
        if isinstance(value, enum.Enum):
            return value.value
        if hasattr(value, "tolist"):  # numpy arrays and scalars
            return value.tolist()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if type(value).__name__ == "UUID":
            return str(value)
    return value
