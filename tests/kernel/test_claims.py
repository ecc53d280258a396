from haltguard.kernel.claims import evidence_windows, judge_claim
from haltguard.kernel.heuristic import CONTRADICTION_CAP


def test_windows_are_sentences_and_adjacent_pairs():
    assert evidence_windows("A is b. C is d. E is f.") == ["A is b.", "C is d.", "E is f.", "A is b. C is d.", "C is d. E is f."]
    assert evidence_windows("Just one") == ["Just one"]


def test_best_window_is_evidence_and_number_conflict_caps():
    windows = [(0, "It opened in 1889."), (1, "It is in Paris.")]
    ok = judge_claim("It is in Paris.", windows, [0.1, 0.9], 0.5)
    assert ok["verdict"] == "supported" and ok["evidence"]["fact_index"] == 1 and ok["support"] == 0.9
    bad = judge_claim("It opened in 1925.", windows, [0.8, 0.2], 0.5)
    assert bad["verdict"] == "contradicted" and bad["support"] == CONTRADICTION_CAP
    assert bad["contradiction"]["numbers"] == ["1925"]
    weak = judge_claim("It is loved by many.", windows, [0.2, 0.3], 0.5)
    assert weak["verdict"] == "unsupported" and weak["contradiction"] is None
    assert judge_claim("x", [], [], 0.5)["verdict"] == "unsupported"
