"""pipeline-docs: the documentation site of a GitOps delivery pipeline, built from the pipeline."""

from .collect import collect
from .config import Config, ConfigError, load_config
from .generate import generate
from .model import Finding, Model, Severity

__all__ = [
    "Config",
    "ConfigError",
    "Finding",
    "Model",
    "Severity",
    "collect",
    "generate",
    "load_config",
]
