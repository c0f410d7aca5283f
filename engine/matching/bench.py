"""Matching benchmark: a synthetic macrorrueda population, scored and selected, with timings.

Problem: measure `score_pairs` and `select_meetings` at real sizes (ProColombia's Macrorrueda 100:
about 700 buyers from 51 countries and 1,700 mostly Colombian exporters, 12,000+ meetings) without
real data. `run_matching_benchmark` builds the population itself, from a seed.

Population: 30% buyers from 40 countries (more from the US, Europe and Latin America), 65% sellers
(90% Colombian), 5% "both". Each participant works in one or two of twelve sectors; HS codes,
ISIC codes and text words are drawn from that sector, so matches cluster the way real ones do.
Texts are in the participant's language (es, en or pt) from small per-sector vocabularies. Buyers
take up to 18-20 meetings in 28-32 free slots; sellers 7-8. Sellers request 3 buyers of their
sector (a third of them "must"), buyers request 2 sellers; 1% of participants decline someone;
the organizer forces 20 pairs and forbids 20. Policy: both ways.

`run_optimality_check` compares selection with an independent CP-SAT model of the same objective.

Invariants: pure; the same arguments give the same population and the same result.
Cost: the matching itself, plus well under a second to generate the population.
"""

from __future__ import annotations

import resource
import time
from collections import Counter

import numpy as np

from engine.matching.scoring import THRESHOLD_TOLERANCE, PairScores, score_pairs
from engine.matching.selection import select_meetings
from engine.matching.types import (
    MatchProfile,
    OrganizerRules,
    Preference,
    PreferenceKind,
    RequestPolicy,
    Role,
    Weights,
)

