"""Which sentences make a checkable claim (kernel.claims) and placeholders as neutral words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haltguard.kernel.claims import NO_CLAIM_REASONS, no_claim_reason
from haltguard.kernel.placeholders import neutralise

CHAT = {
    "Great question!": "acknowledgement", "Sure, Anna!": "acknowledgement", "Happy to help.": "acknowledgement",
    "Hi Anna,": "greeting", "Good morning!": "greeting", "Thanks for reaching out!": "thanks",
    "Thank you so much.": "thanks", "I'm sorry for the confusion.": "apology", "Apologies!": "apology",
    "Let me know if you need anything else.": "offer_help", "I hope this helps!": "offer_help",
    "Feel free to ask more questions.": "offer_help", "Have a great day!": "offer_help",
    "If you have any other questions, just ask.": "offer_help",
    "Here is a summary.": "meta", "Here are the details:": "meta", "Let me explain.": "meta", "To sum up:": "meta",
    "I have noted your email {{email:1}}.": "assistant_action", "I've forwarded your request to billing.": "assistant_action",
    "Would you like me to upgrade your plan?": "question", "Which plan are you on?": "question",
    "Great choice!": "acknowledgement", "Sounds good.": "acknowledgement", "Noted, {{person:2}}.": "acknowledgement",
    "Here you go.": "acknowledgement", "I understand.": "acknowledgement", "Thanks, {{person:1}}!": "thanks",
    "Sorry to hear you want to leave.": "apology", "Take care!": "closing", "Enjoy your visit!": "closing",
    "Happy shopping!": "closing", "We look forward to your stay.": "closing",
    "I hope that answers your question.": "offer_help", "I can walk you through it.": "offer_help",
    "Let me look that up for you.": "meta", "I'll email the spec sheet to {{email:2}}.": "assistant_action",
    "I've added a note for {{person:1}}.": "assistant_action",
    "Sure, I will write to {{email:1}} today.": "assistant_action", "Of course! Happy to help.": "acknowledgement",
    "Your reference is {{id:1}}.": "user_data",
    "## Pricing": "formatting", "**Summary:**": "formatting", "---": "formatting", "1.": "formatting",
}
CLAIMS = [
    "Refunds are available for monthly plans.", "The Basic plan includes priority email support.",
    "Sure, the Basic plan includes priority support.", "I'm sorry, but refunds are only for annual plans.",
    "Here is the price: $20 per month.", "Here is why the Pro plan is better: it includes phone support.",
    "The tower is 330 metres tall.", "Thanks to the new policy, refunds take 5 days.",
    "Hello World is the first program most people write.", "I have updated the plan to cost 30 dollars.",
    "We have added phone support to every plan.", "I sent the invoice yesterday.",
    "Hi, the Pro plan costs 20 dollars.", "Our support team answers within one business day.",
    "Perfect for families with young children.", "Great, the Pro plan includes phone support.",
    "Enjoy free shipping on all orders.", "We look forward to launching the new plan in spring.",
    "Sorry to hear that the Basic plan has no phone support.", "I can add phone support only to the Pro plan.",
    "Your card {{credit_card:1}} is on file.", "Your plan is the Basic plan.", "The museum is open on Mondays.",
]


@pytest.mark.parametrize("sentence, reason", CHAT.items())
def test_chit_chat_is_not_a_claim(sentence, reason):
    assert no_claim_reason(sentence) == reason and reason in NO_CLAIM_REASONS


@pytest.mark.parametrize("sentence", CLAIMS)
def test_claims_are_judged(sentence):
    assert no_claim_reason(sentence) is None


@given(st.sampled_from(sorted(CHAT)), st.integers(0, 10_000))
def test_a_stated_number_always_makes_it_a_claim(sentence, n):
    if CHAT[sentence] in ("question", "formatting"):
        return  # questions and headings state nothing, numbers or not
    assert no_claim_reason(f"{sentence.rstrip('.!:,')} {n} times.") is None


def test_placeholders_are_their_type_word_never_a_number():
    assert neutralise("I have noted your email {{email:1}} and {{ PHONE_NUMBER:12 }}.") == \
        "I have noted your email email and phone number."
    assert neutralise("no placeholders, 42") == "no placeholders, 42"
    assert no_claim_reason("Your card {{credit_card:1}} is on file.") is None  # a claim, but not about "1"
