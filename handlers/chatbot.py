"""POST /chat: the concert assistant. Bedrock agent when configured, the platform's own data otherwise."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from concert_shared import analytics, conversations, platform_data
from concert_shared.api import ApiError, json_body, lambda_handler, logger, make_app
from concert_shared.clients import client
from concert_shared.config import optional_env

app = make_app({"/chat": {"POST"}})


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: StrictStr = Field(min_length=1, max_length=2000)
    session_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")
    user_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


INTENTS = (
    ("popular_venues", re.compile(r"\b(popular|best|top)\b.*\bvenues?\b|\bvenues?\b", re.IGNORECASE)),
    ("ticket_prediction", re.compile(r"\b(ticket|sell|sales|predict)", re.IGNORECASE)),
    ("recommendations", re.compile(r"\b(recommend|suggest|should i)", re.IGNORECASE)),
    ("upcoming_concerts", re.compile(r"\b(upcoming|concerts?|shows?|playing)\b", re.IGNORECASE)),
)


def detect_intent(message: str) -> str:
    return next((name for name, pattern in INTENTS if pattern.search(message)), "general")


def answer_from_platform(message: str, user_id: str | None, today: datetime) -> tuple[str, str]:
    """(answer, intent) computed from the platform's data through the same functions as the API."""
    intent = detect_intent(message)
    dataset = platform_data.load()
    day = today.date()
    if intent == "popular_venues":
        venues = analytics.venue_popularity(dataset.tables, day, limit=3)
        names = ", ".join(f"{v['name']} ({v['city']})" for v in venues) or "no venues with ticket history yet"
        return f"The most popular venues right now: {names}.", intent
    if intent == "recommendations" and user_id:
        preferences = _preferences(user_id)
        picks = analytics.recommend(dataset.tables, preferences, day, limit=3)
        if picks:
            return "You might like: " + "; ".join(f"{p['artist']} at {p['venue']} on {p['date']}" for p in picks) + ".", intent
        return "I found no upcoming concerts matching your preferences yet.", intent
    if intent in ("upcoming_concerts", "recommendations", "ticket_prediction"):
        artists = {a["artist_id"]: a["name"] for a in dataset.tables["artists"]}
        venues = {v["venue_id"]: v for v in dataset.tables["venues"]}
        upcoming = sorted(
            (c for c in dataset.tables["concerts"] if str(c.get("concert_date") or "") >= day.isoformat() and c.get("venue_id") in venues),
            key=lambda c: str(c["concert_date"]),
        )[:3]
        listing = "; ".join(f"{artists.get(c['artist_id'], c['artist_id'])} at {venues[c['venue_id']]['name']} on {c['concert_date']}" for c in upcoming)
        return (f"Upcoming concerts: {listing}." if listing else "No upcoming concerts are scheduled."), intent
    return "I can tell you about popular venues, upcoming concerts, ticket sales and recommendations.", intent


def _preferences(user_id: str) -> dict[str, Any]:
    table = optional_env("USER_PREFERENCES_TABLE")
    if not table:
        return {}
    item = client("dynamodb").get_item(TableName=table, Key={"user_id": {"S": user_id}}).get("Item", {})
    return {
        "favorite_genres": [v["S"] for v in item.get("favorite_genres", {}).get("L", [])],
        "favorite_artists": [v["S"] for v in item.get("favorite_artists", {}).get("L", [])],
        "city": item.get("city", {}).get("S", ""),
    }


def answer_from_agent(message: str, session_id: str) -> str:
    response = client("bedrock-agent-runtime").invoke_agent(
        agentId=optional_env("BEDROCK_AGENT_ID"),
        agentAliasId=optional_env("BEDROCK_AGENT_ALIAS_ID"),
        sessionId=session_id,
        inputText=message,
    )
    chunks = [event["chunk"]["bytes"].decode() for event in response["completion"] if "chunk" in event]
    return "".join(chunks).strip()


def chat(request: ChatRequest, now: datetime | None = None) -> dict[str, Any]:
    session_id = request.session_id or uuid.uuid4().hex
    now = now or datetime.now(UTC)
    if optional_env("BEDROCK_AGENT_ID") and optional_env("BEDROCK_AGENT_ALIAS_ID"):
        answer, source, intent = answer_from_agent(request.message, session_id), "bedrock-agent", detect_intent(request.message)
    else:
        try:
            answer, intent = answer_from_platform(request.message, request.user_id, now)
        except platform_data.DataUnavailable as exc:
            raise ApiError(503, "data_unavailable", f"the platform's data is not available: {exc}") from None
        source = "platform-data"
    user_turn, answer_turn = conversations.allocate_turns(session_id, 2, request.user_id)
    conversations.put_turn(session_id, conversations.Turn(user_turn, "user", request.message, intent=intent))
    conversations.put_turn(session_id, conversations.Turn(answer_turn, "assistant", answer, source=source, intent=intent))
    logger.info("chat turn", extra={"session_id": session_id, "source": source, "intent": intent})
    return {"session_id": session_id, "answer": answer, "source": source, "intent": intent, "turn": answer_turn}


@app.post("/chat")
def post_chat() -> dict[str, Any]:
    return chat(json_body(app, ChatRequest))


handler = lambda_handler(app)
