"""`sovereign eval scifact`, `sovereign eval train-verifier` and `sovereign eval train-stance`."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from memory.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def scifact_dir() -> Path:
    base = os.environ.get("SOVEREIGN_SHARED_DATA")
    return (Path(base) if base else REPO.parent / "shared" / "data") / "scifact"


def _path(given: str | None, default_name: str) -> Path:
    if given:
        return Path(given).expanduser()
    p = scifact_dir() / default_name
    if not p.exists():
        raise UserError(f"{p} not found; pass the file explicitly (--claims / --corpus)")
    return p


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def register(subparsers: Any) -> None:
    ev = subparsers.add_parser(
        "eval", help="benchmarks and training: SciFact claims, SciTab table claims, the stance head"
    )
    sub = ev.add_subparsers(dest="eval_command", metavar="EVAL")

    sf = sub.add_parser("scifact", help="retrieve, verify and score SciFact claims")
    sf.add_argument("--claims", help="claims JSONL (default: shared claims_train.jsonl)")
    sf.add_argument("--corpus", help="corpus JSONL (default: shared corpus.jsonl)")
    sf.add_argument(
        "--verifier",
        action="append",
        help="default | tfidf | llm-judge (repeat to compare; default: tfidf and default)",
    )
    sf.add_argument("--nli", help="NLI slot: exported ONNX pair classifier (file or folder)")
    sf.add_argument("--nli-labels", help="its output labels in order (default: its config.json)")
    sf.add_argument("--limit", type=int, help="first N claims only")
    sf.add_argument("--k", type=int, default=3, help="abstracts verified per claim (default 3)")
    sf.add_argument(
        "--retriever",
        choices=["auto", "hybrid", "bm25", "tfidf"],
        default="auto",
        help="auto: hybrid for default, tfidf for the tfidf baseline",
    )
    sf.add_argument("--json", dest="json_out", help="write metrics and predictions here")
    sf.set_defaults(func=cmd_scifact)

    tr = sub.add_parser("train-verifier", help="build the default verifier's model artifact")
    tr.add_argument("--claims", help="training claims (default: shared claims_train.jsonl)")
    tr.add_argument("--corpus", help="corpus JSONL (default: shared corpus.jsonl)")
    tr.add_argument("--output", help="artifact path (default: the shipped artifact)")
    tr.add_argument(
        "--nli", help="also train on this NLI slot model (exported ONNX pair classifier)"
    )
    tr.add_argument("--nli-labels", help="its output labels in order (default: its config.json)")
    tr.add_argument("--no-stance", action="store_true", help="lexical stance only (no model)")
    tr.set_defaults(func=cmd_train)

    st = sub.add_parser("train-stance", help="train the stance head (MiniLM pair features)")
    st.add_argument("--claims", help="training claims (default: shared claims_train.jsonl)")
    st.add_argument("--corpus", help="corpus JSONL (default: shared corpus.jsonl)")
    st.add_argument("--output", help="JSON path (default: the shipped stance head)")
    st.add_argument("--cv", action="store_true", help="also print the head's grouped-CV figures")
    st.set_defaults(func=cmd_train_stance)
    register_scitab(sub)
    ev.set_defaults(func=lambda args, settings: (ev.print_help(), 2)[1])


def cmd_scifact(args: argparse.Namespace, settings: Any) -> int:
    from agents.verification import get_verifier
    from agents.verification.evaluate import (
        dense_search,
        format_table,
        index_corpus,
        progress,
        run,
        vector_memory,
    )
    from agents.verification.retrieval import HybridRetriever, TfidfRetriever
    from agents.verification.scifact import has_labels, load_claims, load_corpus

    if args.k < 1:
        raise UserError("--k must be at least 1")
    claims_path = _path(args.claims, "claims_train.jsonl")
    corpus = load_corpus(_path(args.corpus, "corpus.jsonl"))
    claims = load_claims(claims_path)
    if args.limit is not None:
        if args.limit < 1:
            raise UserError("--limit must be at least 1")
        claims = claims[: args.limit]
    names = args.verifier or ["tfidf", "default"]
    verifiers = [get_verifier(n, **_verifier_options(n, args, settings)) for n in names]
    trained_on = {str(getattr(v, "meta", {}).get("train_claims_sha256", "")) for v in verifiers} - {
        ""
    }
    if digest(claims_path) in trained_on:
        progress(
            "note: the default verifier was trained on this claims file: its scores here are "
            "training-set scores (see bench/scifact.py for cross-validated ones)"
        )
    results = []
    hybrid: HybridRetriever | None = None
    for name, verifier in zip(names, verifiers, strict=True):
        kind = args.retriever
        if kind == "auto":
            kind = "tfidf" if name == "tfidf" else "hybrid"
        retriever: HybridRetriever | TfidfRetriever
        if kind == "tfidf":
            retriever = TfidfRetriever(corpus)
        elif kind == "bm25":
            retriever = HybridRetriever(corpus)
            retriever.name = "bm25"
        else:
            if hybrid is None:
                memory = vector_memory(settings, corpus)
                index_corpus(memory, corpus)
                hybrid = HybridRetriever(corpus, dense=dense_search(memory, corpus))
            retriever = hybrid
        progress(f"verifying {len(claims)} claims with {name} ({retriever.name} retrieval)")
        results.append(run(claims, corpus, verifier, retriever, k=args.k))
    if has_labels(claims):
        print(format_table(results))
    else:
        print(f"{claims_path} has no gold evidence: predictions only (write them with --json)")
        for r in results:
            print(f"{r.verifier}: {r.claims_per_s:.1f} claims/s")
    if args.json_out:
        out = Path(args.json_out)
        out.write_text(json.dumps([r.as_dict() for r in results], indent=1), encoding="utf-8")
        print(f"wrote {out}")
    return 0


def _verifier_options(name: str, args: argparse.Namespace, settings: Any) -> dict[str, Any]:
    """get_verifier's options for `name`: the tfidf cut-off; the NLI slot for the default and
    the judge (--nli, else the verifier_nli setting); the settings' LLM for the judge."""
    if name == "tfidf":
        return {"threshold": settings.tfidf_threshold}
    opts: dict[str, Any] = {}
    nli = getattr(args, "nli", None) or getattr(settings, "verifier_nli", None)
    if nli:
        opts = {"nli": nli, "nli_labels": getattr(args, "nli_labels", None), "home": settings.home}
    if name == "llm-judge":
        from agents.llm.client import make_llm

        opts["llm"] = make_llm(settings.llm_config())
    return opts


