from memory.models import split_arxiv_id
from memory.text import elide, normalize_for_match, quote_in_source, split_sentences


def test_split_keeps_abbreviations_and_decimals() -> None:
    text = "We reach 3.5 points, e.g. on MMMU.\nThe model\n  is fast. Results hold (see Fig. 2)."
    assert split_sentences(text) == [
        "We reach 3.5 points, e.g. on MMMU.",
        "The model is fast.",
        "Results hold (see Fig. 2).",
    ]


def test_quote_match_ignores_case_space_and_punctuation() -> None:
    src = "SMoES reduces TTFT by 10.3%\n on MMMU, at batch size 1."
    assert quote_in_source("smoes reduces TTFT by 10.3% on MMMU", src)
    assert not quote_in_source("SMoES reduces TTFT by 13.0%", src)
    assert normalize_for_match("Bal\u00e1zs") == "balazs"


def test_elide_cuts_at_word_boundary_only_when_needed() -> None:
    assert elide("short", 10) == "short"
    out = elide("Mixture of experts routing for vision language models", 20)
    assert out.endswith("…") and len(out) <= 20 and " " not in out[-2:]


def test_split_arxiv_id() -> None:
    assert split_arxiv_id("2604.23996v2") == ("2604.23996", 2)
    assert split_arxiv_id("http://arxiv.org/abs/2303.07226v1") == ("2303.07226", 1)
    assert split_arxiv_id("hep-th/0701001") == ("hep-th/0701001", None)
