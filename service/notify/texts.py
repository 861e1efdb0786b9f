"""The words of a notice: a short SMS text and an email (plain text and HTML), in zh-CN or en.

The texts live in ``texts.json`` beside this module (one key per text, ``{"zh-CN", "en"}``,
the console's table style); the HTML of an email is the Jinja2 template
``templates/email.html`` with autoescaping, so an enterprise called ``<b>&`` reads as such.
Times are local (Asia/Shanghai). Everything here is pure: the same notice gives the same text.

An SMS is measured as a phone network does (3GPP TS 23.038): a text that fits the GSM 7-bit
alphabet (the ``gsm0338`` codec) takes 160 septets in one message or 153 per segment of a
concatenated one (an extension character such as ``€`` or ``[`` takes two, never split);
anything else (Chinese) goes as UCS-2: 70 UTF-16 units, or 67 per segment (a surrogate pair
is never split). :func:`sms_text` keeps within ``max_segments`` by dropping, in this order, the
measures (the last first), the kg/day, then shortening the enterprise and region names and an
alarm's subject (to :data:`SHORT_NAME` characters), then the acknowledgement link (the names
get their length back and are shortened again if need be); the signature, the level, the time
span and the cut stay.
The signature's 【】 are not GSM characters: every SMS, English too, goes as UCS-2.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from functools import cache
from importlib import resources

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import jinja2

from emission_list.i18n import LANGUAGES, Text, is_bilingual, pick
from emission_list.levels import LIST_POLLUTANTS, Level
from emission_list.warning_texts import level_name, local_zone
from service.console.texts import Texts
from service.notify.message import Notice
from service.settings import Settings

#: Septets / UTF-16 units of one SMS and of one segment of a concatenated SMS.
GSM7_SINGLE, GSM7_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_SEGMENT = 70, 67
ELLIPSIS = "…"
#: Names are cut down to this many characters before the acknowledgement link is dropped.
SHORT_NAME = 8
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@cache
def notice_texts() -> Texts:
    """The table ``texts.json``, read once; refuses a text missing a language."""
    raw = resources.files("service.notify").joinpath("texts.json").read_text("utf-8")
    table = json.loads(raw)
    for key, value in table.items():
        if not is_bilingual(value) or set(value) != set(LANGUAGES):
            raise ValueError(f"notice text {key!r} needs exactly {LANGUAGES}")
    return Texts(table)


def sender_signature(settings: Settings | None = None) -> Text:
    """The sender's signature (``HAZE_SMS_SIGNATURE``, ``HAZE_SMS_SIGNATURE_EN``) of
    ``settings``, else their defaults."""
    if settings is not None:
        return {"zh-CN": settings.sms_signature, "en": settings.sms_signature_en}
    fields = Settings.model_fields
    return {"zh-CN": fields["sms_signature"].default, "en": fields["sms_signature_en"].default}


# ---------------------------------------------------------------- SMS length


def _unit_lengths(text: str) -> tuple[list[int], int, int]:
    """Per character: its length in the encoding the text needs, and that encoding's limits."""
    try:
        return [len(c.encode("gsm03.38")) for c in text], GSM7_SINGLE, GSM7_SEGMENT
    except UnicodeEncodeError:
        return [len(c.encode("utf-16-le")) // 2 for c in text], UCS2_SINGLE, UCS2_SEGMENT


def sms_encoding(text: str) -> str:
    """``gsm7`` if every character is in the GSM 7-bit alphabet, else ``ucs2``."""
    return "gsm7" if _unit_lengths(text)[1] == GSM7_SINGLE else "ucs2"


def sms_segments(text: str) -> int:
    """How many SMS ``text`` takes (1 for an empty text)."""
    units, single, segment = _unit_lengths(text)
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > segment:
            count, used = count + 1, 0
        used += unit
    return count


# ---------------------------------------------------------------- pieces


def _clean(value: str) -> str:
    """One line: control characters and line breaks become a space."""
    return _CONTROL.sub(" ", value).strip()


def _name(value: Text, fallback: str | None) -> Callable[[str], str]:
    def named(language: str) -> str:
        return _clean(pick(value, language) if value else (fallback or ""))

    return named


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(local_zone())


def format_time(moment: dt.datetime, language: str, long: bool = False) -> str:
    """``moment`` in local time: ``12月7日08:00`` / ``12-07 08:00`` (long: with year and zone)."""
    local = _local(moment)
    return notice_texts().say(
        "notify.time.long" if long else "notify.time.short",
        language,
        year=local.year,
        month=local.month,
        day=local.day,
        hm=local.strftime("%H:%M"),
    )


def format_span(notice: Notice, language: str, long: bool = False) -> str:
    """From when until when the notice's orders or warning hold, in local time."""
    start, end = notice.valid_from, notice.valid_until
    say = notice_texts().say
    if start and end:
        return say(
            "notify.span.between",
            language,
            start=format_time(start, language, long),
            end=format_time(end, language, long),
        )
    if start:
        return say("notify.span.from", language, start=format_time(start, language, long))
    if end:
        return say("notify.span.until", language, end=format_time(end, language, long))
    return say("notify.span.now", language)


def _number(value: float) -> str:
    """Up to one decimal, no trailing zero: 12.0 -> 12, 3.25 -> 3.2."""
    return f"{value:.1f}".removesuffix(".0")


def format_cut(cut: float, language: str, bare: bool = False) -> str:
    """The production cut in words (0: no mandatory cut); ``bare``: just the percentage."""
    if not math.isfinite(cut) or cut <= 0:
        return notice_texts().say("notify.cut.none", language)
    percent = f"{_number(cut * 100)}%"
    return percent if bare else notice_texts().say("notify.cut.percent", language, percent=percent)


def reductions(notice: Notice) -> list[tuple[str, float]]:
    """The kg/day to cut per list pollutant (in the list's order; zero and non-finite left out)."""
    amounts = notice.reductions_kg_per_day
    ordered = [p for p in LIST_POLLUTANTS if p in amounts] + sorted(
        p for p in amounts if p not in LIST_POLLUTANTS
    )
    return [(p, amounts[p]) for p in ordered if math.isfinite(amounts[p]) and amounts[p] > 0]


def pollutant_name(pollutant: str, language: str, short: bool = False) -> str:
    key = f"notify.pollutant{'_short' if short else ''}.{pollutant}"
    return notice_texts().say(key, language) if key in notice_texts() else pollutant


def _level(level: str, language: str, capital: bool = False) -> str:
    try:
        return pick(level_name(Level.parse(level), capital), language)
    except (KeyError, ValueError):
        return level


def _said(key: str, language: str, fallback: str) -> str:
    return notice_texts().say(key, language) if key in notice_texts() else fallback


def _alarm_values(notice: Notice, language: str, long: bool) -> dict[str, str]:
    """What an alarm's sentences name (empty words for a notice without its alarm)."""
    alarm = notice.alarm
    kind, grade = (alarm.kind, alarm.grade) if alarm is not None else ("", "")
    named = _said(f"notify.alarm.grade.{grade}", language, grade)
    return {
        "kind": _said(f"notify.alarm.kind.{kind}", language, kind),
        "grade": named,
        "Grade": named[:1].upper() + named[1:],
        "subject": _clean(alarm.subject) if alarm is not None else "",
        "since": format_time((alarm and alarm.started_at) or notice.created_at, language, long),
    }


def _values(notice: Notice, language: str, long: bool) -> dict[str, str]:
    """What the event sentences name, in ``language``."""
    # When a warning ended: its end if that has passed (expiry), else the notice (a lift).
    ended = _local(notice.created_at)
    if notice.valid_until is not None:
        ended = min(ended, _local(notice.valid_until))
    return _alarm_values(notice, language, long) | {
        "enterprise": _name(notice.enterprise_name, notice.enterprise_id)(language),
        "region": _name(notice.region_name, notice.region)(language),
        "level": _level(notice.level, language),
        "Level": _level(notice.level, language, capital=True),
        "previous": _level(notice.previous_level, language),
        "Previous": _level(notice.previous_level, language, capital=True),
        "span": format_span(notice, language, long),
        "cut": format_cut(notice.production_cut, language),
        "time": format_time(ended, language, long),
    }


# ---------------------------------------------------------------- SMS


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: max(limit - 1, 0)] + ELLIPSIS


