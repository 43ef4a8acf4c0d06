"""Make this repository's custom_components the one Home Assistant finds.

pytest-homeassistant-custom-component ships a ``custom_components`` package of
its own; importing ours first (before any plugin does) keeps it out of the way.
"""

import custom_components  # noqa: F401