# sector: (ISIC classes, HS subheadings, {language: product words})
SECTORS: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "coffee": (
        ("0127", "1079"),
        ("090111", "090112", "090121", "210111"),
        {
            "es": ("café", "tostado", "verde", "especialidad", "grano", "molido", "orgánico", "origen"),
            "en": ("coffee", "roasted", "green", "specialty", "beans", "ground", "organic", "origin"),
            "pt": ("café", "torrado", "verde", "especial", "grãos", "moído", "orgânico", "origem"),
        },
    ),
    "flowers": (
        ("0119", "0130"),
        ("060311", "060312", "060319", "060290"),
        {
            "es": ("flores", "rosas", "claveles", "cortadas", "follaje", "crisantemos", "bouquets"),
            "en": ("flowers", "roses", "carnations", "cut", "foliage", "chrysanthemums", "bouquets"),
            "pt": ("flores", "rosas", "cravos", "cortadas", "folhagem", "crisântemos", "buquês"),
        },
    ),
    "fruit": (
        ("0122", "1030"),
        ("080440", "080390", "081090", "080450", "200989"),
        {
            "es": ("aguacate", "banano", "fruta", "tropical", "uchuva", "mango", "pulpa", "fresca"),
            "en": ("avocado", "banana", "fruit", "tropical", "physalis", "mango", "pulp", "fresh"),
            "pt": ("abacate", "banana", "fruta", "tropical", "fisális", "manga", "polpa", "fresca"),
        },
    ),
    "cocoa": (
        ("0127", "1073"),
        ("180100", "180310", "180632", "180690"),
        {
            "es": ("cacao", "chocolate", "fino", "aroma", "licor", "manteca", "barras", "cobertura"),
            "en": ("cocoa", "chocolate", "fine", "flavour", "liquor", "butter", "bars", "couverture"),
            "pt": ("cacau", "chocolate", "fino", "aroma", "licor", "manteiga", "barras", "cobertura"),
        },
    ),
    "apparel": (
        ("1410", "1430"),
        ("610910", "620342", "621210", "620462", "611020"),
        {
            "es": ("ropa", "confección", "algodón", "camisetas", "jeans", "lencería", "moda", "prendas"),
            "en": ("apparel", "garments", "cotton", "shirts", "jeans", "lingerie", "fashion", "clothing"),
            "pt": ("roupa", "confecção", "algodão", "camisetas", "jeans", "lingerie", "moda", "peças"),
        },
    ),
    "cosmetics": (
        ("2023", "2029"),
        ("330499", "330510", "340111", "330290"),
        {
            "es": ("cosméticos", "belleza", "natural", "cremas", "champú", "jabones", "cuidado", "piel"),
            "en": ("cosmetics", "beauty", "natural", "creams", "shampoo", "soaps", "care", "skin"),
            "pt": ("cosméticos", "beleza", "natural", "cremes", "xampu", "sabonetes", "cuidado", "pele"),
        },
    ),
    "footwear": (
        ("1520", "1512"),
        ("640399", "640299", "420221", "420292"),
        {
            "es": ("calzado", "cuero", "zapatos", "bolsos", "marroquinería", "botas", "sandalias"),
            "en": ("footwear", "leather", "shoes", "handbags", "leather goods", "boots", "sandals"),
            "pt": ("calçados", "couro", "sapatos", "bolsas", "marroquinaria", "botas", "sandálias"),
        },
    ),
    "furniture": (
        ("3100", "1629"),
        ("940360", "940161", "940350", "442199"),
        {
            "es": ("muebles", "madera", "diseño", "sillas", "mesas", "hogar", "oficina", "decoración"),
            "en": ("furniture", "wood", "design", "chairs", "tables", "home", "office", "decor"),
            "pt": ("móveis", "madeira", "design", "cadeiras", "mesas", "casa", "escritório", "decoração"),
        },
    ),
    "processed_food": (
        ("1030", "1071", "1082"),
        ("200799", "190590", "170490", "210690", "200819"),
        {
            "es": ("alimentos", "snacks", "dulces", "mermeladas", "galletas", "salsas", "procesados"),
            "en": ("food", "snacks", "confectionery", "jams", "biscuits", "sauces", "processed"),
            "pt": ("alimentos", "snacks", "doces", "geleias", "biscoitos", "molhos", "processados"),
        },
    ),
    "packaging": (
        ("2220", "1702"),
        ("392321", "392330", "481910", "481920"),
        {
            "es": ("empaques", "envases", "plástico", "cartón", "bolsas", "flexibles", "cajas"),
            "en": ("packaging", "containers", "plastic", "cardboard", "bags", "flexible", "boxes"),
            "pt": ("embalagens", "recipientes", "plástico", "papelão", "sacos", "flexíveis", "caixas"),
        },
    ),
    "jewellery": (
        ("3211", "0722"),
        ("711319", "710812", "711711", "710399"),
        {
            "es": ("joyería", "oro", "esmeraldas", "plata", "bisutería", "diseño", "artesanal"),
            "en": ("jewellery", "gold", "emeralds", "silver", "costume jewellery", "design", "handmade"),
            "pt": ("joalheria", "ouro", "esmeraldas", "prata", "bijuteria", "design", "artesanal"),
        },
    ),
    "machinery": (
        ("2825", "2821"),
        ("843880", "843359", "841869", "847989"),
        {
            "es": ("maquinaria", "equipos", "agroindustrial", "procesamiento", "refrigeración", "repuestos"),
            "en": ("machinery", "equipment", "agro-industrial", "processing", "refrigeration", "parts"),
            "pt": ("maquinário", "equipamentos", "agroindustrial", "processamento", "refrigeração", "peças"),
        },
    ),
}

GENERIC = {
    "es": ("exportamos", "calidad", "proveedor", "certificado", "volumen", "precio", "empresa", "mercado"),
    "en": ("we export", "quality", "supplier", "certified", "volume", "price", "company", "market"),
    "pt": ("exportamos", "qualidade", "fornecedor", "certificado", "volume", "preço", "empresa", "mercado"),
}
FILLER = {
    "es": ("de", "para", "con", "y", "el", "la"),
    "en": ("the", "and", "for", "with", "of"),
    "pt": ("de", "para", "com", "e", "o", "a"),
}