def sms_text(
    notice: Notice,
    language: str,
    ack_url: str | None,
    max_segments: int,
    signature: Text | None = None,
) -> str:
    """The SMS of ``notice`` in ``language``, within ``max_segments`` SMS (see the module)."""
    say = notice_texts().say
    sep = "" if language.lower().startswith("zh") else " "  # Chinese sentences join without
    items_sep = say("notify.list_sep", language)
    values = _values(notice, language, long=False)
    head = f"【{_clean(pick(signature or sender_signature(), language))}】"
    measures = [_clean(pick(a, language)) for a in notice.actions if a]
    cuts = [
        f"{pollutant_name(p, language, short=True)} {_number(kg)}" for p, kg in reductions(notice)
    ]
    names = {key: values[key] for key in ("enterprise", "region", "subject")}

    def compose(n_measures: int, with_cuts: bool, name_limit: int, link: str | None) -> str:
        shown = values | {key: _shorten(name, name_limit) for key, name in names.items()}
        parts = [say(f"notify.sms.{notice.event}", language, **shown)]
        if with_cuts and cuts:
            parts.append(say("notify.sms.reductions", language, items=items_sep.join(cuts)))
        if n_measures:
            items = items_sep.join(measures[:n_measures])
            parts.append(say("notify.sms.measures", language, items=items))
        if link:
            parts.append(say("notify.sms.ack", language, url=link))
        return head + sep.join(parts)

    longest = max(len(n) for n in names.values())
    tries = [(n, True, longest, ack_url) for n in range(len(measures), -1, -1)]
    tries += [(0, False, limit, ack_url) for limit in range(longest, SHORT_NAME - 1, -1)]
    tries += [(0, False, limit, None) for limit in range(longest, 0, -1)]
    for args in tries:
        text = compose(*args)
        if sms_segments(text) <= max_segments:
            return text
    while sms_segments(text) > max_segments:  # a signature longer than the SMS allows
        text = text[:-2] + ELLIPSIS
    return text


