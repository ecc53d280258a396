"""`haltguard bench nli` on the shipped model: its figures are consistent, whatever the timings are."""

from __future__ import annotations

import math

import pytest

from haltguard.bench import nli
from haltguard.cli import build_parser


@pytest.fixture(scope="module")
def short_bench():
    # short pairs and one run: what the bench computes, not how fast this machine is
    return nli.run(runs=1, lengths=(16, 48), threads=(1,), parity_pairs=9)


def test_times_the_shipped_model_and_the_dynamic_build_at_each_length(short_bench):
    ms = short_bench["ms_per_pair"]
    assert set(ms) == {"int8_16_t1", "int8_48_t1", "int8_dynamic_16_t1", "int8_dynamic_48_t1"}
    assert all(v > 0 and math.isfinite(v) for v in ms.values())
    assert "int8_ms_per_pair_256_1thread" not in short_bench  # no 256-token figure was asked for
    assert short_bench["cpu"]["cores"] >= 1


def test_the_dynamic_build_runs_integer_gemms_and_its_floor_follows_from_its_shares(short_bench):
    info = short_bench["int8_dynamic"]
    assert info["shipped"] is False and info["tokens"] == 48
    shares = info["op_shares_t1"]
    assert abs(sum(shares.values()) - 1) < 0.01
    # a build that quantised nothing would have no integer GEMMs, and the floor would be meaningless
    assert info["integer_gemm_share_t1"] > 0.1 and nli.INTEGER_GEMMS & set(shares)
    assert info["ms_outside_integer_gemms_t1"] == pytest.approx(
        short_bench["ms_per_pair"]["int8_dynamic_48_t1"] * (1 - info["integer_gemm_share_t1"]), abs=0.01)


def test_parity_is_measured_pair_by_pair_against_the_shipped_model(short_bench):
    p = short_bench["int8_dynamic"]["parity_vs_shipped"]
    assert p["pairs"] == 9 and 0 <= p["decision_agreement"] <= 1 and p["threshold"] > 0
    # int8 activations move scores, but a sane build stays near the weights it was made from
    assert 0 < p["max_abs_dprob"] < 0.5


def test_without_the_data_folder_parity_says_why_it_was_skipped(monkeypatch, tmp_path):
    monkeypatch.setenv("HALTGUARD_DATA", str(tmp_path / "absent"))
    assert "not found" in nli._parity(None, b"", 4)["skipped"]


def test_no_dynamic_times_the_shipped_model_only():
    out = nli.run(runs=1, lengths=(8,), threads=(1,), dynamic=False)
    assert set(out["ms_per_pair"]) == {"int8_8_t1"} and "int8_dynamic" not in out


def test_lengths_and_threads_are_parsed_and_checked():
    args = build_parser().parse_args(["bench", "nli", "--lengths", "64,256", "--threads", "1", "--no-dynamic"])
    assert args.lengths == (64, 256) and args.threads == (1,) and args.no_dynamic
    for bad in ("0", "64,x", ","):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["bench", "nli", "--lengths", bad])
        assert exc.value.code == 2
