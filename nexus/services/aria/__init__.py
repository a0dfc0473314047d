"""ARIA, the tutor: conversations, daily quotas, prompts, answers and feedback.

One package, one concern a module: `conversations` (access, quotas, questions, readers,
feedback), `prompts`, `claims` (one writer per answer), `answers`, `stats`, `learner` (what
ARIA may know of the student, with consent), `safety` (the check before each answer, its French
word list in `lexicon`) and `alerts` (the caring answer, the alert, the adults told). Callers
import `nexus.services.aria` and use the names below.

A question is stored (and counted against the daily quota) by one POST; its answer is produced
once, streamed or not, and stored with a link to the question that is unique, so a reconnecting
stream or a retry never stores a second answer nor charges twice.

The prompt holds the tutoring rules, then the retrieved course passages as quoted data with
their source (never as instructions), then the last messages of the conversation within a token
budget, then the question. Without an LLM endpoint, or when it fails, the answer is made of the
passages themselves, cited and labelled as such.
"""

from nexus.services.aria import alerts, learner, safety
from nexus.services.aria.answers import (
    Busy,
    Event,
    Final,
    Token,
    answer_events,
    answer_now,
    answer_once,
    prepare,
    save_answer,
    stream_answer,
)
from nexus.services.aria.claims import CLAIM_LEASE, claim_answer, release_claim
from nexus.services.aria.conversations import (
    DAILY_QUOTA,
    MAX_COMMENT,
    MAX_QUESTION,
    Access,
    access_for,
    answer_of,
    answer_to,
    answered_ids,
    ask,
    coach_readings,
    coach_subjects,
    coach_transcript,
    conversation_of,
    conversations_of,
    give_feedback,
    question_of,
    quota_of,
    used_today,
)
from nexus.services.aria.prompts import (
    CHARS_PER_TOKEN,
    HISTORY_TOKENS,
    build_messages,
    estimate_tokens,
    fit_prompt,
    history,
    prompt_tokens,
    sources_message,
)
from nexus.services.aria.stats import SubjectStats, disliked, stats_by_subject

__all__ = [
    "CHARS_PER_TOKEN",
    "CLAIM_LEASE",
    "DAILY_QUOTA",
    "HISTORY_TOKENS",
    "MAX_COMMENT",
    "MAX_QUESTION",
    "Access",
    "Busy",
    "Event",
    "Final",
    "SubjectStats",
    "Token",
    "access_for",
    "alerts",
    "answer_events",
    "answer_now",
    "answer_of",
    "answer_once",
    "answer_to",
    "answered_ids",
    "ask",
    "build_messages",
    "claim_answer",
    "coach_readings",
    "coach_subjects",
    "coach_transcript",
    "conversation_of",
    "conversations_of",
    "disliked",
    "estimate_tokens",
    "fit_prompt",
    "give_feedback",
    "history",
    "learner",
    "prepare",
    "prompt_tokens",
    "question_of",
    "quota_of",
    "release_claim",
    "safety",
    "save_answer",
    "sources_message",
    "stats_by_subject",
    "stream_answer",
    "used_today",
]
