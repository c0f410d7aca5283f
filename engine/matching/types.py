"""The matching engine's data: profiles, requests, organizer rules, weights and results.

Problem: services convert database rows into these values, call the engine, and store what comes back;
the notification layer translates the structured explanations. Nothing here has behaviour beyond
validation of obviously broken values.

Invariants: every value is immutable (frozen, slotted dataclasses; tuples, never lists); codes are
plain strings as registered (HS codes are 2, 4 or 6 digits, countries ISO 3166 alpha-2, languages
ISO 639-1, sectors ISIC rev. 4 classes). A pair of participants is always named supplier first: the
side whose offer is compared with the other side's demand (see `engine.matching.scoring`).

Cost: constant per value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    BOTH = "both"


class PreferenceKind(StrEnum):
    MUST = "must"
    NICE = "nice"
    DO_NOT_MEET = "do_not_meet"


class RequestPolicy(StrEnum):
    """Who may ask whom for a meeting; "both" participants count as buyer and as seller."""

    SELLERS_TO_BUYERS = "sellers_to_buyers"
    BUYERS_TO_SELLERS = "buyers_to_sellers"
    BOTH_WAYS = "both_ways"
    ANYONE = "anyone"


class Component(StrEnum):
    """One reason a pair was scored or selected; the key the notification layer translates."""

    HS = "hs"
    SECTOR = "sector"
    MARKET = "market"
    LANGUAGE = "language"
    NO_SHARED_LANGUAGE = "no_shared_language"
    CERTIFICATION = "certification"
    TEXT = "text"
    MUTUAL_REQUEST = "mutual_request"
    MUST_REQUEST = "must_request"
    NICE_REQUEST = "nice_request"
    FORCED = "forced"


class ShortfallReason(StrEnum):
    """Why a participant ended below the minimum number of meetings, checked in this order."""

    NO_FREE_SLOTS = "no_free_slots"  # fewer free slots than the minimum
    EXCLUDED_BY_RULES = "excluded_by_rules"  # enough candidates, until forbidden/do-not-meet removed them
    NOT_ENOUGH_CANDIDATES = "not_enough_candidates"  # too few pairs above the score threshold
    CANDIDATES_FULL = "candidates_full"  # enough candidates, but their caps went to others


class RejectionReason(StrEnum):
    UNKNOWN_PARTICIPANT = "unknown_participant"
    SELF_PAIR = "self_pair"
    POLICY = "policy"  # the event's request policy does not let the requester ask the target
    FORBIDDEN = "forbidden"  # the organizer forbade the pair
    DO_NOT_MEET = "do_not_meet"  # one side said it does not want to meet the other
    CAPACITY = "capacity"  # a forced pair beyond a participant's cap


@dataclass(frozen=True, slots=True)
class MatchProfile:
    """One participant as the matching engine sees it.

    `max_meetings` is the participant's own (or the event's) cap; `free_slots` is how many slots they
    are available for. The effective cap is the smaller of the two.
    """

    id: str
    role: Role
    country: str
    languages: tuple[str, ...] = ()
    offered_hs: tuple[str, ...] = ()
    demanded_hs: tuple[str, ...] = ()
    offered_sectors: tuple[str, ...] = ()
    demanded_sectors: tuple[str, ...] = ()
    target_markets: tuple[str, ...] = ()
    certifications_held: tuple[str, ...] = ()
    certifications_required: tuple[str, ...] = ()
    offer_text: str = ""
    demand_text: str = ""
    max_meetings: int = 0
    free_slots: int = 0

    def __post_init__(self) -> None:
        for code in (*self.offered_hs, *self.demanded_hs):
            if not (code.isdigit() and len(code) in (2, 4, 6)):
                raise ValueError(f"participant {self.id}: HS code {code!r} is not 2, 4 or 6 digits")
        if self.max_meetings < 0 or self.free_slots < 0:
            raise ValueError(f"participant {self.id}: max_meetings and free_slots must be >= 0")

    @property
    def cap(self) -> int:
        return min(self.max_meetings, self.free_slots)


@dataclass(frozen=True, slots=True)
class Preference:
    """A participant's explicit wish about another participant."""

    requester: str
    target: str
    kind: PreferenceKind


@dataclass(frozen=True, slots=True)
class OrganizerRules:
    """Pairs the organizer forces or forbids (unordered), and who may request whom."""

    forced_pairs: tuple[tuple[str, str], ...] = ()
    forbidden_pairs: tuple[tuple[str, str], ...] = ()
    request_policy: RequestPolicy = RequestPolicy.SELLERS_TO_BUYERS


@dataclass(frozen=True, slots=True)
class Weights:
    """How a pair's score and utility are built; the event's rules carry one of these.

    score = hs*HS + sector*SECTOR + market*MARKET + language*LANGUAGE + certification*CERT + text*TEXT
            - no_shared_language_penalty * [the two share no language]
    Each component is in [0, 1], and the six default weights add up to 1, so a score is at most 1.
    utility = score + must_bonus/nice_bonus per accepted request (each side's own) + mutual_bonus when
    both sides requested the pair. Utilities are resolved to 1/1000 in selection.
    """

    hs: float = 0.30
    sector: float = 0.10
    market: float = 0.15
    language: float = 0.15
    certification: float = 0.10
    text: float = 0.20
    no_shared_language_penalty: float = 0.50
    # HS credit by the deepest level at which an offered and a demanded code agree; subheading = 1.
    hs_heading_credit: float = 0.75
    hs_chapter_credit: float = 0.40
    # Sector credit when codes share only the ISIC division (first two digits); same class = 1.
    sector_division_credit: float = 0.50
    must_bonus: float = 1.0
    nice_bonus: float = 0.3
    mutual_bonus: float = 0.5
    # Pairs scoring below this are not candidates, unless someone requested or forced them. A shared
    # language, no certification barrier and a target market alone give 0.40: ask for some product,
    # sector or text overlap on top.
    min_score: float = 0.45
    # Everyone should get at least this many meetings where possible (fairness comes first).
    min_meetings: int = 2
    # Selection keeps a pair only if it is among the best `candidates_per_participant` of one of its
    # two participants (by score); requested and forced pairs are always kept. 0 keeps every pair.
    candidates_per_participant: int = 0


@dataclass(frozen=True, slots=True)
class Meeting:
    """A selected meeting, supplier first, with its explanation in English and as data."""

    supplier_id: str
    demander_id: str
    score: float
    utility: float
    is_forced: bool
    is_mutual: bool
    explanation: str
    reasons: tuple[tuple[Component, str], ...]


@dataclass(frozen=True, slots=True)
class Shortfall:
    participant_id: str
    meetings: int
    minimum: int
    reason: ShortfallReason
    candidates: int  # candidate partners after rules, at or above the threshold or requested


@dataclass(frozen=True, slots=True)
class RejectedRequest:
    preference: Preference
    reason: RejectionReason


@dataclass(frozen=True, slots=True)
class RejectedForcedPair:
    pair: tuple[str, str]
    reason: RejectionReason


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Selected meetings, sorted by (supplier, demander), and everything that did not go as asked."""

    meetings: tuple[Meeting, ...]
    shortfalls: tuple[Shortfall, ...]
    rejected_requests: tuple[RejectedRequest, ...]
    rejected_forced_pairs: tuple[RejectedForcedPair, ...]
    total_utility: float
    # (participant id, meetings including forced ones), for every participant, sorted by id.
    meetings_per_participant: tuple[tuple[str, int], ...]
