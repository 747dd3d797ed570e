"""Every module that declares tables on `Base`, imported so the metadata is complete.

Later modules (telephony, channels, dispatch) add their model modules here.
"""

from __future__ import annotations

import importlib

MODEL_MODULES = [
    "hotline.storage.models",
    "channels.models",
    "dispatch.models",
    "hotline.telephony.models",
]


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
