"""Issue 16.5: digits inside names measure nothing, TeX is rendered as text in claims (the
verbatim quote is kept), and the claims table's confidence says what it is the confidence of."""

from __future__ import annotations

from agents.claim_extractor import is_measurable, quantities, source_candidates
from agents.plain import plain
from agents.reporter import confidence_text
from memory.models import DocVerdict, Facets, Paper, Verification

FLASH = (
    "In this paper, we introduce Flash-VL 2B, a novel approach to optimizing Vision-Language "
    "Models (VLMs) for real-time applications, targeting ultra-low latency and high throughput "
    "without sacrificing accuracy."
)
MARC = (
    "Experiments on six video benchmarks show that MARC achieves near-baseline accuracy using "
    r"only one frame's tokens -- reducing visual tokens by \textbf{95\%}, GPU memory by "
    r"\textbf{72\%}, and latency by \textbf{23.9\%}."
)


def test_digits_inside_names_do_not_make_a_claim_measurable() -> None:
    assert not is_measurable(FLASH)
    assert quantities("GPT-4 and ResNet-50 on CIFAR-100 with top-2 routing.") == []
    assert quantities("Qwen2.5-VL 72B is strong.") == []
    assert quantities("Our 2B model reaches 61.2% accuracy.") == [(2.0, "B"), (61.2, "%")]
    assert is_measurable("SMoES achieves a 10.3% reduction in TTFT on MMMU.")


def test_tex_is_rendered_in_claims_and_the_quote_stays_verbatim() -> None:
    assert plain(MARC).endswith(
        "reducing visual tokens by 95%, GPU memory by 72%, and latency by 23.9%."
    )
    assert plain(r"a $1.88\times$ speed-up and $\sim$2x") == "a 1.88× speed-up and ~2x"
    assert plain(r"as in~\cite{x} we gain 3.5\% (Table~\ref{t})") == "as in we gain 3.5% (Table)"
    paper = Paper(arxiv_id="2510.07915", title="MARC: Token Compression", abstract=MARC)
    facets = Facets(entity=["MARC"], metric=["latency"])
    claims, _ = source_candidates("How much latency does MARC save?", facets, paper, True)
    (claim,) = claims
    assert claim.quote == MARC and "\\textbf" not in claim.text and "23.9%" in claim.text


def test_the_confidence_column_names_its_verdict() -> None:
    nei = DocVerdict(doc_id="2", label="NOT_ENOUGH_INFO", confidence=0.91)
    support = DocVerdict(doc_id="3", label="SUPPORT", confidence=0.76)
    unverified = Verification(
        claim_id="C1", status="unverified", confidence=0.0, method="t", evidence=[nei]
    )
    verified = Verification(
        claim_id="C2", status="verified", confidence=0.76, method="t", evidence=[nei, support]
    )
    assert confidence_text(unverified) == "no source decides (NEI 0.91)"
    assert confidence_text(verified) == "support 0.76"
    assert confidence_text(None) == "not checked"