# ---------------------------------------------------------------- email


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("service.notify", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def message_id(notice: Notice, language: str, sender: str) -> str:
    """The ``Message-ID`` of ``notice``'s email: the same on every retry and resend, so a
    mail client shows one message however often it was sent."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "haze-response.invalid"
    return f"<haze-notice-{notice.notice_id}.{language.lower()}@{domain}>"


@dataclass(frozen=True)
class EmailContent:
    """What an email says, in one language, once for both the plain and the HTML part."""

    greeting: str
    lead: str
    previous: str  # the level before, for a change of orders ("" if none)
    orders: bool  # the notice orders measures (actions.changed)
    rows: list[tuple[str, str]]  # level, period, cut
    reductions_title: str
    pollutant_title: str
    kg_title: str
    reductions: list[tuple[str, str]]  # pollutant name, kg/day
    measures_title: str
    measures: list[str]
    ack_text: str
    ack_button: str


def _alarm_rows(notice: Notice, language: str, values: dict[str, str]) -> list[tuple[str, str]]:
    say = notice_texts().say
    number = str(notice.alarm.alarm_id) if notice.alarm is not None else ""
    return [
        (say("notify.email.alarm.kind", language), values["kind"]),
        (say("notify.email.alarm.grade", language), values["grade"]),
        (say("notify.email.alarm.subject", language), values["subject"]),
        (say("notify.email.alarm.since", language), values["since"]),
        (say("notify.email.level", language), values["Level"]),
        (say("notify.email.alarm.number", language), number),
    ]


def _alarm_previous(notice: Notice, language: str) -> str:
    """An alarm email's second paragraph: confirmed after a suspicion, and what is asked."""
    say = notice_texts().say
    confirmed = notice.alarm is not None and notice.alarm.previous_grade == "suspected"
    parts = [say("notify.email.alarm.confirmed", language)] if confirmed else []
    parts.append(say("notify.email.alarm.follow_up", language))
    return ("" if language.startswith("zh") else " ").join(parts)


def email_content(notice: Notice, language: str) -> EmailContent:
    """The words of ``notice``'s email in ``language``."""
    say = notice_texts().say
    values = _values(notice, language, long=True)
    orders = notice.event == "actions.changed"
    alarm = notice.event == "alarm.raised"
    cut = format_cut(notice.production_cut, language, bare=True)
    greeting = "notify.email.greeting" if notice.enterprise_id else "notify.email.greeting_agency"
    rows = [
        (say("notify.email.level", language), values["Level"]),
        (say("notify.email.span", language), values["span"]),
        (say("notify.email.cut", language), cut),
    ]
    previous = ""
    if orders and notice.previous_level not in ("", "none"):
        previous = say("notify.email.previous", language, previous=values["Previous"])
    elif alarm:
        previous = _alarm_previous(notice, language)
    return EmailContent(
        greeting=say("notify.email.greeting_alarm" if alarm else greeting, language, **values),
        lead=say(f"notify.email.{notice.event}", language, **values),
        previous=previous,
        orders=orders,
        rows=rows if orders else _alarm_rows(notice, language, values) if alarm else [],
        reductions_title=say("notify.email.reductions", language),
        pollutant_title=say("notify.email.pollutant", language),
        kg_title=say("notify.email.kg_per_day", language),
        reductions=[(pollutant_name(p, language), _number(kg)) for p, kg in reductions(notice)],
        measures_title=say("notify.email.measures", language),
        measures=[_clean(pick(a, language)) for a in notice.actions if a]
        or [say("notify.email.no_measures", language)],
        ack_text=say("notify.email.ack", language),
        ack_button=say("notify.email.ack_button", language),
    )


def _plain(content: EmailContent, ack_url: str | None, footer: str) -> str:
    lines = [content.greeting, "", content.lead]
    if content.previous:
        lines.append(content.previous)
    lines.append("")
    lines += [f"{label}: {value}" for label, value in content.rows]
    if content.orders:
        if content.reductions:
            lines += ["", f"{content.reductions_title} ({content.kg_title}):"]
            lines += [f"  {name}: {kg}" for name, kg in content.reductions]
        lines += ["", f"{content.measures_title}:", *(f"  - {m}" for m in content.measures)]
    if ack_url:
        lines += ["", content.ack_text, ack_url]
    lines += ["", "--", footer]
    return "\n".join(lines) + "\n"


def email_message(
    notice: Notice,
    language: str,
    ack_url: str | None,
    sender: str,
    to: str | None = None,
    signature: Text | None = None,
) -> EmailMessage:
    """The email of ``notice`` in ``language``: subject, plain text and an HTML alternative,
    with ``Message-ID`` (:func:`message_id`), ``Date`` (the notice's creation), ``From``,
    ``To`` and ``Content-Language``."""
    lang = "zh-CN" if language.lower().startswith("zh") else "en"
    sign = _clean(pick(signature or sender_signature(), lang))
    content = email_content(notice, lang)
    subject = notice_texts().say(
        f"notify.email.subject.{notice.event}", lang, signature=sign, **_values(notice, lang, False)
    )
    footer = notice_texts().say(
        "notify.email.footer", lang, signature=sign, notice_id=notice.notice_id
    )
    message = EmailMessage()
    message["Subject"] = _clean(subject)
    message["From"] = sender
    if to:
        message["To"] = to
    message["Date"] = email.utils.format_datetime(_local(notice.created_at))
    message["Message-ID"] = message_id(notice, lang, sender)
    message.set_content(_plain(content, ack_url, footer))
    html = (
        _templates()
        .get_template("email.html")
        .render(lang=lang, ack_url=ack_url, footer=footer, **asdict(content))
    )
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = lang  # after the parts: set_content drops Content-* headers
    return message