def cmd_train(args: argparse.Namespace, settings: Any) -> int:
    from agents.verification.cache import cache_path
    from agents.verification.dense import SentenceEmbeddings
    from agents.verification.scifact import folds, has_labels, load_claims, load_corpus
    from agents.verification.stance import PairEncoder, PairModelSpec, nli_artifact
    from agents.verification.stance_head import cross_fitted
    from agents.verification.train import build_artifact

    claims_path = _path(args.claims, "claims_train.jsonl")
    claims = load_claims(claims_path)
    if not has_labels(claims):
        raise UserError(f"{claims_path} has no gold evidence: cannot train on it")
    corpus = load_corpus(_path(args.corpus, "corpus.jsonl"))
    output = Path(args.output) if args.output else None
    stance = None
    if not args.no_stance:
        embed = SentenceEmbeddings(cache_path("minilm", settings.home))
        stance = cross_fitted(claims, corpus, folds(claims), embed)
    nli = None
    if args.nli:
        spec = PairModelSpec.from_path(args.nli, args.nli_labels)
        nli = PairEncoder(spec, cache_path("nli", settings.home))
        output = output or nli_artifact(settings.home, spec)
    _, path = build_artifact(
        claims,
        corpus,
        output,
        claims_digest=digest(claims_path),
        embed_cache=cache_path("minilm", settings.home),
        stance_folds=stance,
        nli=nli,
    )
    print(f"wrote {path}")
    return 0


