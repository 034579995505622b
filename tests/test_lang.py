"""Every command's words come in English and Chinese (`--lang zh`): each phrase table has both,
with the same placeholders, so a Chinese line never lacks a number its English line shows; and the
reports of `shequ check` and `shequ calibrate` in Chinese (the English ones are tested with their
commands)."""

import argparse
import importlib
import re
import string
import types

import numpy as np
import pytest

from analysis import calibrate, facts, validation
from analysis import targets as published

TABLES = ["analysis.calibrate", "analysis.compare", "analysis.discover", "analysis.optimise",
          "analysis.report", "analysis.sensitivity", "analysis.validation", "sim.batch.cli"]
LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
PLURALS = {"s", "es"}  # English plural endings, which Chinese does not need


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("module", TABLES)
def test_every_phrase_has_both_languages_with_the_same_placeholders(module):
    words = importlib.import_module(module).WORDS
    for key, pair in words.items():
        assert isinstance(pair, tuple) and len(pair) == 2, key
        en, zh = pair
        if isinstance(en, tuple):  # a row of column names
            assert len(en) == len(zh), key
            continue
        assert fields(en) - PLURALS == fields(zh), key
        assert not en or zh, key  # an English text has its Chinese one


def chinese_prose(text: str) -> list[str]:
    """English words left in a Chinese text, outside code spans, file paths, variant names and
    the few names kept as they are (Student t, J, p, n, sd)."""
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"[\w./-]+\.(py|toml|md|csv|json)\b", "", text)
    kept = {"Student", "Shequ", "scipy", "humanrights", "tangshan", "CGTN", "SEED", "FACTS",
            "validation"}  # the last: the experiment's name
    kept |= {v for v in validation.RELATION} | {f.variant for f in facts.FACTS}
    kept |= {f.baseline for f in facts.FACTS}
    names = {w for v in kept for w in re.split(r"[-\s]", v)}
    return [w for w in LATIN_WORD.findall(text) if w not in names | kept]


# ---- shequ check ---------------------------------------------------------------------------------
def made(**more) -> dict:
    return {"command": "shequ check --lang zh", "date": "2026-12-01", "version": "0",
            "experiment": "x", "name": "validation", "replications": 20, "variants": 7,
            "seed": 1, "scale": 0.01, "days": 365, "warmup": 4, "results": "r"} | more


def facts_table(holds: bool):
    import pandas as pd

    return pd.DataFrame([{"fact": f.fact, "statement": f.statement, "baseline": f.baseline,
                          "variant": f.variant, "class": f.cls, "measure": f.measure,
                          "expected": "lower" if f.sign < 0 else "higher", "difference": 0.1,
                          "ci_low": 0.05, "ci_high": 0.2, "n": 20, "holds": holds}
                         for f in facts.FACTS])


def test_the_validation_report_in_chinese_has_every_part_and_no_english_prose():
    from test_validation import plant, synthetic

    table = validation.evaluate(plant(synthetic(), "more-money", "resolved_share", -0.01))
    summary = synthetic()
    full = summary[summary["variant"] == validation.BASELINE].groupby("class")[
        list(validation.SCALE_OUTCOMES)].mean()
    text = "\n".join([*validation.header(made(), ["part facts", "part properties"], "zh"),
                      validation.markdown(table, made(), "zh"),
                      *validation.facts_section(facts_table(True), made(), "zh"),
                      *validation.scale_section(validation.scale_table(summary, full), made(),
                                                "zh")])
    assert text.startswith("# 模型验证\n")
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads == ["## 蜕变性质", "## 利特尔法则", "## 典型事实", "## 缩放比例的稳定性"]
    assert "**24 项断言的性质中有 1 项不成立：**more-money 的 `resolved_share`" in text
    assert "已解决（占全部产生的诉求）（`resolved_share`）（下降）" in text  # label beside code
    assert all(f.zh[0] in text for f in facts.FACTS)
    assert chinese_prose(text) == []
    # the same tables, row for row, as the English report
    english = validation.markdown(table, made())
    assert ([line.count("|") for line in english.splitlines() if line.startswith("|")]
            == [line.count("|") for line in validation.markdown(table, made(), "zh").splitlines()
                if line.startswith("|")])


