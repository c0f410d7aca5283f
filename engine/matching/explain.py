"""Why a pair was suggested: structured reasons plus one English sentence built from them.

Problem: every suggested meeting carries a short explanation ("both trade HS 0901 coffee; buyer in
Germany is in the seller's target markets; both speak English"). The notification layer translates
it, so the reasons also come as data: (component, detail) items whose details are codes, never
prose (an HS code, an ISO country or language code, certification names, a similarity).

Rules: request and organizer reasons come first (forced, mutual, must, nice). Then the three
strongest score components by weighted contribution (ties in `SCORE_COMPONENTS` order), leaving out
components that contributed nothing and a certification component when nothing was required. A
missing common language is always said last, as a warning. Within the pair, the supplier is called
"the seller" and the demander "the buyer", also for participants whose role is "both".

Cost: proportional to the pair's codes; called only for selected meetings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources

import pycountry
from babel import Locale

from engine.matching.scoring import SCORE_COMPONENTS
from engine.matching.types import Component, MatchProfile, Weights

TOP_COMPONENTS = 3


@cache
def _hs_names() -> tuple[dict[str, str], dict[str, str]]:
    data = json.loads(resources.files("engine.matching").joinpath("hs_names.json").read_text("utf-8"))
    return dict(data["chapters"]), dict(data["headings"])


def hs_name(code: str) -> str:
    """The English name of an HS code's heading if known, else of its chapter, else ""."""
    chapters, headings = _hs_names()
    return headings.get(code[:4]) or chapters.get(code[:2], "")


@cache  # a few dozen codes, asked for once per meeting: look each up once
def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


@cache
def language_name(code: str) -> str:
    return str(Locale("en").languages.get(code, code))


def best_hs_match(offered: Sequence[str], demanded: Sequence[str]) -> str | None:
    """The code at the deepest level where an offered and a demanded code agree; smallest on ties."""
    best: tuple[int, str] | None = None
    for o in offered:
        for d in demanded:
            depth = min(len(o), len(d))
            while depth > 0 and o[:depth] != d[:depth]:
                depth -= 2
            if depth > 0 and (best is None or (-depth, o[:depth]) < (-best[0], best[1])):
                best = (depth, o[:depth])
    return None if best is None else best[1]


def best_sector_match(offered: Sequence[str], demanded: Sequence[str]) -> str | None:
    """A shared ISIC code, else a shared division (two characters); the smallest such code."""
    exact = sorted(set(offered) & set(demanded))
    if exact:
        return exact[0]
    divisions = sorted({c[:2] for c in offered} & {c[:2] for c in demanded})
    return divisions[0] if divisions else None


def score_reasons(
    supplier: MatchProfile, demander: MatchProfile, components: Sequence[float], weights: Weights
) -> list[tuple[Component, str]]:
    """The strongest score components of a pair, as (component, detail) items."""
    values = dict(zip(SCORE_COMPONENTS, components, strict=True))
    weight = {
        Component.HS: weights.hs,
        Component.SECTOR: weights.sector,
        Component.MARKET: weights.market,
        Component.LANGUAGE: weights.language,
        Component.CERTIFICATION: weights.certification,
        Component.TEXT: weights.text,
    }
    required = sorted(set(demander.certifications_required))
    candidates = [
        c
        for c in SCORE_COMPONENTS
        if values[c] * weight[c] > 0 and (c is not Component.CERTIFICATION or required)
    ]
    strongest = sorted(candidates, key=lambda c: -values[c] * weight[c])[:TOP_COMPONENTS]
    reasons = [(c, _detail(c, supplier, demander, values[c])) for c in strongest]
    if values[Component.LANGUAGE] == 0:
        reasons.append((Component.NO_SHARED_LANGUAGE, ""))
    return reasons


def _detail(component: Component, supplier: MatchProfile, demander: MatchProfile, value: float) -> str:
    if component is Component.HS:
        return best_hs_match(supplier.offered_hs, demander.demanded_hs) or ""
    if component is Component.SECTOR:
        return best_sector_match(supplier.offered_sectors, demander.demanded_sectors) or ""
    if component is Component.MARKET:
        return demander.country
    if component is Component.LANGUAGE:
        return ",".join(sorted(set(supplier.languages) & set(demander.languages)))
    if component is Component.CERTIFICATION:
        held = set(supplier.certifications_held)
        return ",".join(c for c in sorted(set(demander.certifications_required)) if c in held)
    return f"{value:.2f}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sentence(component: Component, detail: str) -> str:
    """One reason in English."""
    if component is Component.HS:
        name = hs_name(detail)
        return f"both trade HS {detail} {name}" if name else f"both trade HS {detail}"
    if component is Component.SECTOR:
        return f"both work in ISIC {detail}"
    if component is Component.MARKET:
        return f"buyer in {country_name(detail)} is in the seller's target markets"
    if component is Component.LANGUAGE:
        return "both speak " + _and([language_name(c) for c in detail.split(",")])
    if component is Component.NO_SHARED_LANGUAGE:
        return "no shared language"
    if component is Component.CERTIFICATION:
        held = detail.split(",")
        noun = "certification" if len(held) == 1 else "certifications"
        return f"seller holds the required {_and(held)} {noun}"
    if component is Component.TEXT:
        return f"offer and demand descriptions are similar ({detail})"
    if component is Component.MUTUAL_REQUEST:
        return "both asked to meet"
    if component is Component.MUST_REQUEST:
        return f"the {detail} asked to meet (must)"
    if component is Component.NICE_REQUEST:
        return f"the {detail} asked to meet"
    return "set by the organizer"


def explanation(reasons: Sequence[tuple[Component, str]]) -> str:
    return "; ".join(sentence(c, d) for c, d in reasons)
