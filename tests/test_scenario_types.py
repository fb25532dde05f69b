"""The scenario value types resolve every name they use."""

from __future__ import annotations

import typing

from bot.coach.practice import scenario_types
from bot.coach.practice.scenario_types import ScenarioCatalog
from bot.datafiles import DataFileError


def test_every_annotation_of_the_catalog_resolves() -> None:
    """ScenarioCatalog.errors was typed with a ScenarioError the module never imported (a NameError on resolving)."""
    hints = typing.get_type_hints(ScenarioCatalog)
    (error_type,) = typing.get_args(hints["errors"])
    assert issubclass(error_type, DataFileError)


def test_scenario_error_is_the_one_data_file_error() -> None:
    error = scenario_types.ScenarioError("kickback.yaml", "rubric[2].weight", "应该是整数", 41)
    assert isinstance(error, DataFileError) and isinstance(error, ValueError)
    assert str(error) == "kickback.yaml: rubric[2].weight: 应该是整数（第 41 行）"


def test_every_dataclass_of_the_module_resolves() -> None:
    for name, value in vars(scenario_types).items():
        if isinstance(value, type) and value.__module__ == scenario_types.__name__:
            typing.get_type_hints(value)  # raises NameError on an unimported name
