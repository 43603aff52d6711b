"""Geo predicates for payload filters: radius, bounding box and polygon.

The arithmetic is qdrant-client's ``local/geo.py`` operation for operation (haversine with the IUGG
mean Earth radius, the even-odd ring test with boundary handling), so that points on the edge of a
strict ``<`` land on the same side as in local mode.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = [
    "MEAN_EARTH_RADIUS",
    "is_geo_point",
    "geo_distance",
    "radius_predicate",
    "bounding_box_predicate",
    "polygon_predicate",
    "radius_points_test",
    "bounding_box_points_test",
    "polygon_points_test",
]

PointsTest = Callable[[np.ndarray, np.ndarray], np.ndarray]

# numpy's sin/cos/arcsin may differ from libm's in the last bits. Distances closer to the radius
# than this (relative) margin are recomputed with math, so the strict `<` lands as in local mode.
# Haversine's worst-case sensitivity (near antipodes) is ~1e-8 relative, far inside the margin.
_RADIUS_MARGIN = 1e-6

# Radius of earth in meters, as recommended by the IUGG (same constant as qdrant core).
MEAN_EARTH_RADIUS = 6371008.8

Ring = list[tuple[float, float]]


def is_geo_point(value: Any) -> bool:
    """A ``{"lat": x, "lon": y}`` object whose coordinates are finite JSON numbers (not bools)."""
    if not isinstance(value, dict):
        return False
    try:
        for coordinate in (value.get("lat"), value.get("lon")):
            kind = type(coordinate)
            if not (kind is int or kind is float) or not math.isfinite(coordinate):  # type: ignore[arg-type]
                return False
    except OverflowError:  # an int too large for a float
        return False
    return True


def geo_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in meters between two points given in degrees."""
    lon1, lat1, lon2, lat2 = map(math.radians, [lon1, lat1, lon2, lat2])
    dlon = lon2 - lon1
    dlat = lat2 - lat1
    a = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    # Deviation: local mode's asin raises "math domain error" when rounding puts `a` a hair above 1
    # (antipodal points); the distance there is half the circumference.
    c = 2 * math.asin(min(1.0, math.sqrt(a)))
    return MEAN_EARTH_RADIUS * c


def radius_predicate(center_lon: float, center_lat: float, radius: float) -> Callable[[Any], bool]:
    """Test one payload value: a geo point strictly closer than ``radius`` meters to the center."""

    def within_radius(value: Any) -> bool:
        if not is_geo_point(value):
            return False
        return geo_distance(value["lon"], value["lat"], center_lon, center_lat) < radius

    return within_radius


def bounding_box_predicate(
    top_left_lon: float, top_left_lat: float, bottom_right_lon: float, bottom_right_lat: float
) -> Callable[[Any], bool]:
    """Test one payload value: a geo point strictly inside the box (which may cross the anti-meridian)."""
    crosses_antimeridian = top_left_lon > bottom_right_lon

    def within_box(value: Any) -> bool:
        if not is_geo_point(value):
            return False
        lat, lon = value["lat"], value["lon"]
        if crosses_antimeridian:
            lon_inside = lon > top_left_lon or lon < bottom_right_lon
        else:
            lon_inside = top_left_lon < lon < bottom_right_lon
        return bool(lon_inside and top_left_lat > lat > bottom_right_lat)

    return within_box


def polygon_predicate(exterior: Ring, interiors: list[Ring]) -> Callable[[Any], bool]:
    """Test one payload value: a geo point inside the exterior ring and in none of the holes.

    Rings are ``(lat, lon)`` tuples; a repeated closing point is dropped, as local mode does. A point
    exactly on the exterior's edge is outside, and one on a hole's edge is inside the hole (so also
    outside), as in local mode.
    """
    exterior = _open_ring(exterior)
    holes = [_open_ring(ring) for ring in interiors]

    def within_polygon(value: Any) -> bool:
        if not is_geo_point(value):
            return False
        point = (value["lat"], value["lon"])
        if not _in_ring(point, exterior, ignore_boundary=True):
            return False
        return not any(_in_ring(point, hole, ignore_boundary=False) for hole in holes)

    return within_polygon


