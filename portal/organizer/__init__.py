"""Organizer and staff pages: accounts, event setup, dashboard, check-in desk, lifecycle buttons.

Who sees what, checked on every request and every object:
- a signed-in user is `session["user_id"]` (a participant's session, `participant_id`, opens
  nothing here);
- each page names its event by slug and resolves the user's role in it
  (`services.accounts.require_access`): not a member answers 404, as if the event did not exist;
  staff (check-in desk, read-only dashboard) asking for an organizer page answers 403;
- ids in URLs and forms (meetings, participants) are looked up inside that event only.

Every POST carries the session's CSRF token (router dependency). Sign-in attempts are counted per
client address and per email in the shared rate-limit table before the password is checked, so a
correct guess past the limit is refused too.

Writes run in one transaction each (`run_write`), with the access check inside it: on SQLite a
read session left open would hold the write lock the write waits for.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from models import MemberRole, User
from models.schemas import ORGANIZER_TEXT_KINDS, ORGANIZER_TEXT_MAX
from portal.i18n import LANGUAGE_NAMES, translate
from portal.organizer import messages as _messages  # noqa: F401  (registers the translations)
from portal.organizer.launch import STEPS, LaunchError, launch, steps_for
from portal.organizer.messages import TEXT_KIND_LABELS
from portal.tokens import read_checkin_code
from portal.web import (
    CsrfProtected,
    DbSession,
    client_address,
    emit_facts,
    enforce_rate_limit,
    get_settings_of,
    language_of,
    logout,
    redirect,
    render,
    run_read,
    run_write,
    session_started_at,
    start_login,
    utc_now,
)
from services.accounts import (
    Access,
    ForbiddenError,
    authenticate,
    end_user_sessions,
    list_access,
    require_access,
)
from services.checkin import get_desk_participant, load_desk_meetings, search_participants
from services.dashboard import (
    build_grid,
    list_failed_emails,
    list_no_shows,
    list_skipped_emails,
    list_waiting,
    load_summary,
)
from services.erasure import (
    ErasureError,
    ErasureOutcome,
    ErasureRequest,
    carry_out_erasure,
    erase_files,
    erasure_options,
    list_erasure_requests,
    record_files_erased,
    refuse_erasure,
)
from services.event_setup import SetupError, setup_values, text_field, update_setup
from services.onsite import (
    ChangeResult,
    arrive,
    check_in,
    get_meeting,
    has_unsettled_meetings,
    mark_no_show,
    settle_meetings,
)
from services.portal_accounts import session_is_current
from services.ratelimit import RateLimit

log = logging.getLogger("rueda.portal.organizer")

router = APIRouter(
    prefix="/organizer", tags=["organizer"], dependencies=[CsrfProtected], include_in_schema=False
)

LOGIN_PATH = "/organizer/login"
# Ids are 32-bit in the database; a larger one cannot exist (and would overflow the driver).
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _(request: Request, text: str, **values: object) -> str:
    return translate(language_of(request), text, **values)


def _login_rules(request: Request) -> tuple[RateLimit, RateLimit]:
    portal = get_settings_of(request).portal
    window = timedelta(seconds=portal.rate_limit_window_seconds)
    attempts = portal.login_attempts_per_window
    return RateLimit("organizer-login", attempts, window), RateLimit(
        "organizer-login-email", attempts, window
    )


def _user_id(request: Request) -> int:
    """The signed-in organizer's id, once the account is known to be active and the session not
    ended by signing out (on any device); else to the sign-in page."""
    user = _user(request, None)
    assert user.id is not None
    return user.id


def _user(request: Request, db: Session | None) -> User:
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        raise HTTPException(status_code=303, headers={"Location": LOGIN_PATH})
    user = db.get(User, user_id) if db is not None else run_read(request, lambda s: s.get(User, user_id))
    if (
        user is None
        or not user.is_active
        or not session_is_current(user.sessions_valid_after, session_started_at(request))
    ):
        logout(request)
        raise HTTPException(status_code=303, headers={"Location": LOGIN_PATH})
    return user


def _access(db: Session, user_id: int, slug: str, minimum: MemberRole = MemberRole.STAFF) -> Access:
    try:
        return require_access(db, user_id, slug, minimum=minimum)
    except ForbiddenError as error:
        raise HTTPException(status_code=403, detail=str(error)) from None


def _page(request: Request, template: str, context: dict[str, Any], *, status_code: int = 200) -> Response:
    values = {"flash": request.session.pop("flash", None), **context}
    return render(request, f"organizer/{template}", values, status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    if isinstance(request.session.get("user_id"), int):
        return redirect("/organizer/")
    return _page(request, "login.html", {"title": _(request, "Organizer sign-in"), "errors": {}, "email": ""})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
) -> Response:
    by_address, by_email = _login_rules(request)
    enforce_rate_limit(request, by_address, client_address(request))
    address = email.strip().lower()
    errors: dict[str, str] = {}
    if "@" not in address or len(address) > 254:
        errors["email"] = _(request, "Enter a valid email address, like name@company.com.")
    if not password:
        errors["password"] = _(request, "Enter your password.")
    if errors:
        context = {"title": _(request, "Organizer sign-in"), "errors": errors, "email": email}
        return _page(request, "login.html", context, status_code=422)
    enforce_rate_limit(request, by_email, address)
    user = run_write(request, lambda s: authenticate(s, address, password))
    if user is None or user.id is None:
        errors = {"password": _(request, "The email or the password is not right.")}
        context = {"title": _(request, "Organizer sign-in"), "errors": errors, "email": email}
        return _page(request, "login.html", context, status_code=401)
    start_login(request, "user_id", user.id)
    log.info("organizer %d signed in", user.id)
    return redirect("/organizer/")


@router.post("/logout")
def sign_out(request: Request) -> Response:
    user_id = request.session.get("user_id")
    if isinstance(user_id, int):
        # Every device: a copied or forgotten session cookie must not outlive signing out.
        run_write(request, lambda s: end_user_sessions(s, user_id, now=utc_now()))
    logout(request)
    return redirect(LOGIN_PATH)


@router.get("/", response_class=HTMLResponse)
def my_events(request: Request, db: DbSession) -> Response:
    user = _user(request, db)
    assert user.id is not None
    return _page(
        request,
        "events.html",
        {"title": _(request, "My events"), "user": user, "accesses": list_access(db, user.id)},
    )


@router.get("/events/{slug}", response_class=HTMLResponse)
def dashboard(
    request: Request,
    slug: str,
    db: DbSession,
    day: date | None = None,
    tables_from: Annotated[int, Query(ge=1, le=100_000)] = 1,
    who: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    _settle(request, slug)
    user = _user(request, db)
    assert user.id is not None
    access = _access(db, user.id, slug)
    event = access.event
    return _page(
        request,
        "dashboard.html",
        {
            "title": event.name,
            "user": user,
            "access": access,
            "event": event,
            "summary": load_summary(db, event),
            "grid": build_grid(db, event, day, first=tables_from, who=who),
            "waiting": list_waiting(db, event),
            "no_shows": list_no_shows(db, event),
            "failures": list_failed_emails(db, event),
            "skipped": list_skipped_emails(db, event),
            "erasures_pending": sum(1 for r in list_erasure_requests(db, event) if r.state == "pending"),
            "steps": steps_for(event.status),
        },
    )


def _settle(request: Request, slug: str) -> None:
    """Meetings whose slot has ended are held before the figures are read (docs/portal.md): one
    indexed read, and a write only when there is something to settle. Runs before the page's read
    session is first used (on SQLite that session would hold the lock this write needs)."""
    user_id, now = _user_id(request), utc_now()

    def pending(session: Session) -> bool:
        return has_unsettled_meetings(session, _access(session, user_id, slug).event, now=now)

    if run_read(request, pending):
        run_write(request, lambda s: settle_meetings(s, _access(s, user_id, slug).event, now=now))
        emit_facts(request)


@router.get("/events/{slug}/setup", response_class=HTMLResponse)
def setup_form(request: Request, slug: str, db: DbSession) -> Response:
    user = _user(request, db)
    assert user.id is not None
    access = _access(db, user.id, slug, MemberRole.ORGANIZER)
    values = setup_values(db, access.event)
    return _setup_page(request, access, values, {})


def _setup_page(
    request: Request, access: Access, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    context = {
        "title": _(request, "Event setup"),
        "access": access,
        "event": access.event,
        "values": values,
        "errors": errors,
        "policies": ("sellers_to_buyers", "buyers_to_sellers", "both_ways", "anyone"),
        "text_limit": ORGANIZER_TEXT_MAX,
        "text_sections": [
            {
                "kind": kind,
                "label": _(request, TEXT_KIND_LABELS[kind]),
                "fields": [
                    (text_field(kind, language), LANGUAGE_NAMES[language])
                    for language in access.event.languages
                ],
                "open": any(
                    text_field(kind, language) in errors
                    or str(values.get(text_field(kind, language), "")).strip()
                    for language in access.event.languages
                ),
            }
            for kind in ORGANIZER_TEXT_KINDS
        ],
    }
    return _page(request, "setup.html", context, status_code=status_code)


@router.post("/events/{slug}/setup", response_class=HTMLResponse)
async def save_setup(request: Request, slug: str) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}
    user_id = _user_id(request)

    def work(session: Session) -> Access | tuple[Access, dict[str, str]]:
        access = _access(session, user_id, slug, MemberRole.ORGANIZER)
        try:
            update_setup(session, access.event, form, now=utc_now())
        except SetupError as error:
            return access, error.errors
        return access

    outcome = await run_in_threadpool(run_write, request, work)
    if isinstance(outcome, tuple):
        access, errors = outcome
        return _setup_page(request, access, form, errors, status_code=422)
    request.session["flash"] = _(request, "The event was saved.")
    return redirect(f"/organizer/events/{slug}/setup")


@router.post("/events/{slug}/launch/{step}", response_class=HTMLResponse)
def launch_step(request: Request, slug: str, step: str) -> Response:
    if step not in STEPS:
        raise HTTPException(status_code=404)
    user_id = _user_id(request)
    access = run_write(request, lambda s: _access(s, user_id, slug, MemberRole.ORGANIZER))
    if step not in steps_for(access.event.status):
        context = {
            "title": _(request, "Not started"),
            "event": access.event,
            "step": step,
            "run": None,
            "not_now": True,
        }
        return _page(request, "launched.html", context, status_code=409)
    try:
        run = launch(get_settings_of(request), step, access.event.slug)
    except LaunchError as error:
        log.warning("could not launch %s for %s: %s", step, access.event.slug, error)
        context = {
            "title": _(request, "Not started"),
            "event": access.event,
            "step": step,
            "run": None,
            "not_now": False,
        }
        return _page(request, "launched.html", context, status_code=503)
    log.info("user %d launched %s for %s: flow run %s", user_id, step, access.event.slug, run.flow_run_id)
    context = {
        "title": _(request, "Started"),
        "event": access.event,
        "step": step,
        "run": run,
        "not_now": False,
    }
    return _page(request, "launched.html", context)


@router.get("/events/{slug}/checkin", response_class=HTMLResponse)
def checkin_desk(request: Request, slug: str, db: DbSession, q: str = "", code: str = "") -> Response:
    user = _user(request, db)
    assert user.id is not None
    access = _access(db, user.id, slug)
    event = access.event
    error = None
    if code.strip():
        found = read_checkin_code(get_settings_of(request).portal.secret_key.get_secret_value(), code)
        if found is not None and found[0] == event.id:
            return redirect(f"/organizer/events/{slug}/checkin/{found[1]}")
        error = _(request, "This is not a check-in code of this event.")
    results = search_participants(db, event, q[:100]) if q.strip() else []
    context = {
        "title": _(request, "Check-in desk"),
        "access": access,
        "event": event,
        "q": q,
        "code": code,
        "error": error,
        "results": results,
    }
    return _page(request, "checkin.html", context, status_code=404 if error else 200)


@router.get("/events/{slug}/checkin/{participant_id}", response_class=HTMLResponse)
def desk_participant(request: Request, slug: str, participant_id: Id, db: DbSession) -> Response:
    user = _user(request, db)
    assert user.id is not None
    access = _access(db, user.id, slug)
    event = access.event
    person = get_desk_participant(db, event, participant_id)
    context = {
        "title": person.full_name,
        "access": access,
        "event": event,
        "person": person,
        "meetings": load_desk_meetings(db, event, participant_id),
    }
    return _page(request, "desk.html", context)


def _meeting_action(
    request: Request, slug: str, meeting_id: int, participant_id: int, action: str
) -> Response:
    user_id = _user_id(request)

    def work(session: Session) -> ChangeResult:
        access = _access(session, user_id, slug)
        event = access.event
        meeting = get_meeting(session, event, meeting_id)
        if participant_id not in (meeting.participant_a_id, meeting.participant_b_id):
            raise HTTPException(status_code=404)
        if action == "check-in":
            return check_in(session, event, meeting_id, now=utc_now())
        return mark_no_show(session, event, meeting_id, now=utc_now())

    result = run_write(request, work)
    emit_facts(request)
    log.info("user %d: %s", user_id, result.detail)
    messages = {
        ("check-in", True): "Meeting checked in.",
        ("check-in", False): "This meeting was already checked in.",
        ("no-show", True): "Meeting marked as a no-show; its seat goes back to the waiting list.",
        ("no-show", False): "This meeting was already a no-show.",
    }
    request.session["flash"] = _(request, messages[(action, result.changed)])
    return redirect(f"/organizer/events/{slug}/checkin/{participant_id}")


@router.post("/events/{slug}/meetings/{meeting_id}/check-in")
def meeting_check_in(
    request: Request, slug: str, meeting_id: Id, participant_id: Annotated[int, Form(ge=1, le=2**31 - 1)]
) -> Response:
    return _meeting_action(request, slug, meeting_id, participant_id, "check-in")


@router.post("/events/{slug}/meetings/{meeting_id}/no-show")
def meeting_no_show(
    request: Request, slug: str, meeting_id: Id, participant_id: Annotated[int, Form(ge=1, le=2**31 - 1)]
) -> Response:
    return _meeting_action(request, slug, meeting_id, participant_id, "no-show")


@router.post("/events/{slug}/participants/{participant_id}/arrive")
def participant_arrive(request: Request, slug: str, participant_id: Id) -> Response:
    """The desk's "Checked in (arrived)": the participant is here (staff role is enough)."""
    user_id = _user_id(request)

    def work(session: Session) -> ChangeResult:
        return arrive(session, _access(session, user_id, slug).event, participant_id, now=utc_now())

    result = run_write(request, work)
    emit_facts(request)
    log.info("user %d: %s", user_id, result.detail)
    message = "Arrival recorded." if result.changed else "This participant had already arrived."
    request.session["flash"] = _(request, message)
    return redirect(f"/organizer/events/{slug}/checkin/{participant_id}")


