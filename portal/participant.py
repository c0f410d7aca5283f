"""Participant pages: sign-up, sign-in by emailed link, profile, catalog, requests, agenda (with
calendar files and the check-in QR code), surveys, and the participant's own data.

Each route parses its input, calls one service, and commits through `run_write`; the rules live in
`services.portal_accounts`, `services.participant_profile`, `services.participant_catalog`,
`services.meeting_requests`, `services.participant_agenda`, `services.surveys` and
`services.privacy`. Authorization: every page under `/me` acts on `session["participant_id"]`
only, and every object reached by id (a request, a meeting) is checked to be that participant's
in the service ("not found" otherwise). The calendar feed and survey pages are reached by secret
links instead of the session.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

import segno
from babel import Locale
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from models import Event, Participant, ParticipantRole, RequestPriority, SurveyWave, TradeDirection
from models.portal import ProfileUpdate
from models.schemas import ParticipantImport
from portal import messages as _messages  # noqa: F401  (registers the translations)
from portal.forms import field_errors, registration_errors
from portal.i18n import LANGUAGES, translate
from portal.tokens import (
    calendar_feed_name,
    checkin_code,
    read_calendar_feed_name,
    sign_login_token,
    unsign_login_token,
)
from portal.web import (
    CsrfProtected,
    DbSession,
    client_address,
    enforce_rate_limit,
    get_engine,
    get_settings_of,
    language_of,
    logout,
    rate_rules,
    redirect,
    render,
    run_read,
    run_write,
    session_started_at,
    start_login,
    utc_now,
)
from services.agendas import shown_zone
from services.errors import DomainError, NotFoundError
from services.events import get_event_by_slug
from services.hs_codes import chapter_name, search_chapters
from services.meeting_requests import answer_request, list_requests, request_meeting
from services.participant_agenda import build_agenda_calendar, load_agenda
from services.participant_catalog import CatalogFilters, load_catalog
from services.participant_profile import change_hs_code, load_profile, update_profile
from services.portal_accounts import (
    end_participant_sessions,
    get_active_participant,
    is_registration_open,
    list_open_events,
    register_in_portal,
    request_login_link,
    request_login_links_everywhere,
    session_is_current,
    sign_in_with_token,
)
from services.privacy import erasure_requested_at, export_personal_data, request_erasure
from services.surveys import (
    MAX_AMOUNT_CENTS,
    FollowupLine,
    MeetingAnswer,
    ParticipantAnswer,
    SurveyAnswerError,
    get_survey,
    submit_answers,
)

router = APIRouter(dependencies=[CsrfProtected], include_in_schema=False)

# The confirmation email may be read hours later; a sign-in link asked for on purpose is used at once.
REGISTRATION_LINK_LIFETIME = timedelta(hours=24)
TIMEZONES = tuple(
    sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
)
CATALOG_PAGE_SIZE = 40
ROLES = (ParticipantRole.SELLER, ParticipantRole.BUYER, ParticipantRole.BOTH)


def current_participant_id(request: Request) -> int:
    """The signed-in participant; a session ended by signing out elsewhere goes to the sign-in page.

    Reads in a session of its own, closed before returning: a dependency that kept a pooled
    connection while its request waits for a thread to run the page could take every connection
    while the threads wait for one (a deadlock under load; `tests/portal/test_concurrency.py`)."""
    participant_id = request.session.get("participant_id")
    if not isinstance(participant_id, int):
        raise HTTPException(status_code=303, headers={"Location": "/signin"})
    valid_after = run_read(
        request,
        lambda s: s.exec(
            select(Participant.sessions_valid_after).where(Participant.id == participant_id)
        ).first(),
    )
    if not session_is_current(valid_after, session_started_at(request)):
        logout(request)
        raise HTTPException(status_code=303, headers={"Location": "/signin"})
    return participant_id


Me = Annotated[int, Depends(current_participant_id)]


def _secret(request: Request) -> str:
    return get_settings_of(request).portal.secret_key.get_secret_value()


def _link_builder(request: Request) -> Any:
    base = get_settings_of(request).portal.public_url
    secret = _secret(request)
    return lambda token: f"{base}/login?t={sign_login_token(secret, token)}"


@functools.lru_cache(maxsize=len(LANGUAGES))
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@functools.lru_cache(maxsize=len(LANGUAGES))
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    names = _locale(language).territories
    return tuple(
        sorted(
            (
                (code, name)
                for code, name in names.items()
                if len(code) == 2 and code.isalpha() and code != "ZZ"
            ),
            key=lambda item: item[1],
        )
    )


def _form_dict(form: FormData) -> dict[str, Any]:
    return {key: form.get(key) for key in form}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DbSession) -> Response:
    if "participant_id" in request.session:
        return redirect("/me")
    return render(request, "participant/home.html", {"events": list_open_events(db, now=utc_now())})


@router.get("/privacy", response_class=HTMLResponse)
def privacy_notice(request: Request) -> Response:
    return render(
        request, "participant/privacy.html", {"title": translate(language_of(request), "Privacy notice")}
    )


@router.post("/language")
def choose_language(
    request: Request, lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    if lang in LANGUAGES:
        request.session["lang"] = lang
        request.session.pop("profile_lang", None)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return redirect(target)


@router.get("/e/{slug}/register", response_class=HTMLResponse)
def registration_form(request: Request, slug: str, db: DbSession) -> Response:
    event = get_event_by_slug(db, slug)
    return _registration_page(request, event, {}, {}, is_open=is_registration_open(event, utc_now()))


def _registration_page(
    request: Request,
    event: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    is_open: bool,
    status: int = 200,
) -> Response:
    language = language_of(request)
    return render(
        request,
        "participant/register.html",
        {
            "title": translate(language, "Register"),
            "event": event,
            "values": values,
            "errors": errors,
            "is_open": is_open,
            "countries": list(_countries(language)),
            "timezones": TIMEZONES,
            "roles": ROLES,
        },
        status_code=status,
    )


MAX_FOLLOWUP_LINES = 50


@router.post("/e/{slug}/register", response_class=HTMLResponse)
async def register(request: Request, slug: str) -> Response:
    form = _form_dict(await request.form())
    return await _in_thread(_register, request, slug, form)


def _register(request: Request, slug: str, form: dict[str, Any]) -> Response:
    enforce_rate_limit(request, rate_rules(get_settings_of(request))["register"], client_address(request))
    event = run_read(request, lambda s: get_event_by_slug(s, slug))
    values = {key: value for key, value in form.items() if key != "csrf_token"}
    data = {
        "email": values.get("email") or "",
        "full_name": values.get("full_name") or "",
        "organization": values.get("organization") or "",
        "role": values.get("role") or "",
        "country": values.get("country") or "",
        "language": values.get("language") or None,
        "timezone": values.get("timezone") or None,
        "consent": values.get("consent") == "yes",
        "job_title": values.get("job_title") or None,
        "phone": values.get("phone") or None,
        "tax_id": values.get("tax_id") or None,
        "offer_hs": values.get("offer_hs") or [],
        "offer_description": values.get("offer_description") or None,
        "demand_hs": values.get("demand_hs") or [],
        "demand_description": values.get("demand_description") or None,
    }
    language = language_of(request)
    try:
        row = ParticipantImport.model_validate(data)
    except ValidationError as error:
        errors = registration_errors(error, language)
        return _registration_page(request, event, values, errors, is_open=True, status=422)
    assert event.id is not None
    event_id = event.id
    # Each registration emails a sign-in link: the address's email budget applies, so re-registering
    # someone's address cannot flood their inbox (one budget for every link sent to an address).
    enforce_rate_limit(request, rate_rules(get_settings_of(request))["login-email"], row.email)
    link_for = _link_builder(request)
    run_write(
        request,
        lambda s: register_in_portal(
            s, event_id, row, now=utc_now(), link_lifetime=REGISTRATION_LINK_LIFETIME, link_for=link_for
        ),
    )
    return render(
        request,
        "participant/check_email.html",
        {"event": event, "title": translate(language, "Check your email")},
    )


@router.get("/e/{slug}/login", response_class=HTMLResponse)
def login_form(request: Request, slug: str, db: DbSession) -> Response:
    event = get_event_by_slug(db, slug)
    return render(
        request,
        "participant/login.html",
        {"event": event, "errors": {}, "values": {}, "title": translate(language_of(request), "Sign in")},
    )


@router.post("/e/{slug}/login", response_class=HTMLResponse)
def ask_login_link(request: Request, slug: str, email: Annotated[str, Form()] = "") -> Response:
    event = run_read(request, lambda s: get_event_by_slug(s, slug))
    language = language_of(request)
    rules = rate_rules(get_settings_of(request))
    enforce_rate_limit(request, rules["login"], client_address(request))
    address = email.strip().lower()
    if "@" not in address or len(address) > 254:
        errors = {"email": translate(language, "Enter a valid email address, like name@company.com.")}
        return render(
            request,
            "participant/login.html",
            {"event": event, "errors": errors, "values": {"email": email}},
            status_code=422,
        )
    enforce_rate_limit(request, rules["login-email"], address)
    assert event.id is not None
    event_id = event.id
    lifetime = timedelta(minutes=get_settings_of(request).portal.login_link_minutes)
    link_for = _link_builder(request)
    run_write(
        request,
        lambda s: request_login_link(
            s, event_id, address, now=utc_now(), lifetime=lifetime, link_for=link_for
        ),
    )
    # The same page whether or not the address is registered: the form reveals nobody.
    return render(
        request,
        "participant/check_email.html",
        {"event": event, "title": translate(language, "Check your email")},
    )


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request) -> Response:
    """Sign-in without an event (the link in agenda and reminder emails leads here)."""
    return render(
        request,
        "participant/login.html",
        {"event": None, "errors": {}, "values": {}, "title": translate(language_of(request), "Sign in")},
    )


@router.post("/signin", response_class=HTMLResponse)
def ask_login_links(request: Request, email: Annotated[str, Form()] = "") -> Response:
    language = language_of(request)
    rules = rate_rules(get_settings_of(request))
    enforce_rate_limit(request, rules["login"], client_address(request))
    address = email.strip().lower()
    if "@" not in address or len(address) > 254:
        errors = {"email": translate(language, "Enter a valid email address, like name@company.com.")}
        return render(
            request,
            "participant/login.html",
            {"event": None, "errors": errors, "values": {"email": email}},
            status_code=422,
        )
    enforce_rate_limit(request, rules["login-email"], address)
    lifetime = timedelta(minutes=get_settings_of(request).portal.login_link_minutes)
    link_for = _link_builder(request)
    run_write(
        request,
        lambda s: request_login_links_everywhere(
            s, address, now=utc_now(), lifetime=lifetime, link_for=link_for
        ),
    )
    return render(
        request,
        "participant/check_email.html",
        {"event": None, "title": translate(language, "Check your email")},
    )


@router.get("/agenda")
def agenda_from_email() -> Response:
    """The agenda link of the emails (flows.notify.agenda_url)."""
    return redirect("/me/agenda")


@router.get("/login", response_class=HTMLResponse)
def confirm_login(request: Request, t: str = "") -> Response:
    # A GET never spends the link: mail scanners that open links would burn it. The button POSTs.
    return render(
        request,
        "participant/login_confirm.html",
        {"token": t, "title": translate(language_of(request), "Sign in")},
    )


@router.post("/login")
def login(request: Request, t: Annotated[str, Form()] = "") -> Response:
    enforce_rate_limit(request, rate_rules(get_settings_of(request))["login"], client_address(request))
    token = unsign_login_token(_secret(request), t)
    if token is None:
        raise HTTPException(
            status_code=400,
            detail=translate(
                language_of(request), "This sign-in link is not valid or has expired. Ask for a new one."
            ),
        )
    try:
        participant = run_write(request, lambda s: sign_in_with_token(s, token, now=utc_now()))
    except DomainError:
        raise HTTPException(
            status_code=400,
            detail=translate(
                language_of(request), "This sign-in link is not valid or has expired. Ask for a new one."
            ),
        ) from None
    assert participant.id is not None
    start_login(request, "participant_id", participant.id, language=participant.language)
    return redirect("/me")


@router.post("/logout")
def sign_out(request: Request) -> Response:
    participant_id = request.session.get("participant_id")
    if isinstance(participant_id, int):
        # Every device: a copied or forgotten session cookie must not outlive signing out.
        run_write(request, lambda s: end_participant_sessions(s, participant_id, now=utc_now()))
    logout(request)
    return redirect("/")


@router.get("/me", response_class=HTMLResponse)
def profile(request: Request, me: Me, db: DbSession, hs_q: str = "", saved: int = 0) -> Response:
    view = load_profile(db, me)
    return _profile_page(request, view, {}, hs_q=hs_q, saved=bool(saved))


def _profile_page(
    request: Request,
    view: Any,
    errors: dict[str, str],
    *,
    hs_q: str = "",
    saved: bool = False,
    status: int = 200,
) -> Response:
    language = language_of(request)
    return render(
        request,
        "participant/profile.html",
        {
            "title": translate(language, "My profile"),
            "view": view,
            "errors": errors,
            "hs_query": hs_q,
            "hs_results": search_chapters(hs_q, language) if hs_q else [],
            "chapter_name": lambda code: chapter_name(code, language),
            "timezones": TIMEZONES,
            "saved": saved,
        },
        status_code=status,
    )


@router.post("/me", response_class=HTMLResponse)
async def save_profile(request: Request, me: Me) -> Response:
    form = await request.form()
    data = {
        "full_name": form.get("full_name") or "",
        "job_title": form.get("job_title") or None,
        "phone": form.get("phone") or None,
        "language": form.get("language") or "",
        "timezone": form.get("timezone") or "",
        "spoken_languages": form.getlist("spoken_languages"),
        "offer_hs": form.get("offer_hs") or "",
        "offer_description": form.get("offer_description") or "",
        "demand_hs": form.get("demand_hs") or "",
        "demand_description": form.get("demand_description") or "",
        "unavailable": form.getlist("unavailable"),
    }
    return await _in_thread(_save_profile, request, me, data)


def _save_profile(request: Request, me: int, data: dict[str, Any]) -> Response:
    language = language_of(request)
    try:
        update = ProfileUpdate.model_validate(data)
        participant = run_write(request, lambda s: update_profile(s, me, update, now=utc_now()))
    except ValidationError as error:
        with Session(get_engine(request)) as db:
            view = load_profile(db, me)
        return _profile_page(request, view, field_errors(error, language), status=422)
    request.session["profile_lang"] = participant.language
    request.scope.pop("rueda.lang", None)
    return redirect("/me?saved=1")


@router.post("/me/hs")
def pick_hs_code(
    request: Request,
    me: Me,
    code: Annotated[str, Form()],
    direction: Annotated[str, Form()],
    action: Annotated[str, Form()] = "add",
    hs_q: Annotated[str, Form()] = "",
) -> Response:
    if direction not in ("offer", "demand"):
        raise HTTPException(status_code=400, detail="direction")
    try:
        run_write(
            request,
            lambda s: change_hs_code(
                s, me, TradeDirection(direction), code, add=action != "remove", now=utc_now()
            ),
        )
    except ValidationError:
        raise HTTPException(
            status_code=400,
            detail=translate(language_of(request), "HS codes have 2, 4 or 6 digits, like 0901."),
        ) from None
    return redirect(f"/me?hs_q={hs_q}#hs-picker" if hs_q else "/me#hs-picker")


@router.get("/me/catalog", response_class=HTMLResponse)
def catalog(
    request: Request,
    me: Me,
    db: DbSession,
    role: str = "",
    country: str = "",
    sector: str = "",
    hs: str = "",
    language: str = "",
    page: int = Query(default=1, ge=1, le=10_000),
) -> Response:
    filters = CatalogFilters(
        role=ParticipantRole(role) if role in {r.value for r in ParticipantRole} else None,
        country=country.upper()[:2] or None,
        sector=sector.upper()[:4] or None,
        hs_chapter=hs[:2] if hs[:2].isdigit() else None,
        language=language.lower()[:2] or None,
    )
    result = load_catalog(
        db,
        me,
        filters,
        now=utc_now(),
        page=page,
        page_size=CATALOG_PAGE_SIZE,
        directories=request.app.state.directories,
    )
    lang = language_of(request)
    query = {
        k: v
        for k, v in (
            ("role", role),
            ("country", country),
            ("sector", sector),
            ("hs", hs),
            ("language", language),
        )
        if v
    }
    return render(
        request,
        "participant/catalog.html",
        {
            "title": translate(lang, "Participants"),
            "catalog": result,
            "entries": result.entries,
            "page": result.page,
            "pages": result.pages,
            "page_url": lambda number: "/me/catalog?" + urlencode({**query, "page": number}),
            "filters": filters,
            "roles": ROLES,
            "chapter_name": lambda code: chapter_name(code, lang),
            "chapters": [(c, chapter_name(c, lang)) for c in result.hs_chapters],
            "country_name": lambda code: _locale(lang).territories.get(code, code),
            "language_name": lambda code: _locale(lang).languages.get(code, code),
        },
    )


@router.post("/me/requests")
def ask_for_meeting(
    request: Request,
    me: Me,
    target_id: Annotated[int, Form()],
    priority: Annotated[str, Form()] = "nice",
    note: Annotated[str, Form()] = "",
) -> Response:
    chosen = RequestPriority.MUST if priority == "must" else RequestPriority.NICE
    portal_url = get_settings_of(request).portal.public_url
    run_write(
        request,
        lambda s: request_meeting(
            s, me, target_id, priority=chosen, note=note, now=utc_now(), portal_url=portal_url
        ),
    )
    return redirect("/me/requests?sent=1")


@router.get("/me/requests", response_class=HTMLResponse)
def requests_page(request: Request, me: Me, db: DbSession, sent: int = 0, answered: int = 0) -> Response:
    views = list_requests(db, me, now=utc_now())
    participant = get_active_participant(db, me)
    return render(
        request,
        "participant/requests.html",
        {
            "title": translate(language_of(request), "Requests"),
            "incoming": [v for v in views if v.is_incoming],
            "outgoing": [v for v in views if not v.is_incoming],
            "sent": bool(sent),
            "answered": bool(answered),
            "tz": _shown_zone(db, participant),
        },
    )


@router.post("/me/requests/{request_id}/{answer}")
def answer(request: Request, me: Me, request_id: int, answer: str) -> Response:
    if answer not in ("accept", "decline"):
        raise HTTPException(status_code=404)
    run_write(request, lambda s: answer_request(s, me, request_id, accept=answer == "accept", now=utc_now()))
    return redirect("/me/requests?answered=1")


@router.get("/me/agenda", response_class=HTMLResponse)
def agenda(request: Request, me: Me, db: DbSession) -> Response:
    return _agenda_page(request, me, db, "participant/agenda.html")


@router.get("/me/agenda/print", response_class=HTMLResponse)
def agenda_print(request: Request, me: Me, db: DbSession) -> Response:
    return _agenda_page(request, me, db, "participant/agenda_print.html")


def _agenda_page(request: Request, me: int, db: Any, template: str) -> Response:
    view = load_agenda(db, me)
    secret = _secret(request)
    feed = f"{get_settings_of(request).portal.public_url}/calendar/{calendar_feed_name(secret, me)}.ics"
    qr_svg = _qr_svg(
        checkin_code(secret, view.event_id, me), translate(language_of(request), "Check-in code")
    )
    return render(
        request,
        template,
        {
            "title": translate(language_of(request), "Agenda"),
            "agenda": view,
            "feed_url": feed,
            "webcal_url": "webcal://" + feed.split("://", 1)[1],
            "qr_svg": qr_svg,
        },
    )


@functools.lru_cache(maxsize=2048)
def _qr_svg(code: str, title: str) -> str:
    """The check-in QR code as inline SVG (the same for every view of one agenda: encoding it
    costs more than the rest of the page)."""
    return str(segno.make(code, error="m").svg_inline(scale=5, title=title))


def _calendar_response(
    request: Request, db: Any, participant_id: int, *, meeting_id: int | None = None, filename: str
) -> Response:
    view = load_agenda(db, participant_id)
    if meeting_id is not None and all(m.meeting_id != meeting_id for m in view.meetings):
        raise NotFoundError("no such meeting among yours")
    settings = get_settings_of(request)
    content = build_agenda_calendar(
        view,
        organizer=settings.smtp.from_address,
        stamp_at=utc_now(),
        domain=settings.portal.uid_domain,
        meeting_id=meeting_id,
    )
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/me/agenda.ics")
def agenda_calendar(request: Request, me: Me, db: DbSession) -> Response:
    return _calendar_response(request, db, me, filename="agenda.ics")


@router.get("/me/meetings/{meeting_id}.ics")
def meeting_calendar(request: Request, me: Me, db: DbSession, meeting_id: int) -> Response:
    return _calendar_response(request, db, me, meeting_id=meeting_id, filename=f"meeting-{meeting_id}.ics")


@router.get("/calendar/{name}.ics")
def calendar_feed(request: Request, db: DbSession, name: str) -> Response:
    participant_id = read_calendar_feed_name(_secret(request), name)
    if participant_id is None:
        raise HTTPException(status_code=404)
    return _calendar_response(request, db, participant_id, filename="agenda.ics")


@router.get("/survey", response_class=HTMLResponse)
def survey(request: Request, db: DbSession, t: str = Query(default="")) -> Response:
    view = _load_survey(request, db, t)
    return _survey_page(request, db, t, view, {}, {})


def _load_survey(request: Request, db: Any, token: str) -> Any:
    if not token:
        raise HTTPException(status_code=404)
    view = get_survey(db, token, now=utc_now())
    signed_in = request.session.get("participant_id")
    # A survey link opened in someone else's signed-in browser is not theirs to answer.
    if isinstance(signed_in, int) and signed_in != view.participant_id:
        raise HTTPException(status_code=403)
    return view


def _survey_page(
    request: Request,
    db: Any,
    token: str,
    view: Any,
    errors: dict[str, str],
    values: dict[str, Any],
    *,
    status: int = 200,
    saved: bool = False,
) -> Response:
    participant = get_active_participant(db, view.participant_id)
    return render(
        request,
        "participant/survey.html",
        {
            "title": translate(language_of(request), "Survey"),
            "token": token,
            "survey": view,
            "errors": errors,
            "values": values,
            "tz": _shown_zone(db, participant),
            "is_followup": view.wave is not SurveyWave.POST_EVENT,
            "months": {"followup_3m": 3, "followup_6m": 6, "followup_12m": 12}.get(view.wave.value, 0),
            "saved": saved,
            "followup_rows": max(3, len(view.followup_lines) + 1),
        },
        status_code=status,
    )


@router.post("/survey", response_class=HTMLResponse)
async def answer_survey(request: Request) -> Response:
    form = _form_dict(await request.form())
    return await _in_thread(_answer_survey, request, form)


def _answer_survey(request: Request, form: dict[str, Any]) -> Response:
    token = str(form.get("t") or "")
    with Session(get_engine(request)) as db:
        view = _load_survey(request, db, token)
    language = language_of(request)
    errors: dict[str, str] = {}
    meetings: list[MeetingAnswer] = []
    participant_answer: ParticipantAnswer | None = None
    followup: list[FollowupLine] | None = None
    if view.wave is SurveyWave.POST_EVENT:
        for meeting in view.meetings:
            prefix = f"m{meeting.meeting_id}_"
            took = form.get(prefix + "took_place")
            if took not in ("yes", "no"):
                continue  # not answered yet: it can come later
            amounts = {}
            for horizon in ("immediate", "3m", "6m", "12m"):
                cents, problem = _cents(form.get(prefix + "expected_" + horizon))
                if problem:
                    errors[prefix + "expected_" + horizon] = translate(language, problem)
                amounts[horizon] = cents
            interest = _small_int(form.get(prefix + "interest"))
            meetings.append(
                MeetingAnswer(
                    meeting_id=meeting.meeting_id,
                    took_place=took == "yes",
                    interest=interest,
                    next_steps=(form.get(prefix + "next_steps") or None),
                    currency=str(form.get(prefix + "currency") or "USD").upper()[:3],
                    usd_rate=_rate(form.get(prefix + "usd_rate")),
                    expected_immediate_cents=amounts["immediate"],
                    expected_3m_cents=amounts["3m"],
                    expected_6m_cents=amounts["6m"],
                    expected_12m_cents=amounts["12m"],
                )
            )
        satisfaction, recommend = _small_int(form.get("satisfaction")), _small_int(form.get("recommend"))
        if satisfaction is not None or recommend is not None or form.get("comments"):
            participant_answer = ParticipantAnswer(
                satisfaction=satisfaction, recommend=recommend, comments=form.get("comments") or None
            )
    else:
        followup = []
        rows = int(form.get("rows") or 0) if str(form.get("rows") or "0").isdigit() else 0
        # The form shows a handful of product lines; the bound keeps a forged count from tying up a worker.
        for number in range(min(rows, MAX_FOLLOWUP_LINES)):
            prefix = f"f{number}_"
            code = str(form.get(prefix + "hs_code") or "").strip()
            closed, problem_closed = _cents(form.get(prefix + "closed"))
            exported, problem_exported = _cents(form.get(prefix + "exported"))
            for key, problem in (
                (prefix + "closed", problem_closed),
                (prefix + "exported", problem_exported),
            ):
                if problem:
                    errors[key] = translate(language, problem)
            if not code and closed is None and exported is None:
                continue
            followup.append(
                FollowupLine(
                    hs_code=code,
                    currency=str(form.get(prefix + "currency") or "USD").upper()[:3],
                    usd_rate=_rate(form.get(prefix + "usd_rate")),
                    actual_closed_cents=closed,
                    actual_exported_cents=exported,
                )
            )
    if not errors:
        try:
            run_write(
                request,
                lambda s: submit_answers(
                    s,
                    token,
                    meetings=meetings,
                    participant=participant_answer,
                    followup=followup,
                    now=utc_now(),
                ),
            )
        except SurveyAnswerError as error:
            errors = _survey_errors(error, language)
    with Session(get_engine(request)) as db:
        fresh = get_survey(db, token, now=utc_now())
        if errors:
            return _survey_page(request, db, token, fresh, errors, form, status=422)
        return _survey_page(request, db, token, fresh, {}, {}, saved=True)


def _survey_errors(error: SurveyAnswerError, language: str) -> dict[str, str]:
    """`meetings[12].interest` -> `m12_interest`; `participant.satisfaction` -> `satisfaction`."""
    errors: dict[str, str] = {}
    for item in error.errors:
        name = item.field
        if name.startswith("meetings["):
            number, _, rest = name[len("meetings[") :].partition("]")
            key = f"m{number}_{rest.lstrip('.') or 'took_place'}"
        elif name.startswith("followup["):
            number, _, rest = name[len("followup[") :].partition("]")
            key = f"f{number}_{rest.lstrip('.')}".replace("actual_closed_cents", "closed").replace(
                "actual_exported_cents", "exported"
            )
        else:
            key = name.split(".")[-1]
        key = key.replace("_cents", "")
        errors[key] = translate(language, item.message)
    return errors


def _cents(value: Any) -> tuple[int | None, str | None]:
    text = str(value or "").strip().replace(" ", "")
    if not text:
        return None, None
    # "12.500,50" and "12,500.50" both mean twelve thousand five hundred and a half.
    if "," in text and "." in text:
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    elif "," in text:
        text = text.replace(",", ".") if len(text.rsplit(",", 1)[1]) <= 2 else text.replace(",", "")
    try:
        # ASCII digits only: Decimal() also reads "NaN", "Infinity", "1e999999999" and other scripts'
        # digits, none of which is an amount a person typed.
        amount = Decimal(text) if _PLAIN_NUMBER.fullmatch(text) else None
    except InvalidOperation:
        amount = None
    if amount is None:
        return None, "Write an amount with digits only, like 25000."
    if amount < 0:
        return None, "cannot be negative"
    if amount * 100 > MAX_AMOUNT_CENTS:
        return None, "is implausibly large; check the number of digits"
    return int((amount * 100).to_integral_value()), None


_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


def _small_int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None


def _rate(value: Any) -> float | None:
    text = str(value or "").strip().replace(",", ".")
    try:
        # A rate that is not a finite number ("inf", "1e999", "nan") is refused by the survey
        # service, which names the field; the bound is there too (services/surveys.py).
        return float(text) if text else None
    except ValueError:
        return None


@router.get("/me/data", response_class=HTMLResponse)
def my_data(request: Request, me: Me, db: DbSession) -> Response:
    data = export_personal_data(db, me, now=utc_now())
    return render(
        request,
        "participant/data.html",
        {
            "title": translate(language_of(request), "My data"),
            "data": data,
            "erasure_requested_at": erasure_requested_at(db, me),
            "tz": _shown_zone(db, get_active_participant(db, me)),
        },
    )


@router.get("/me/data.json")
def my_data_json(request: Request, me: Me, db: DbSession) -> Response:
    data = export_personal_data(db, me, now=utc_now())
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"},
    )


@router.post("/me/data/erase")
def erase_my_data(request: Request, me: Me) -> Response:
    run_write(request, lambda s: request_erasure(s, me, now=utc_now()))
    return redirect("/me/data")


def _shown_zone(db: Any, participant: Participant) -> str:
    """The zone the participant's pages show times in: the venue's, or theirs for a virtual event."""
    event = db.get(Event, participant.event_id)
    return shown_zone(event, participant.timezone) if event is not None else participant.timezone


async def _in_thread(function: Any, *args: Any) -> Response:
    """Run blocking work (database, rate limits) off the event loop, after the async form parse."""
    response: Response = await run_in_threadpool(function, *args)
    return response