def test_a_chinese_check_says_in_chinese_what_holds_and_what_fails(capsys):
    from pathlib import Path

    from test_validation import plant, synthetic

    table = validation.evaluate(plant(synthetic(), "more-money", "resolved_share", -0.01))
    code = validation.verdict(table, Path("v.md"), facts_table(False), "zh")
    out, err = capsys.readouterr()
    assert code == 1
    assert "24 项断言的性质中 23 项成立；已写入 v.md" in out
    assert f"{len(facts.FACTS)} 项典型事实中 0 项成立" in out
    assert err.count("不成立：典型事实") == len(facts.FACTS)
    assert "不成立：more-money（每一类社区的经费都增加" in err


def test_an_english_calibration_in_a_chinese_report_says_so(tmp_path):
    english = tmp_path / "en.md"
    english.write_text("# Calibration to x\n\n## Fitted targets\n", encoding="utf-8")
    chinese = tmp_path / "zh.md"
    chinese.write_text("# 校准：拟合西宁公布的数据\n\n## 拟合目标\n", encoding="utf-8")
    kept = validation.calibration_section(english, "zh")
    assert kept[0] == "## 校准" and "### Fitted targets" in kept
    assert any("这份校准报告是英文的" in line for line in kept)
    own = validation.calibration_section(chinese, "zh")
    assert "### 拟合目标" in own and not any("英文" in line for line in own)
    assert not any("英文" in line for line in validation.calibration_section(english, "en"))


# ---- shequ calibrate -----------------------------------------------------------------------------
def fake_fit(lang: str):
    """The report's inputs, made up: every fitted target met but the hotline's contacts, one
    held-out figure outside its interval."""
    figures = published.load()
    targets = published.with_role(figures, "fitted")
    held = published.with_role(figures, "held_out")
    n = len(calibrate.PARAMETERS)
    means = {t.measure: t.value for t in figures.values() if t.measure}
    fit = types.SimpleNamespace(targets=targets, best={"x": np.ones(n), "means": means,
                                                       "distance": 2.0},
                                history=[{"distance": 9.0}] * 5)
    spread = {"se": np.full(n, 0.1), "low": np.full(n, 0.8), "high": np.full(n, 1.2),
              "identified": [True] * n, "p": 0.2, "dof": 1, "j": 1.6,
              "singular_values": [4.0, 3.0, 2.0, 1.0]}
    check = {k: {"target": t.value, "mean": t.value, "low": t.value, "high": t.value,
                 "agrees": k != "hotline_contacts", "allowed": 1.0, "inside": True}
             for k, t in targets.items()}
    held_check = {k: {"published": t.value, "mean": t.value, "low": 0.0, "high": t.value * 2,
                      "side": t.side, "inside": k != "hotline_property_calls"}
                  for k, t in held.items()}
    args = argparse.Namespace(scale=0.1, replications=3, evaluations=40, verify_scale=1.0,
                              verify_replications=4, draws=10, warmup_years=None, days=365,
                              workers=2, lang=lang)
    return args, fit, spread, check, means, held_check, figures


def test_the_calibration_report_in_chinese_uses_the_targets_chinese_columns():
    args, fit, spread, check, means, held_check, figures = fake_fit("zh")
    text = calibrate.report_text(args, {}, fit, spread, check, means, held_check, figures, 60.0)
    assert text.startswith("# 校准：")  # what `shequ check --calibration` recognises
    assert "--lang zh" in text.splitlines()[2]
    for t in figures.values():
        assert t.source_zh and t.said("source", "zh") == t.source_zh
        if t.role in ("fitted", "held_out", "band"):
            assert t.source_zh in text, t.name
        if t.role in ("default", "implied", "outside"):
            assert t.note_zh in text, t.name
    assert "留出数据中落在预测区间之外的：3 个中 1 个（`hotline_property_calls`）" in text
    assert chinese_prose(text) == []
    english = calibrate.report_text(*fake_fit("en")[:1], {}, *fake_fit("en")[1:], 60.0)
    assert [line.count("|") for line in english.splitlines()] == \
        [line.count("|") for line in text.splitlines()]


def test_a_targets_file_without_chinese_columns_shows_the_english_ones(tmp_path):
    shipped = published.default_path().read_text(encoding="utf-8").splitlines()
    rows = [",".join(published.COLUMNS)]
    import csv

    for row in list(csv.reader(shipped))[1:]:
        rows.append(",".join(f'"{c}"' for c in row[:len(published.COLUMNS)]))
    plain = tmp_path / "targets.csv"
    plain.write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = published.load(plain)
    assert loaded.keys() == published.load().keys()
    t = loaded["hotline_contacts"]
    assert t.source_zh == "" and t.said("source", "zh") == t.source == "seed 000: 843 calls + " \
        "56 online messages"