def _open_ring(ring: Ring) -> Ring:
    if ring[0][0] == ring[-1][0] and ring[0][1] == ring[-1][1]:
        return ring[:-1]
    return ring


def _in_ring(point: tuple[float, float], ring: Ring, ignore_boundary: bool) -> bool:
    """Even-odd ray test (local geo.in_ring); a point on an edge gives ``not ignore_boundary``."""
    inside = False
    px, py = point
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        on_boundary = (
            (py * (xi - xj) + yi * (xj - px) + yj * (px - xi) == 0)
            and ((xi - px) * (xj - px) <= 0)
            and ((yi - py) * (yj - py) <= 0)
        )
        if on_boundary:
            return not ignore_boundary
        if ((yi > py) != (yj > py)) and (px < (xj - xi) * (py - yi) / (yj - yi) + xi):
            inside = not inside
        j = i
    return inside


# --------------------------------------------------------------------------------------------------
# Batch versions: the same predicates over arrays of finite coordinates (degrees), for many points.


def radius_points_test(center_lon: float, center_lat: float, radius: float) -> PointsTest:
    """Batch :func:`radius_predicate`: haversine in numpy, boundary cases recomputed with math."""
    center_lon_rad, center_lat_rad = math.radians(center_lon), math.radians(center_lat)
    cos_center = math.cos(center_lat_rad)

    def within_radius(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        dlon = center_lon_rad - np.radians(lons)
        dlat = center_lat_rad - np.radians(lats)
        a = np.sin(dlat / 2) ** 2 + np.cos(np.radians(lats)) * cos_center * np.sin(dlon / 2) ** 2
        distance = MEAN_EARTH_RADIUS * (2 * np.arcsin(np.minimum(1.0, np.sqrt(a))))
        result = distance < radius
        close = np.abs(distance - radius) <= _RADIUS_MARGIN * abs(radius)
        for i in np.flatnonzero(close).tolist():
            result[i] = geo_distance(float(lons[i]), float(lats[i]), center_lon, center_lat) < radius
        return result

    return within_radius


def bounding_box_points_test(
    top_left_lon: float, top_left_lat: float, bottom_right_lon: float, bottom_right_lat: float
) -> PointsTest:
    """Batch :func:`bounding_box_predicate` (comparisons only, so exact in numpy)."""
    crosses_antimeridian = top_left_lon > bottom_right_lon

    def within_box(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        if crosses_antimeridian:
            lon_inside = (lons > top_left_lon) | (lons < bottom_right_lon)
        else:
            lon_inside = (top_left_lon < lons) & (lons < bottom_right_lon)
        return lon_inside & (top_left_lat > lats) & (lats > bottom_right_lat)

    return within_box


def polygon_points_test(exterior: Ring, interiors: list[Ring]) -> PointsTest:
    """Batch :func:`polygon_predicate`: the ring walk vectorised over points, same arithmetic order."""
    exterior = _open_ring(exterior)
    holes = [_open_ring(ring) for ring in interiors]

    def within_polygon(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        result = _in_ring_points(lats, lons, exterior, ignore_boundary=True)
        for hole in holes:
            if not result.any():
                break
            result &= ~_in_ring_points(lats, lons, hole, ignore_boundary=False)
        return result

    return within_polygon


def _in_ring_points(px: np.ndarray, py: np.ndarray, ring: Ring, ignore_boundary: bool) -> np.ndarray:
    """Vectorised :func:`_in_ring`: a point's first boundary edge decides it, else the parity."""
    inside = np.zeros(px.shape, dtype=bool)
    decided = np.zeros(px.shape, dtype=bool)
    verdict = np.zeros(px.shape, dtype=bool)
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        on_boundary = (
            (py * (xi - xj) + yi * (xj - px) + yj * (px - xi) == 0)
            & ((xi - px) * (xj - px) <= 0)
            & ((yi - py) * (yj - py) <= 0)
            & ~decided
        )
        verdict[on_boundary] = not ignore_boundary
        decided |= on_boundary
        if yi != yj:  # otherwise the crossing test is false (and would divide by zero)
            crosses = ((yi > py) != (yj > py)) & (px < (xj - xi) * (py - yi) / (yj - yi) + xi)
            inside ^= crosses & ~decided
        j = i
    return np.where(decided, verdict, inside)