# (country, first language, weight)
BUYER_COUNTRIES = (
    ("US", "en", 12),
    ("MX", "es", 6),
    ("ES", "es", 6),
    ("DE", "de", 5),
    ("CA", "en", 4),
    ("BR", "pt", 5),
    ("CL", "es", 4),
    ("PE", "es", 4),
    ("EC", "es", 3),
    ("PA", "es", 3),
    ("GB", "en", 4),
    ("FR", "fr", 3),
    ("IT", "it", 3),
    ("NL", "nl", 3),
    ("BE", "fr", 2),
    ("CN", "zh", 4),
    ("JP", "ja", 3),
    ("KR", "ko", 2),
    ("AE", "ar", 3),
    ("SA", "ar", 2),
    ("IN", "hi", 2),
    ("TR", "tr", 2),
    ("GT", "es", 2),
    ("CR", "es", 2),
    ("DO", "es", 2),
    ("AR", "es", 2),
    ("UY", "es", 1),
    ("PT", "pt", 2),
    ("PL", "pl", 1),
    ("SE", "sv", 1),
    ("CH", "de", 1),
    ("AU", "en", 2),
    ("NZ", "en", 1),
    ("ZA", "en", 1),
    ("IL", "he", 1),
    ("SG", "en", 1),
    ("HN", "es", 1),
    ("SV", "es", 1),
    ("BO", "es", 1),
    ("PY", "es", 1),
)
CERTIFICATIONS = ("organic", "fair_trade", "rainforest", "halal", "kosher", "global_gap", "iso_22000")


def _text(rng: np.random.Generator, sectors: list[str], language: str) -> str:
    words = [w for s in sectors for w in rng.choice(SECTORS[s][2][language], size=4, replace=False)]
    words += list(rng.choice(GENERIC[language], size=2, replace=False))
    words += list(rng.choice(FILLER[language], size=3))
    return " ".join(str(w) for w in rng.permutation(words))


def _codes(rng: np.random.Generator, sectors: list[str], count: int, *, coarse: bool) -> tuple[str, ...]:
    pool = [c for s in sectors for c in SECTORS[s][1]]
    chosen = rng.choice(pool, size=min(count, len(pool)), replace=False)
    # Buyers often say only the chapter or heading; sellers name the subheading.
    cut = [int(rng.choice([2, 4, 6], p=[0.2, 0.4, 0.4])) if coarse else 6 for _ in chosen]
    return tuple(sorted({str(c)[:k] for c, k in zip(chosen, cut, strict=True)}))


def generate_population(
    participants: int, seed: int
) -> tuple[list[MatchProfile], list[Preference], OrganizerRules]:
    """A realistic synthetic rueda (see the module docstring)."""
    rng = np.random.default_rng(seed)
    names = list(SECTORS)
    weights = np.array([w for _, _, w in BUYER_COUNTRIES], dtype=np.float64)
    profiles: list[MatchProfile] = []
    for i in range(participants):
        draw = rng.random()
        role = Role.BUYER if draw < 0.30 else Role.SELLER if draw < 0.95 else Role.BOTH
        sectors = [str(s) for s in rng.choice(names, size=1 + int(rng.random() < 0.3), replace=False)]
        if role is Role.BUYER:
            country, first, _ = BUYER_COUNTRIES[
                int(rng.choice(len(BUYER_COUNTRIES), p=weights / weights.sum()))
            ]
        else:
            country, first = ("CO", "es") if rng.random() < 0.9 else ("EC", "es")
        languages = (
            {first} | ({"en"} if rng.random() < 0.6 else set()) | ({"es"} if rng.random() < 0.2 else set())
        )
        text_language = first if first in GENERIC else ("en" if "en" in languages else "es")
        sells, buys = role is not Role.BUYER, role is not Role.SELLER
        profiles.append(
            MatchProfile(
                id=f"p{i:05d}",
                role=role,
                country=country,
                languages=tuple(sorted(languages)),
                offered_hs=_codes(rng, sectors, int(rng.integers(1, 5)), coarse=False) if sells else (),
                demanded_hs=_codes(rng, sectors, int(rng.integers(1, 4)), coarse=True) if buys else (),
                offered_sectors=tuple(SECTORS[s][0][0] for s in sectors) if sells else (),
                demanded_sectors=tuple(SECTORS[s][0][int(rng.integers(0, 2))] for s in sectors)
                if buys
                else (),
                target_markets=tuple(
                    sorted(
                        {
                            str(BUYER_COUNTRIES[int(k)][0])
                            for k in rng.choice(
                                len(BUYER_COUNTRIES), size=int(rng.integers(2, 7)), p=weights / weights.sum()
                            )
                        }
                    )
                )
                if sells
                else (),
                certifications_held=tuple(
                    rng.choice(CERTIFICATIONS, size=int(rng.integers(0, 3)), replace=False).tolist()
                )
                if sells
                else (),
                certifications_required=(str(rng.choice(CERTIFICATIONS)),)
                if buys and rng.random() < 0.2
                else (),
                offer_text=_text(rng, sectors, text_language) if sells else "",
                demand_text=_text(rng, sectors, text_language) if buys else "",
                max_meetings=int(rng.integers(18, 21)) if role is Role.BUYER else int(rng.integers(7, 9)),
                free_slots=int(rng.integers(28, 33)) if role is Role.BUYER else int(rng.integers(20, 33)),
            )
        )
    preferences = _requests(rng, profiles)
    ids = [p.id for p in profiles]
    picks = rng.choice(len(ids), size=(40, 2))
    forced = tuple((ids[a], ids[b]) for a, b in picks[:20] if a != b)
    forbidden = tuple((ids[a], ids[b]) for a, b in picks[20:] if a != b)
    return profiles, preferences, OrganizerRules(forced, forbidden, RequestPolicy.BOTH_WAYS)


