"""Tiers, quality dimensions and verification levels: defined here once, so the manifest, the
report pages and the About page cannot disagree about what a label means."""

from __future__ import annotations

from dataclasses import dataclass, field

QUARANTINE_BELOW = 5.0
REVIEWED_AT = 6.5
SOURCE_GROUNDED_AT = 8.0
GROUNDED_SHARE = 0.5


@dataclass(frozen=True)
class TierRule:
    name: str
    rule: str
    basis: str  # sentence shown beside the tier; {…} fields are filled from the run


TIERS: tuple[TierRule, ...] = (
    TierRule(
        "Source-grounded",
        f"review score ≥ {SOURCE_GROUNDED_AT}, at least {GROUNDED_SHARE:.0%} of claims verified "
        "against other sources, and no contradicted claim",
        "Review score is {score:.2f}/10 and {grounded} of {claims} claims are verified against "
        "other sources with none contradicted; the synthesis can be read with its evidence links.",
    ),
    TierRule(
        "Reviewed synthesis",
        f"review score ≥ {REVIEWED_AT} and at least one claim verified against another source",
        "Review score is {score:.2f}/10 and {grounded} of {claims} claims are verified against "
        "other sources; check the unverified claims before relying on them.",
    ),
    TierRule(
        "Provisional",
        f"review score ≥ {QUARANTINE_BELOW} but not meeting the tiers above",
        "Review score is {score:.2f}/10 with {grounded} of {claims} claims verified against "
        "other sources; treat the synthesis as a reading list, not as findings.",
    ),
    TierRule(
        "Quarantine candidate",
        f"review score < {QUARANTINE_BELOW}",
        "Review score is below 5.0; source-level inspection is required before relying on the "
        "synthesis.",
    ),
)
TIER_NAMES = tuple(t.name for t in TIERS)


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    rule: str


VERIFICATION_LEVELS: tuple[Level, ...] = (
    Level("L1", "Literature synthesis", "no claim is verified against a source other than its own"),
    Level(
        "L2",
        "Partially source-grounded",
        f"some, but fewer than {GROUNDED_SHARE:.0%}, of the claims are verified against other "
        "sources",
    ),
    Level(
        "L3",
        "Source-grounded",
        f"at least {GROUNDED_SHARE:.0%} of the claims are verified against other sources and "
        "none is contradicted",
    ),
    Level(
        "L4",
        "Fully source-grounded",
        "every claim is verified against at least one other source and none is contradicted",
    ),
)

PROVENANCE_LEVELS: tuple[Level, ...] = (
    Level("L1", "Internal run record", "the run is recorded locally; no artifact is published"),
    Level(
        "L2",
        "Public artifact record",
        "the report, its manifest and its provenance are published with sha256 digests",
    ),
    Level("L3", "Registered external record", "the report is also registered externally (DOI)"),
)

DIMENSIONS: dict[str, str] = {
    "evidence_strength": "Evidence strength",
    "uncertainty_disclosure": "Uncertainty disclosure",
    "reproducibility": "Reproducibility status",
}
DIMENSION_RULES: dict[str, str] = {
    "evidence_strength": "HIGH when ≥ 60% of claims are source-grounded with mean verification "
    "confidence ≥ 0.6; MEDIUM when ≥ 25% are; LOW otherwise (or when there are no claims).",
    "uncertainty_disclosure": "Four checks: every claim has a verification record with a "
    "confidence; facet coverage is recorded and every uncovered facet says why; reviewers "
    "recorded concerns or summaries; contradictions and value conflicts are listed. "
    "HIGH = 4 pass, MEDIUM = 2–3, LOW = 0–1.",
    "reproducibility": "Four checks: every source has version, url, retrieving query and time; "
    "the embedding model and verifier ids are recorded; the report artifact has a sha256; no "
    "fallback or error event is recorded. HIGH = 4 pass, MEDIUM = 2–3, LOW = 0–1.",
}


@dataclass(frozen=True)
class ClaimFacts:
    """What the quality rules need to know about one claim."""

    claim_id: str
    status: str  # verified | contradicted | unverified
    confidence: float
    grounded: bool  # verified with SUPPORT from a document other than the claim's own source


@dataclass
class Quality:
    tier: str
    basis: str
    level: Level
    provenance_level: Level
    dimensions: dict[str, str]
    checks: dict[str, dict[str, bool]] = field(default_factory=dict)
    grounded_claims: int = 0
    contradicted_claims: int = 0


def checks_grade(checks: dict[str, bool]) -> str:
    passed = sum(checks.values())
    return "HIGH" if passed == len(checks) else "MEDIUM" if passed >= 2 else "LOW"


def tier_for(score: float, claims: list[ClaimFacts]) -> tuple[str, str]:
    grounded = sum(c.grounded for c in claims)
    contradicted = sum(c.status == "contradicted" for c in claims)
    share = grounded / len(claims) if claims else 0.0
    if score < QUARANTINE_BELOW:
        rule = TIERS[3]
    elif score >= SOURCE_GROUNDED_AT and share >= GROUNDED_SHARE and contradicted == 0:
        rule = TIERS[0]
    elif score >= REVIEWED_AT and grounded >= 1:
        rule = TIERS[1]
    else:
        rule = TIERS[2]
    return rule.name, rule.basis.format(score=score, grounded=grounded, claims=len(claims))


def verification_level(claims: list[ClaimFacts]) -> Level:
    grounded = sum(c.grounded for c in claims)
    contradicted = sum(c.status == "contradicted" for c in claims)
    if not claims or grounded == 0:
        return VERIFICATION_LEVELS[0]
    if grounded == len(claims) and contradicted == 0:
        return VERIFICATION_LEVELS[3]
    if grounded / len(claims) >= GROUNDED_SHARE and contradicted == 0:
        return VERIFICATION_LEVELS[2]
    return VERIFICATION_LEVELS[1]


def evidence_strength(claims: list[ClaimFacts]) -> str:
    if not claims:
        return "LOW"
    grounded = [c for c in claims if c.grounded]
    share = len(grounded) / len(claims)
    mean_conf = sum(c.confidence for c in grounded) / len(grounded) if grounded else 0.0
    if share >= 0.6 and mean_conf >= 0.6:
        return "HIGH"
    return "MEDIUM" if share >= 0.25 else "LOW"


def assess(
    score: float,
    claims: list[ClaimFacts],
    disclosure_checks: dict[str, bool],
    reproducibility_checks: dict[str, bool],
    published_artifacts: bool,
) -> Quality:
    """The whole quality block of one report, from facts computed out of the run."""
    tier, basis = tier_for(score, claims)
    return Quality(
        tier=tier,
        basis=basis,
        level=verification_level(claims),
        provenance_level=PROVENANCE_LEVELS[1 if published_artifacts else 0],
        dimensions={
            "evidence_strength": evidence_strength(claims),
            "uncertainty_disclosure": checks_grade(disclosure_checks),
            "reproducibility": checks_grade(reproducibility_checks),
        },
        checks={
            "uncertainty_disclosure": disclosure_checks,
            "reproducibility": reproducibility_checks,
        },
        grounded_claims=sum(c.grounded for c in claims),
        contradicted_claims=sum(c.status == "contradicted" for c in claims),
    )
