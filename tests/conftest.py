"""Shared pytest setup: hypothesis profiles.

Two profiles, chosen once for the whole run:

* ``ci`` (when the ``CI`` environment variable is set): ``derandomize=True`` so every CI run draws the
  same examples and a red build can be replayed locally with ``CI=1 pytest ...``.
* ``dev`` (otherwise): random examples, remembered in the local ``.hypothesis`` database so a failure
  found once is retried first on the next run.

Neither profile sets ``max_examples``: each test picks its own budget so the default run stays short,
and ``HYPOTHESIS_PROFILE=<name>`` still wins when set explicitly.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Deadlines would make timing noise on a busy 2-core CI box look like test failures.
_COMMON = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])

settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("dev", **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
