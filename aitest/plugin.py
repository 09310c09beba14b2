"""The pytest plugin: hooks only. The engine lives below and is imported when a spec is found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aitest.config import Config, load_config
from aitest.errors import ConfigError

CONFIG_KEY = pytest.StashKey[Config]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aitest: a behavior case from an aitest YAML spec")
    try:
        config.stash[CONFIG_KEY] = load_config(config.rootpath)
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix not in (".yaml", ".yml") or not parent.config.stash[CONFIG_KEY].is_spec_file(file_path):
        return None
    from aitest.items import SpecFile

    return SpecFile.from_parent(parent, path=file_path)
