"""Settings: `config/hotline.yaml` defaults, a `HOTLINE_CONFIG` overlay, `HOTLINE_*` variables.

    schema     the sections and `Settings` (with the checks that span sections)
    reference  the county's reference data: departments, categories, subjects, legacy lines
               (routing, SLA and the calendar are dispatch's: `dispatch.config`)
    loading    files and variables merged, validated, and every problem worded for the operator
    secret     the session/CSRF key, generated once when HOTLINE_SECRET_KEY is unset
"""

from hotline.settings.loading import (
    DEFAULT_CONFIG,
    PACKAGE_ROOT,
    load_settings,
    read_section,
    section_problems,
)
from hotline.settings.reference import ConfigModel, Department, LegacyLine, Subject
from hotline.settings.schema import Settings
from hotline.settings.secret import ensure_secret_key

__all__ = ["DEFAULT_CONFIG", "PACKAGE_ROOT", "ConfigModel", "Department", "LegacyLine", "Settings", "Subject",
           "ensure_secret_key", "load_settings", "read_section", "section_problems"]
