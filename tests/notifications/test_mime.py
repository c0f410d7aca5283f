"""The hand-written MIME of `build_email` against the standard library's: for any subject, names,
bodies and calendar files, a mail reader parsing either gets the same headers, text, HTML and
attachments (the standard library's builder is the reference and the fallback)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.delivery import _build_with_stdlib, _header, build_email, header_text
from notifications.ics import CalendarFile
from notifications.render import RenderedMessage

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=120)
calendars = st.lists(
    st.builds(
        CalendarFile,
        filename=st.sampled_from(["agenda.ics", "meeting-12.ics", "cancelled.ics"]),
        method=st.sampled_from(["REQUEST", "CANCEL", "PUBLISH"]),
        content=texts.map(lambda t: t.encode("utf-8")),
    ),
    max_size=2,
)


def _parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _observed(message: EmailMessage) -> tuple[object, ...]:
    text, html = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    files = [
        (a.get_content_type(), a.get_param("method"), a.get_filename(), a.get_payload(decode=True))
        for a in message.iter_attachments()
    ]

    def body(part: Any) -> str:  # an empty body may come back as one line end
        content: str = part.get_content()
        return content.replace("\r\n", "\n").rstrip("\n")

    return (message.get_content_type(), body(text), body(html), files)


@settings(max_examples=150, deadline=None)
@given(
    subject=names,
    to_name=names,
    text=texts,
    html=texts,
    files=calendars,
    key=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=200),
)
def test_the_written_message_reads_as_the_standard_librarys(
    subject: str, to_name: str, text: str, html: str, files: list[CalendarFile], key: str
) -> None:
    rendered = RenderedMessage(subject=subject, text=text, html=html)

    def build() -> bytes:
        return build_email(
            rendered=rendered,
            calendar_files=files,
            from_address="Macrorrueda Pacífico <noreply@rueda.example.org>",
            to_address="ana@example.org",
            to_name=to_name,
            message_id="<abc123@rueda.localhost>",
            language="es",
            date_at=datetime(2027, 5, 19, 13, 0, tzinfo=UTC),
            kind="agenda.published",
            outbox_key=key,
        )

    raw = build()
    assert raw == build()  # nothing random: a resent copy is byte-identical
    assert b"==alt-" in raw  # written here, not by the fallback
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert raw.isascii()  # 7-bit: every body is quoted-printable or base64, every header encoded
    message = _parse(raw)
    assert message["Subject"] == header_text(subject)
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (header_text(to_name), "ana@example.org")
    assert message["From"].addresses[0].display_name == "Macrorrueda Pacífico"
    assert message["Message-ID"] == "<abc123@rueda.localhost>"
    assert (message["X-Rueda-Kind"], message["X-Rueda-Outbox-Key"]) == ("agenda.published", key)
    assert message["Auto-Submitted"] == "auto-generated"
    headers = [
        ("Subject", _header(subject, "Subject")),
        ("To", message["To"]),
    ]
    reference = _parse(_build_with_stdlib(headers, rendered, files))
    assert _observed(message) == _observed(reference)
    assert message["Subject"] == reference["Subject"]


def test_a_long_subject_is_folded_and_a_non_ascii_address_falls_back() -> None:
    rendered = RenderedMessage(subject="Reunión " * 20, text="Hola", html="<p>Hola</p>")
    common = dict(
        rendered=rendered,
        calendar_files=[],
        from_address="Rueda <noreply@rueda.example.org>",
        to_name="Ana",
        message_id="<m1@rueda.localhost>",
        language="es",
        date_at=datetime(2027, 5, 19, 13, 0, tzinfo=UTC),
    )
    raw = build_email(to_address="ana@example.org", **common)  # type: ignore[arg-type]
    head = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    subject_lines = head[head.index(next(h for h in head if h.startswith(b"Subject:"))) :][:4]
    assert all(len(line) <= 78 for line in head)
    assert subject_lines[1].startswith(b" =?utf-8?b?")
    assert _parse(raw)["Subject"] == ("Reunión " * 20).strip()
    common["to_name"] = None
    fallback = build_email(to_address="añа@example.org", **common)  # type: ignore[arg-type]
    assert b"==alt-" not in fallback and _parse(fallback)["Subject"] == ("Reunión " * 20).strip()
