"""The city table (`knowledge/tips/_cities.yaml`): read through the one data-file reader."""

from __future__ import annotations

from pathlib import Path

from bot.coach.tips.timezones import load_city_zones


def test_a_bad_city_is_reported_with_its_line_and_the_rest_still_load(tmp_path: Path) -> None:
    path = tmp_path / "_cities.yaml"
    path.write_text("cities:\n  北京: Asia/Shanghai\n  火星: Mars/Olympus\n  London: Europe/London\n", encoding="utf-8")
    cities, problems = load_city_zones(path)
    assert cities == {"北京": "Asia/Shanghai", "london": "Europe/London"}
    assert problems == ["_cities.yaml: cities.火星: 不是有效的 IANA 时区名：'Mars/Olympus'（第 3 行）"]


def test_a_broken_or_missing_table_leaves_only_iana_names(tmp_path: Path) -> None:
    path = tmp_path / "_cities.yaml"
    path.write_text("cities:\n  北京: [Asia/Shanghai\n", encoding="utf-8")
    cities, problems = load_city_zones(path)
    assert cities == {} and len(problems) == 1 and problems[0].startswith("_cities.yaml: 第 3 行: YAML 格式错误")
    path.write_text("zones:\n  北京: Asia/Shanghai\n", encoding="utf-8")
    assert load_city_zones(path) == ({}, ["_cities.yaml: cities: 需要顶层的 cities: 映射（城市名: 时区）（第 1 行）"])
    assert load_city_zones(tmp_path / "absent.yaml") == ({}, ["absent.yaml: 文件不存在，只能识别 IANA 时区名"])