@router.get("/events/{slug}/privacy", response_class=HTMLResponse)
def privacy_requests(request: Request, slug: str, db: DbSession) -> Response:
    user = _user(request, db)
    assert user.id is not None
    access = _access(db, user.id, slug, MemberRole.ORGANIZER)
    return _privacy_page(request, access, list_erasure_requests(db, access.event))


def _privacy_state(db: Session, user_id: int, slug: str) -> tuple[Access, list[ErasureRequest]]:
    access = _access(db, user_id, slug, MemberRole.ORGANIZER)
    return access, list_erasure_requests(db, access.event)


def _privacy_page(
    request: Request,
    access: Access,
    requests: list[ErasureRequest],
    *,
    errors: dict[int, str] | None = None,
    confirm_errors: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "title": _(request, "Data deletion requests"),
        "access": access,
        "event": access.event,
        "requests": requests,
        "errors": errors or {},
        "confirm_errors": confirm_errors or {},
    }
    return _page(request, "privacy.html", context, status_code=status_code)


@router.post("/events/{slug}/privacy/{participant_id}/erase")
def privacy_erase(
    request: Request, slug: str, participant_id: Id, confirm: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    user_id = _user_id(request)
    settings = get_settings_of(request)
    if confirm != "yes":
        access, requests = run_read(request, lambda s: _privacy_state(s, user_id, slug))
        message = _(request, "Tick the box to confirm: an erasure cannot be undone.")
        return _privacy_page(
            request, access, requests, confirm_errors={participant_id: message}, status_code=422
        )

    def work(session: Session) -> ErasureOutcome:
        access = _access(session, user_id, slug, MemberRole.ORGANIZER)
        user = session.get(User, user_id)
        assert user is not None
        return carry_out_erasure(
            session,
            access.event,
            participant_id,
            by=user.email,
            now=utc_now(),
            options=erasure_options(settings, access.event.slug),
        )

    outcome = run_write(request, work)
    # The archive and the stored report after the commit: a failed erasure leaves them as they were.
    now = utc_now()
    done = erase_files(outcome, erasure_options(settings, slug), now=now)
    if done:
        run_write(
            request,
            lambda s: record_files_erased(
                s, _access(s, user_id, slug, MemberRole.ORGANIZER).event, participant_id, done, now=now
            ),
        )
    emit_facts(request)
    log.info("user %d: %s", user_id, outcome.summary())
    request.session["flash"] = _(
        request, "Participant {id} was erased; the confirmation email is queued.", id=participant_id
    )
    return redirect(f"/organizer/events/{slug}/privacy")


@router.post("/events/{slug}/privacy/{participant_id}/refuse", response_class=HTMLResponse)
def privacy_refuse(
    request: Request, slug: str, participant_id: Id, reason: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    user_id = _user_id(request)

    def work(session: Session) -> ErasureRequest | tuple[Access, list[ErasureRequest], str]:
        access = _access(session, user_id, slug, MemberRole.ORGANIZER)
        user = session.get(User, user_id)
        assert user is not None
        try:
            return refuse_erasure(
                session, access.event, participant_id, by=user.email, reason=reason, now=utc_now()
            )
        except ErasureError as error:
            return access, list_erasure_requests(session, access.event), str(error)

    outcome = run_write(request, work)
    if isinstance(outcome, tuple):
        access, requests, message = outcome
        return _privacy_page(request, access, requests, errors={participant_id: message}, status_code=422)
    emit_facts(request)
    log.info("user %d refused the erasure of participant %d", user_id, participant_id)
    request.session["flash"] = _(request, "The request was refused; the participant is told the reason.")
    return redirect(f"/organizer/events/{slug}/privacy")
