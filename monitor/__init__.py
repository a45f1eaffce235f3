"""News monitor for labour migration in Kazakhstan.

Pipeline stages, one module each: sources -> fetch -> parse -> extract -> store -> compare ->
notify / publish. The extraction engine (`extract_text`) is driven by the TOML rules in
`rules/` (`load_rules`).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .extract import Extraction, Figure, Status, extract_text
from .patterns import RulesError
from .rules import Rules, load_rules

__all__ = [
    "Extraction",
    "Figure",
    "Rules",
    "RulesError",
    "Status",
    "__version__",
    "extract_text",
    "load_rules",
]