def cmd_train_stance(args: argparse.Namespace, settings: Any) -> int:
    """The shipped stance head from claims_train (deterministic: the same claims, corpus and
    MiniLM give the same file). The verifier's training builds its cross-fitted fold heads
    itself, so run `train-verifier` after this."""
    from agents.verification.cache import cache_path
    from agents.verification.dense import SentenceEmbeddings
    from agents.verification.scifact import folds, has_labels, load_claims, load_corpus
    from agents.verification.stance_head import cv_accuracy, examples, fit_head
    from agents.verification.train import progress

    claims_path = _path(args.claims, "claims_train.jsonl")
    claims = load_claims(claims_path)
    if not has_labels(claims):
        raise UserError(f"{claims_path} has no gold evidence: cannot train on it")
    corpus = load_corpus(_path(args.corpus, "corpus.jsonl"))
    embed = SentenceEmbeddings(cache_path("minilm", settings.home))
    data = examples(claims, corpus)
    progress(f"stance head: {len(data)} examples from {len(claims)} claims")
    if args.cv:
        scores = cv_accuracy(claims, corpus, folds(claims), embed)
        print("grouped 5-fold CV: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    head = fit_head(data, embed, train_claims_sha256=digest(claims_path))
    path = head.save(Path(args.output) if args.output else None)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


# --- SciTab: claims about tables (`sovereign eval scitab`, `sovereign eval train-scitab`) -----


def scitab_claims_path(given: str | None) -> Path:
    """--claims, else the shared SciTab training file (a one-line error if it is absent)."""
    if given:
        return Path(given).expanduser()
    base = os.environ.get("SOVEREIGN_SHARED_DATA")
    p = (Path(base) if base else REPO.parent / "shared" / "data") / "scitab" / "scitab_train.jsonl"
    if not p.exists():
        raise UserError(f"{p} not found; pass a SciTab-format claims file with --claims")
    return p


def register_scitab(sub: Any) -> None:
    st = sub.add_parser("scitab", help="verify and score claims about tables (SciTab)")
    st.add_argument("--claims", help="SciTab-format JSONL (default: shared scitab_train.jsonl)")
    st.add_argument("--verifier", default="default", help="default | rules (default: default)")
    st.add_argument("--model", help="default verifier's artifact (default: the shipped one)")
    st.add_argument(
        "--llm", action="store_true", help="the configured LLM proposes one check per claim"
    )
    st.add_argument("--limit", type=int, help="first N claims only")
    st.add_argument("--json", dest="json_out", help="write metrics and verdicts here")
    st.set_defaults(func=cmd_scitab)

    tr = sub.add_parser("train-scitab", help="build the table verifier's model artifact")
    tr.add_argument("--claims", help="training claims (default: shared scitab_train.jsonl)")
    tr.add_argument("--output", help="artifact path (default: the shipped artifact)")
    tr.add_argument("--cv", action="store_true", help="also print grouped 5-fold CV figures")
    tr.set_defaults(func=cmd_train_scitab)


def _table_verifier(args: argparse.Namespace, settings: Any) -> Any:
    from agents.verification.tables import get_table_verifier

    if args.verifier != "default" and (args.model or args.llm):
        raise UserError("--model and --llm apply to the default table verifier only")
    if args.verifier != "default":
        return get_table_verifier(args.verifier)
    llm = None
    if args.llm:
        from agents.llm.client import make_llm

        llm = make_llm(settings.llm_config())
        if llm is None:
            raise UserError("--llm needs an LLM endpoint: set SOVEREIGN_LLM_BASE_URL")
    return get_table_verifier("default", path=args.model, llm=llm)


def cmd_scitab(args: argparse.Namespace, settings: Any) -> int:
    import sys

    from agents.verification.tables.data import load_claims
    from agents.verification.tables.evaluate import run
    from agents.verification.tables.metrics import format_report
    from agents.verification.tables.train import claims_digest

    claims_path = scitab_claims_path(args.claims)
    claims = load_claims(claims_path)
    if args.limit is not None:
        if args.limit < 1:
            raise UserError("--limit must be at least 1")
        claims = claims[: args.limit]
    verifier = _table_verifier(args, settings)
    trained_on = getattr(verifier, "meta", {}).get("train_claims_sha256")
    if trained_on and trained_on == claims_digest(claims):
        print(
            "note: the table verifier was trained on these claims: these are training-set "
            "scores (bench/scitab.py prints grouped cross-validated ones)",
            file=sys.stderr,
        )
    result = run(verifier, claims)
    if result.report is not None:
        print(format_report(result.report))
    else:
        print(f"{claims_path} is unlabelled: verdicts only (write them with --json)")
        print(f"{verifier.name}: {len(claims)} claims, {result.claims_per_s:.1f} claims/s")
    if args.json_out:
        out = Path(args.json_out)
        out.write_text(json.dumps(result.as_dict(), indent=1), encoding="utf-8")
        print(f"wrote {out}")
    return 0


def cmd_train_scitab(args: argparse.Namespace, settings: Any) -> int:
    from agents.verification.tables.data import has_labels, load_claims
    from agents.verification.tables.metrics import format_report, report
    from agents.verification.tables.train import build, cross_validate, write

    claims_path = scitab_claims_path(args.claims)
    claims = load_claims(claims_path)
    if not has_labels(claims):
        raise UserError(f"{claims_path} has unlabelled claims: cannot train on it")
    if args.cv:
        preds, seconds = cross_validate(claims)
        print(format_report(report("default (grouped 5-fold CV)", claims, preds, seconds)))
    path = write(build(claims), Path(args.output) if args.output else None)
    print(f"wrote {path}")
    return 0