def _requests(rng: np.random.Generator, profiles: list[MatchProfile]) -> list[Preference]:
    by_chapter: dict[str, list[str]] = {}
    for p in profiles:
        for code in p.demanded_hs:
            by_chapter.setdefault(code[:2], []).append(p.id)
    sellers_by_chapter: dict[str, list[str]] = {}
    for p in profiles:
        for code in p.offered_hs:
            sellers_by_chapter.setdefault(code[:2], []).append(p.id)
    preferences: list[Preference] = []
    for p in profiles:
        own = p.offered_hs if p.role is Role.SELLER else p.demanded_hs
        pool = by_chapter if p.role is Role.SELLER else sellers_by_chapter
        options = sorted({q for c in own for q in pool.get(c[:2], []) if q != p.id})
        count = 3 if p.role is Role.SELLER else 2
        for target in rng.choice(options, size=min(count, len(options)), replace=False) if options else []:
            kind = PreferenceKind.MUST if rng.random() < 1 / 3 else PreferenceKind.NICE
            preferences.append(Preference(p.id, str(target), kind))
        if rng.random() < 0.01:
            other = profiles[int(rng.integers(0, len(profiles)))].id
            preferences.append(Preference(p.id, other, PreferenceKind.DO_NOT_MEET))
    return preferences


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux: the peak of the whole process, interpreter included.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_matching_benchmark(participants: int = 2400, seed: int = 0) -> list[dict[str, object]]:
    """Generate, score and select; one row per step with seconds, sizes and the process's peak RSS.

    `seconds` is wall-clock time; `cpu_seconds` is this process's CPU time, which moves less when
    other work shares the machine.
    """
    rows: list[dict[str, object]] = []
    baseline_rss_mb = _peak_rss_mb()  # the interpreter and libraries, before any work
    start, start_cpu = time.perf_counter(), time.process_time()
    profiles, preferences, rules = generate_population(participants, seed)
    generated, generated_cpu = time.perf_counter(), time.process_time()
    extra = [(p.requester, p.target) for p in preferences] + list(rules.forced_pairs + rules.forbidden_pairs)
    scores = score_pairs(profiles, Weights(), extra_pairs=extra)
    scored, scored_cpu = time.perf_counter(), time.process_time()
    result = select_meetings(scores, preferences, rules)
    selected, selected_cpu = time.perf_counter(), time.process_time()
    roles = Counter(p.role.value for p in profiles)
    rows.append(
        {
            "step": "generate",
            "participants": participants,
            "buyers": roles["buyer"],
            "sellers": roles["seller"],
            "both": roles["both"],
            "requests": len(preferences),
            "seconds": round(generated - start, 3),
            "cpu_seconds": round(generated_cpu - start_cpu, 3),
        }
    )
    rows.append(
        {
            "step": "score",
            "candidate_pairs": int(scores.candidate_counts.sum() // 2),
            "kept_pairs": len(scores.score),
            "seconds": round(scored - generated, 3),
            "cpu_seconds": round(scored_cpu - generated_cpu, 3),
        }
    )
    reasons = Counter(s.reason.value for s in result.shortfalls)
    rows.append(
        {
            "step": "select",
            "meetings": len(result.meetings),
            "below_minimum": len(result.shortfalls),
            "shortfall_reasons": dict(sorted(reasons.items())),
            "rejected_requests": len(result.rejected_requests),
            "rejected_forced": len(result.rejected_forced_pairs),
            "total_utility": round(result.total_utility, 3),
            "mean_score": round(float(np.mean([m.score for m in result.meetings])), 4)
            if result.meetings
            else 0.0,
            "seconds": round(selected - scored, 3),
            "cpu_seconds": round(selected_cpu - scored_cpu, 3),
        }
    )
    rows.append(
        {
            "step": "total",
            "seconds": round(selected - start, 3),
            "score_and_select_seconds": round(selected - generated, 3),
            "score_and_select_cpu_seconds": round(selected_cpu - generated_cpu, 3),
            "baseline_rss_mb": round(baseline_rss_mb, 1),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }
    )
    return rows


def _objective_of(scores: PairScores, rows: list[int], weights: Weights) -> tuple[int, int]:
    """(minimum places filled, sum of utility in thousandths) of the given pairs, as selection counts."""
    degree = Counter([int(scores.supplier[r]) for r in rows] + [int(scores.demander[r]) for r in rows])
    filled = sum(
        min(degree[i], weights.min_meetings, p.max_meetings, p.cap) for i, p in enumerate(scores.profiles)
    )
    return filled, sum(round(float(scores.score[r]) * 1000) for r in rows)


def run_optimality_check(
    participants: int = 400, seed: int = 3, time_limit: float = 300.0
) -> dict[str, object]:
    """Compare `select_meetings` with an independent CP-SAT model of the same objective and pairs.

    No requests or rules, so utility equals score. CP-SAT runs on one worker with a wall-clock
    limit, so its side of the comparison is not reproducible to the unit when it hits the limit.
    """
    # Imported here: CP-SAT adds about 30 MB to the process, which the matching benchmark, run in
    # the same process, would otherwise count as its own.
    from ortools.sat.python import cp_model

    profiles, _, _ = generate_population(participants, seed)
    weights = Weights()
    scores = score_pairs(profiles, weights)
    start = time.perf_counter()
    result = select_meetings(scores)
    ours_seconds = time.perf_counter() - start
    row_of = {
        (scores.profiles[int(s)].id, scores.profiles[int(d)].id): k
        for k, (s, d) in enumerate(zip(scores.supplier, scores.demander, strict=True))
    }
    ours = _objective_of(scores, [row_of[(m.supplier_id, m.demander_id)] for m in result.meetings], weights)

    model = cp_model.CpModel()
    usable = np.flatnonzero(scores.score >= weights.min_score - THRESHOLD_TOLERANCE).tolist()
    utility = {r: round(float(scores.score[r]) * 1000) for r in usable}
    chosen = {r: model.new_bool_var(f"x{r}") for r in usable}
    incident: list[list[cp_model.IntVar]] = [[] for _ in scores.profiles]
    for r in usable:
        incident[int(scores.supplier[r])].append(chosen[r])
        incident[int(scores.demander[r])].append(chosen[r])
    filled = []
    for i, p in enumerate(scores.profiles):
        model.add(sum(incident[i]) <= p.cap)
        place = model.new_int_var(0, min(weights.min_meetings, p.max_meetings, p.cap), f"m{i}")
        model.add(place <= sum(incident[i]))
        filled.append(place)
    big = sum(abs(u) for u in utility.values()) + 1
    model.maximize(big * sum(filled) + sum(u * chosen[r] for r, u in utility.items()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    start = time.perf_counter()
    status = solver.solve(model)
    cp_seconds = time.perf_counter() - start
    reference = _objective_of(scores, [r for r in usable if solver.value(chosen[r])], weights)
    return {
        "participants": participants,
        "seed": seed,
        "both": sum(p.role is Role.BOTH for p in profiles),
        "candidate_pairs": len(usable),
        "ours": ours,
        "ours_seconds": round(ours_seconds, 3),
        "cp_sat": reference,
        "cp_sat_status": solver.status_name(status),
        "cp_sat_seconds": round(cp_seconds, 1),
        "utility_gap_percent": round(100 * (reference[1] - ours[1]) / max(reference[1], 1), 4),
    }
