"""The JSON API for integrations (OpenAPI), authenticated by organizer tokens.

Every call carries `Authorization: Bearer <token>` (a token from `rueda token create`). The token
acts as its user: it sees the events where the user is an organizer and nothing else (a token made
with `--event` only that event; one made with `--days` answers 401 once they are over). An event the
user is not a member of answers 404, the same as one that does not exist; a staff member's token
gets 403 (staff use the check-in desk, not the API, which exposes contact data). Objects are
always looked up inside the event of the URL, so an id from another event is a 404 too.

Reads use the request's read session; the one write (an organizer adding a meeting request) runs
in its own transaction (`run_write`), with the authorization check inside it.
Errors are JSON: `{"detail": "..."}`; bad parameters answer 422 with a list of problems, each
naming its parameter in `loc` (its `msg` and `type`, never the input: portal/limits.py), and a
body over `portal.max_body_bytes` answers 413.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from models import (
    MeetingStatus,
    MemberRole,
    ParticipantRole,
    ParticipantStatus,
    RequestPriority,
    RequestStatus,
    SurveyResponseKind,
    SurveyWave,
)
from models.schemas import SLUG_PATTERN
from portal.api.schemas import (
    DisagreementOut,
    ErrorOut,
    EventOut,
    MeetingPage,
    ParticipantOut,
    ParticipantPage,
    RequestCreate,
    RequestOut,
    RequestPage,
    SummaryOut,
    SurveyResponsePage,
    ValidationErrorOut,
)
from portal.web import DbSession, get_engine, run_write, utc_now
from services.accounts import Access, ForbiddenError, TokenGrant, token_access, token_events, verify_token
from services.dashboard import (
    get_participant_row,
    list_meetings,
    list_participants,
    list_requests,
    list_survey_responses,
    load_summary,
)
from services.db import read_only
from services.organizer_requests import add_organizer_request
from services.surveys import list_disagreements

log = logging.getLogger("rueda.portal.api")

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OrganizerToken",
    description="An organizer API token: `rueda token create --email you@example.org --name crm`.",
)

# Ids are 32-bit integers in the database: a larger one cannot exist, so it is refused as input.
MAX_ID = 2**31 - 1
# No control characters in text filters (PostgreSQL refuses NUL in strings).
_TEXT = r"^[^\x00-\x1f\x7f]*$"

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing, invalid or revoked token."},
    403: {"model": ErrorOut, "description": "The token's user is staff, not organizer, in this event."},
    404: {"model": ErrorOut, "description": "No such event for this token, or no such object in it."},
    422: {
        "model": ValidationErrorOut,
        "description": "Bad parameters or body: each problem names its field.",
    },
}

router = APIRouter(prefix="/api/v1", tags=["api"], responses=_ERRORS)


def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> TokenGrant:
    # A short session of its own: a write route (run_write) must not wait for its own request's read.
    if credentials is None:
        grant = None
    else:
        with Session(read_only(get_engine(request)), expire_on_commit=False) as session:
            grant = verify_token(session, credentials.credentials, now=utc_now())
    if grant is None:
        raise HTTPException(
            status_code=401,
            detail="a valid organizer token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return grant


CurrentUser = Annotated[TokenGrant, Depends(current_user)]
Slug = Annotated[str, Path(pattern=SLUG_PATTERN, description="The event's slug.", examples=["rueda-2027"])]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page (1-500).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip.")]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def organizer_access(db: Session, user: TokenGrant, slug: str) -> Access:
    try:
        return token_access(db, user, slug, minimum=MemberRole.ORGANIZER)
    except ForbiddenError as error:
        raise HTTPException(status_code=403, detail=str(error)) from None


def _event_id(access: Access) -> int:
    assert access.event.id is not None
    return access.event.id


@router.get("/events", response_model=list[EventOut], summary="The events of the token's user")
def list_my_events(db: DbSession, user: CurrentUser) -> list[EventOut]:
    return [
        EventOut(
            slug=a.event.slug,
            name=a.event.name,
            kind=a.event.kind,
            status=a.event.status,
            timezone=a.event.timezone,
            starts_on=a.event.starts_on,
            ends_on=a.event.ends_on,
            role=a.role,
        )
        for a in token_events(db, user)
    ]


@router.get("/events/{slug}", response_model=EventOut, summary="One event")
def get_event(slug: Slug, db: DbSession, user: CurrentUser) -> EventOut:
    access = organizer_access(db, user, slug)
    e = access.event
    return EventOut(
        slug=e.slug,
        name=e.name,
        kind=e.kind,
        status=e.status,
        timezone=e.timezone,
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        role=access.role,
    )


@router.get("/events/{slug}/summary", response_model=SummaryOut, summary="The dashboard's figures")
def get_summary(slug: Slug, db: DbSession, user: CurrentUser) -> SummaryOut:
    access = organizer_access(db, user, slug)
    return SummaryOut.model_validate(load_summary(db, access.event))


@router.get("/events/{slug}/participants", response_model=ParticipantPage, summary="Participants")
def get_participants(
    slug: Slug,
    db: DbSession,
    user: CurrentUser,
    status: ParticipantStatus | None = None,
    role: ParticipantRole | None = None,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 of the organization.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, pattern=_TEXT, description="Part of a name, email or organization."),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ParticipantPage:
    access = organizer_access(db, user, slug)
    page = list_participants(
        db,
        _event_id(access),
        status=status,
        role=role,
        country=country,
        search=q,
        limit=limit,
        offset=offset,
    )
    return ParticipantPage.model_validate(page, from_attributes=True)


@router.get(
    "/events/{slug}/participants/{participant_id}", response_model=ParticipantOut, summary="One participant"
)
def get_participant(
    slug: Slug,
    participant_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    db: DbSession,
    user: CurrentUser,
) -> ParticipantOut:
    access = organizer_access(db, user, slug)
    return ParticipantOut.model_validate(get_participant_row(db, _event_id(access), participant_id))


@router.get("/events/{slug}/requests", response_model=RequestPage, summary="Meeting requests")
def get_requests(
    slug: Slug,
    db: DbSession,
    user: CurrentUser,
    status: RequestStatus | None = None,
    participant_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Requests made or received by this participant.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RequestPage:
    access = organizer_access(db, user, slug)
    page = list_requests(
        db, _event_id(access), status=status, participant_id=participant_id, limit=limit, offset=offset
    )
    return RequestPage.model_validate(page, from_attributes=True)


@router.post(
    "/events/{slug}/requests",
    response_model=RequestOut,
    status_code=201,
    summary="Add a meeting request as the organizer",
    description="Pairs two active participants of the event (origin `organizer`; the event's request "
    "policy does not apply). 404 when a participant is not in the event, 409 when the pair already "
    "has a request, a participant is withdrawn or requests are closed, 400 for a participant paired "
    "with themself.",
    responses={
        400: {"model": ErrorOut, "description": "The request cannot be made; the message names the field."},
        409: {"model": ErrorOut, "description": "A conflict with the current state."},
        413: {"model": ErrorOut, "description": "The body is over `portal.max_body_bytes`."},
    },
)
def create_request(request: Request, slug: Slug, body: RequestCreate, user: CurrentUser) -> RequestOut:
    user_id = user.user.id

    def work(session: Session) -> RequestOut:
        access = organizer_access(session, user, slug)
        row = add_organizer_request(
            session,
            access.event,
            requester_id=body.requester_id,
            target_id=body.target_id,
            priority=RequestPriority(body.priority),
            status=RequestStatus(body.status),
            note=body.note,
            now=utc_now(),
        )
        return RequestOut.model_validate(row)

    created = run_write(request, work)
    log.info("user %d added request %d in %s", user_id, created.id, slug)
    return created


@router.api_route(
    "/events/{slug}/requests",
    methods=["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    include_in_schema=False,
)
def requests_other_methods() -> JSONResponse:
    # Starlette answers 405 with the Allow header of the first route of the path only (GET), so
    # a path with two routes lists both methods here.
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": "GET, POST"})


@router.get("/events/{slug}/meetings", response_model=MeetingPage, summary="Meetings, in slot order")
def get_meetings(
    slug: Slug,
    db: DbSession,
    user: CurrentUser,
    slot: Annotated[
        str | None, Query(max_length=16, pattern=_TEXT, description="Slot code, e.g. d1s01.")
    ] = None,
    table: Annotated[
        str | None, Query(max_length=32, pattern=_TEXT, description="Table code, e.g. T1.")
    ] = None,
    participant_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Meetings of this participant (either side).")
    ] = None,
    status: MeetingStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> MeetingPage:
    access = organizer_access(db, user, slug)
    page = list_meetings(
        db,
        _event_id(access),
        slot=slot,
        table=table,
        participant_id=participant_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return MeetingPage.model_validate(page, from_attributes=True)


@router.get("/events/{slug}/survey-responses", response_model=SurveyResponsePage, summary="Survey answers")
def get_survey_responses(
    slug: Slug,
    db: DbSession,
    user: CurrentUser,
    wave: SurveyWave | None = None,
    kind: SurveyResponseKind | None = None,
    meeting_id: IdFilter = None,
    participant_id: IdFilter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SurveyResponsePage:
    access = organizer_access(db, user, slug)
    page = list_survey_responses(
        db,
        _event_id(access),
        wave=wave,
        kind=kind,
        meeting_id=meeting_id,
        participant_id=participant_id,
        limit=limit,
        offset=offset,
    )
    return SurveyResponsePage.model_validate(page, from_attributes=True)


@router.get(
    "/events/{slug}/survey-disagreements",
    response_model=list[DisagreementOut],
    summary="Meetings whose two sides disagree",
    description="Post-event answers where the host and the visitor disagree on whether the meeting "
    "took place, on the expected amounts beyond the tolerance, or both contradict the recorded "
    "status. Nothing is averaged: staff look at each one.",
)
def get_survey_disagreements(slug: Slug, db: DbSession, user: CurrentUser) -> list[DisagreementOut]:
    access = organizer_access(db, user, slug)
    return [
        DisagreementOut(
            meeting_id=d.meeting_id, kind=d.kind.value, detail=d.detail, horizons=list(d.horizons)
        )
        for d in list_disagreements(db, _event_id(access))
    ]
