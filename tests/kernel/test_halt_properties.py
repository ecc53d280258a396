"""Property tests (hypothesis) for the halt kernel, including a naive reference of the spec."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from haltguard.kernel import HaltConfig, HaltKernel, Release
from haltguard.kernel.golden import encode_event

# Values near thresholds (dyadic, so ties are exact) mixed with arbitrary floats.
SCORES = st.one_of(
    st.sampled_from([0.0, 0.125, 0.25, 0.375, 0.5, 0.55, 0.6, 0.625, 0.75, 0.875, 1.0]),
    st.floats(min_value=0.0, max_value=1.0),
)
BAD = st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.5, 1.5])
TOKENS = st.text(alphabet="ab .!?\n", min_size=1, max_size=4)

CONFIGS = st.builds(
    lambda hard, w, t, soft, release, soft_mode, every: HaltConfig.from_dict(
        {
            "hard_limit": hard,
            "window": w,
            "trend": t,
            "soft_limit": soft,
            "release": release,
            "soft_mode": {"enabled": soft_mode, "max_wait_tokens": 3},
            "cadence": {"mode": "every_n", "every": every},
        }
    ),
    st.sampled_from([0.0, 0.25, 0.5]),
    st.one_of(st.none(), st.fixed_dictionaries({"size": st.integers(1, 6), "threshold": st.sampled_from([0.25, 0.5, 0.55])})),
    st.one_of(st.none(), st.fixed_dictionaries({"size": st.integers(2, 6), "max_drop": st.sampled_from([0.0, 0.125, 0.25])})),
    st.one_of(st.none(), st.sampled_from([0.5, 0.6, 0.75])),
    st.sampled_from(["hold_back", "optimistic"]),
    st.booleans(),
    st.integers(1, 3),
)


@st.composite
def streams(draw, allow_bad=False):
    steps = []
    for _ in range(draw(st.integers(0, 40))):
        steps.append(("t", draw(TOKENS)))
        if draw(st.booleans()):
            steps.append(("s", draw(st.one_of(SCORES, BAD) if allow_bad else SCORES)))
    return steps


def drive(cfg, steps):
    k = HaltKernel(cfg)
    log = []  # (event, tokens pushed, scored position at the time)
    for op, val in steps:
        evs = k.push_token(val) if op == "t" else k.push_score(val)
        log += [(e, k.token_count) for e in evs]
    k.close()
    return k, log, k.finish()


@settings(max_examples=300, deadline=None)
@given(CONFIGS, streams(allow_bad=True))
def test_no_release_after_a_halt(cfg, steps):
    _, log, rec = drive(cfg, steps)
    kinds = [e.kind for e, _ in log]
    if "halt" in kinds:
        assert kinds.count("halt") == 1
        assert "release" not in kinds[kinds.index("halt") + 1 :]
        assert rec.halted
        assert len(rec.released_text) <= sum(len(e.text) for e, _ in log if isinstance(e, Release))


@settings(max_examples=300, deadline=None)
@given(CONFIGS.filter(lambda c: c.release == "hold_back"), streams(allow_bad=True))
def test_hold_back_never_releases_an_unscored_token(cfg, steps):
    k = HaltKernel(cfg)
    for op, val in steps:
        before = k.scored_upto
        evs = k.push_token(val) if op == "t" else k.push_score(val)
        for e in evs:
            if isinstance(e, Release):
                assert op == "s", "a token push released text in hold-back mode"
                assert e.end <= k.scored_upto and e.start >= 0
                assert e.end > before or e.end <= k.scored_upto


@settings(max_examples=200, deadline=None)
@given(CONFIGS, streams(allow_bad=True))
def test_identical_input_identical_output(cfg, steps):
    a = drive(cfg, steps)
    b = drive(cfg, steps)
    assert [encode_event(e) for e, _ in a[1]] == [encode_event(e) for e, _ in b[1]]
    assert a[2].to_dict(timings=False) == b[2].to_dict(timings=False)


@settings(max_examples=200, deadline=None)
@given(CONFIGS, streams(), st.integers(0, 40), st.sampled_from([float("nan"), float("inf"), -1.0, 2.0]))
def test_any_invalid_score_halts(cfg, steps, where, bad):
    k = HaltKernel(cfg)
    for op, val in steps[:where] + [("t", "x")]:
        k.push_token(val) if op == "t" else k.push_score(val)
    halted_before = k.halted
    k.push_score(bad)
    rec = k.finish()
    assert rec.halted
    if not halted_before:
        assert rec.reason.value == "invalid_score" and not rec.soft


def reference(cfg: HaltConfig, pairs):
    """The spec, written naively: every token scored, hold-back, no soft mode."""
    out, hist = [], []
    for i, (tok, s) in enumerate(pairs):
        if not (isinstance(s, float) and 0.0 <= s <= 1.0):
            return out + [["H", "invalid_score", i, False, None, None]]
        hist.append(s)
        if s < cfg.hard_limit:
            return out + [["H", "hard_limit", i, False, None, None]]
        if cfg.soft_limit is not None and s < cfg.soft_limit:
            out.append(["W", "soft_limit", i + 1])
        if cfg.window and len(hist) >= cfg.window.size and math.fsum(hist[-cfg.window.size:]) / cfg.window.size < cfg.window.threshold:
            return out + [["H", "window_mean", i, False, None, None]]
        if cfg.trend and len(hist) >= cfg.trend.size:
            n = cfg.trend.size
            ys = hist[-n:]
            xbar = (n - 1) / 2
            sxx = n * (n * n - 1) / 12
            drop = -math.fsum((x - xbar) * y for x, y in enumerate(ys)) * ((n - 1) / sxx)
            if drop > cfg.trend.max_drop:
                return out + [["H", "trend_drop", i, False, None, None]]
        out.append(["R", i, i + 1, tok])
    return out


@settings(max_examples=500, deadline=None)
@given(
    CONFIGS.map(lambda c: HaltConfig.from_dict({**c.to_dict(), "release": "hold_back",
                                                "soft_mode": {"enabled": False, "max_wait_tokens": 3},
                                                "cadence": {"mode": "every_n", "every": 1}})),
    st.lists(st.tuples(TOKENS, st.one_of(SCORES, BAD)), max_size=60),
)
def test_kernel_matches_naive_reference(cfg, pairs):
    k = HaltKernel(cfg)
    got = []
    for tok, s in pairs:
        got += [encode_event(e) for e in k.push_token(tok)]
        got += [encode_event(e) for e in k.push_score(s)]
        if k.halted:
            break
    assert got == reference(cfg, pairs)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30), st.integers(1, 5))
def test_optimistic_and_hold_back_agree_on_what_stands(scores, every):
    """Same tokens and scores: what stands after retraction equals what hold-back released."""
    base = {"cadence": {"mode": "every_n", "every": every}}
    results = []
    for release in ("hold_back", "optimistic"):
        k = HaltKernel(HaltConfig.from_dict({**base, "release": release}))
        for i, s in enumerate(scores):
            k.push_token(f"t{i} ")
            k.push_score(s)
        results.append(k.finish())
    hb, op = results
    assert hb.halted == op.halted and hb.reason == op.reason
    assert hb.released_text == op.released_text
