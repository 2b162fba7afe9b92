"""POST /chat: the concert assistant. Bedrock agent when configured, the platform's own data otherwise."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from concert_shared import conversations, services
from concert_shared.api import json_body, lambda_handler, logger, make_app
from concert_shared.clients import client
from concert_shared.config import optional_env
from concert_shared.errors import CannotAnswer, NotFound

# path -> methods; docs/api.md and the compute template agree (tests/unit/test_api_contract.py)
ROUTES = {"/chat": {"POST"}}
app = make_app(ROUTES)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: StrictStr = Field(min_length=1, max_length=2000)
    session_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")
    user_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


# First match wins: the order puts the most specific questions first.
INTENTS = (
    ("ticket_prediction", re.compile(r"\b(tickets?|sell|sales|sold|predict\w*|price)\b", re.IGNORECASE)),
    ("recommendations", re.compile(r"\b(recommend\w*|suggest\w*|should i|for me)\b", re.IGNORECASE)),
    ("popular_venues", re.compile(r"\b(popular|best|top)\b.*\bvenues?\b|\bvenues?\b", re.IGNORECASE)),
    (
        "upcoming_concerts",
        re.compile(r"\b(upcoming|concerts?|shows?|gigs?|playing|plays|perform\w*)\b", re.IGNORECASE),
    ),
)
HELP = "I can tell you about popular venues, upcoming concerts (by artist or city), ticket sales and recommendations."


def detect_intent(message: str) -> str:
    return next((name for name, pattern in INTENTS if pattern.search(message)), "general")


def spot_entities(message: str) -> dict[str, str | None]:
    """The artist (id) and city the message mentions, matched against the platform's own names."""
    names = services.known_names()
    text = message.lower()
    # longest name first, so "echo atlas 12" is not taken for "echo atlas 1"
    by_length = sorted(names["artists"].items(), key=lambda n: -len(n[0]))
    artist = next(
        (
            artist_id
            for name, artist_id in by_length
            if re.search(rf"\b({re.escape(name)}|{re.escape(artist_id.lower())})\b", text)
        ),
        None,
    )
    city = next(
        (
            canonical
            for name, canonical in names["cities"].items()
            if re.search(rf"\b{re.escape(name)}\b", text)
        ),
        None,
    )
    return {"artist": artist, "city": city}


def _listing(concerts: list[dict[str, Any]]) -> str:
    return "; ".join(f"{c['artist']} at {c['venue']} ({c['city']}) on {c['date']}" for c in concerts)


def answer_from_platform(message: str, user_id: str | None, today: date) -> tuple[str, str]:
    """(answer, intent) computed through the same plain functions the API routes use."""
    intent = detect_intent(message)
    if intent == "general":
        return HELP, intent
    entities = spot_entities(message)
    if intent == "popular_venues":
        venues = services.popular_venues(limit=3, city=entities["city"], today=today)["venues"]
        where = f" in {entities['city']}" if entities["city"] else ""
        names = ", ".join(f"{v['name']} ({v['city']})" for v in venues)
        return (
            f"The most popular venues{where}: {names}."
            if names
            else f"No venues{where} have ticket history yet."
        ), intent
    if intent == "recommendations":
        if not user_id:
            return "Tell me your user_id and I will recommend concerts from your preferences.", intent
        try:
            picks = services.recommendations_for(user_id, limit=3, today=today)["recommendations"]
        except NotFound:
            return f"I have no preferences stored for {user_id} yet.", intent
        if not picks:
            return "I found no upcoming concerts matching your preferences yet.", intent
        return "You might like: " + "; ".join(
            f"{p['artist']} at {p['venue']} on {p['date']}" for p in picks
        ) + ".", intent
    upcoming = services.upcoming_concerts(
        artist=entities["artist"], city=entities["city"], limit=3, today=today
    )["concerts"]
    if intent == "ticket_prediction":
        if not upcoming:
            return "I found no upcoming concert to predict ticket sales for.", intent
        concert = upcoming[0]
        try:
            result = services.predict_tickets(concert_id=concert["concert_id"])
        except CannotAnswer as exc:
            return (
                f"I cannot predict sales for {concert['artist']} on {concert['date']}: {exc.message}",
                intent,
            )
        prediction = result["prediction"]
        expected = (
            prediction.get("predicted_tickets", prediction) if isinstance(prediction, dict) else prediction
        )
        return (
            f"{concert['artist']} at {concert['venue']} on {concert['date']} (from {concert['base_price']}): "
            f"about {expected} tickets expected ({result['source']})."
        ), intent
    focus = " ".join(
        part
        for part in (
            f"by {entities['artist']}" if entities["artist"] else "",
            f"in {entities['city']}" if entities["city"] else "",
        )
        if part
    )
    return (
        f"Upcoming concerts{' ' + focus if focus else ''}: {_listing(upcoming)}."
        if upcoming
        else f"No upcoming concerts{' ' + focus if focus else ''}."
    ), intent


def answer_from_agent(message: str, session_id: str) -> str:
    response = client("bedrock-agent-runtime").invoke_agent(
        agentId=optional_env("BEDROCK_AGENT_ID"),
        agentAliasId=optional_env("BEDROCK_AGENT_ALIAS_ID"),
        sessionId=session_id,
        inputText=message,
    )
    chunks = [event["chunk"]["bytes"].decode() for event in response["completion"] if "chunk" in event]
    return "".join(chunks).strip()


def chat(
    message: str, session_id: str | None = None, user_id: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Answer one message and store both turns (with the session's counter, in one transaction).

    The answer's session_id is the one to send next: a given id that is unknown, expired or
    another user's starts a new session instead of joining it."""
    now = now or datetime.now(UTC)
    session_id, _continued = conversations.resume_session(session_id, user_id, int(now.timestamp()))
    intent = detect_intent(message)
    answer, source, fallback_reason = "", "platform-data", None
    if optional_env("BEDROCK_AGENT_ID") and optional_env("BEDROCK_AGENT_ALIAS_ID"):
        try:
            answer, source = answer_from_agent(message, session_id), "bedrock-agent"
        except Exception as exc:
            # the client gets the stable name of the failure; the service's own text goes to the log
            fallback_reason = f"bedrock agent failed: {type(exc).__name__}"
            logger.warning(
                "bedrock agent failed; answering from platform data", extra={"reason": str(exc)[:300]}
            )
    if source == "platform-data":
        answer, intent = answer_from_platform(message, user_id, now.date())
    _user_turn, answer_turn = conversations.store_turns(
        session_id,
        [
            conversations.Turn(0, "user", message, intent=intent),
            conversations.Turn(0, "assistant", answer, source=source, intent=intent),
        ],
        user_id,
    )
    logger.info(
        "chat turn", extra={"session_id": session_id, "source": source, "intent": intent, "turn": answer_turn}
    )
    response = {
        "session_id": session_id,
        "answer": answer,
        "source": source,
        "intent": intent,
        "turn": answer_turn,
    }
    if fallback_reason:
        response["fallback_reason"] = fallback_reason
    return response


@app.post("/chat")
def post_chat() -> dict[str, Any]:
    request = json_body(app, ChatRequest)
    return chat(request.message, request.session_id, request.user_id)


handler = lambda_handler(app)
