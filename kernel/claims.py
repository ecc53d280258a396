"""Which sentences make a checkable claim: chit-chat is not judged.

An assistant's answer mixes claims ("Refunds are available for annual plans.") with sentences
that state nothing the facts could support or contradict: greetings, thanks, apologies, offers
of help, questions back to the user, meta sentences ("Here is a summary."), formatting, and the
assistant's report of its own actions ("I have noted your email."). Judging those against the
context only produces false alarms — they are unsupported by construction — so review gives them
the verdict ``no_claim`` and streams release them without a score (``HaltKernel.push_skip``).

The rules are deliberately narrow (English phrasing; a sentence must match a whole pattern):
anything that states a number, or says more than the pattern allows, stays a claim and is judged.
Placeholders (``{{email:1}}``) count as their type word, never as a number.
"""

from __future__ import annotations

import re

from haltguard.kernel.placeholders import PLACEHOLDER, neutralise

__all__ = ["no_claim_reason", "NO_CLAIM_REASONS"]

_END = r"[\s.!,:;)\]*_~\-\u2026\u2014]*$"  # trailing punctuation, emphasis marks, an ellipsis
_TAIL = r"(?:[\s,]+\w+){0,3}"  # up to three more words ("Sure thing, Anna!")

_RULES: list[tuple[str, re.Pattern[str]]] = [(reason, re.compile(p, re.IGNORECASE)) for reason, p in [
    ("greeting", r"^(?:hi|hello|hey|dear|greetings|welcome|good (?:morning|afternoon|evening|day))\b" + _TAIL + _END),
    ("acknowledgement", r"^(?:(?:a |that'?s a |what a )?(?:great|good|excellent|interesting|fair|smart|wise) "
                        r"(?:question|point|choice|idea|pick)|"
                        r"sure(?: thing)?|of course|absolutely|certainly|definitely|okay|ok|alright|all right|got it|"
                        r"understood|no problem|no worries|you'?re (?:very )?welcome|my pleasure|"
                        r"(?:i'?m |i am )?(?:happy|glad) to help)" + _TAIL + _END),
    # one-word exclamations take at most a name after them ("Perfect for families." is a claim)
    ("acknowledgement", r"^(?:noted|perfect|great|awesome|wonderful|excellent|i understand|i see|"
                        r"sounds (?:good|great|perfect)|(?:here|there) you go)(?:,\s*\w+)?" + _END),
    ("thanks", r"^(?:thank you|thanks|many thanks)(?: (?:so|very) much| a lot)?(?: for [^.!?0-9]{0,60})?" + _TAIL + _END),
    ("apology", r"^(?:(?:i'?m|i am|we'?re|we are) (?:so |very |really |truly )?sorry|(?:my )?apologies|"
                r"i apologi[sz]e|we apologi[sz]e|sorry)"
                r"(?: (?:for|about) (?:the |any )?(?:confusion|inconvenience|trouble|delay|misunderstanding|wait)|"
                r" to hear (?:that|this)|"
                r" to hear (?:that |this )?(?:you(?:'re| are)? [^.!?0-9]{0,60}|about [^.!?0-9]{0,60}))?" + _END),
    ("closing", r"^(?:take care|see you(?: soon| then| there)?|enjoy (?:a |an |your |the )?"
                r"(?:great |nice |good |wonderful |lovely |pleasant |safe )?(?:day|week|weekend|evening|visit|stay|trip|"
                r"meal|flight|time|holiday|vacation|shopping|purchase|new \w+)|happy \w+ing|"
                r"(?:we|i) look forward to (?:seeing you|your (?:visit|stay|call|order|reply|message)|hearing from you))"
                + _TAIL + _END),
    ("offer_help", r"^(?:please |just )?(?:let (?:me|us) know|feel free to|don'?t hesitate to|do not hesitate to)\b[^0-9]*$"),
    ("offer_help", r"^(?:i |we )?hope (?:this|that|it) (?:helps?|answers your question|clears (?:things|it|that) up)\b[^0-9]*$"),
    ("offer_help", r"^(?:i|we) can (?:walk you through|help you with|explain|show you) (?:it|this|that|the (?:steps|process))"
                   + _END),
    ("offer_help", r"^(?:is there )?anything else (?:i|we) can (?:do|help)[^0-9]*$"),
    ("offer_help", r"^if you (?:have|need) (?:any )?(?:other |more |further |additional )?"
                   r"(?:questions?|help|assistance|information)\b[^0-9]*$"),
    ("offer_help", r"^(?:i'?d|i would|we'?d|we would|i'?m|i am|we'?re|we are) (?:be )?(?:happy|glad|here) to "
                   r"(?:help|assist|answer)\b[^0-9]*$"),
    ("offer_help", r"^(?:have a (?:great|nice|good|wonderful) (?:day|week|weekend|evening))" + _TAIL + _END),
    ("meta", r"^(?:here(?:'s| is| are)|below (?:is|are)|the following (?:is|are))\b(?:\s+[^\s0-9]+){0,7}" + _END),
    ("meta", r"^(?:let me|i'?ll|i will|allow me to)\s+(?:explain|summari[sz]e|break (?:it|this|that) down|"
             r"walk you through|clarify|check|look into|look (?:it|this|that) up|find out|see|go over|outline)\b"
             r"(?:\s+[^\s0-9]+){0,5}" + _END),
    ("meta", r"^(?:in )?(?:short|summary|a nutshell|conclusion)" + _END),
    ("meta", r"^to (?:summari[sz]e|sum (?:it )?up|conclude)" + _END),
    ("assistant_action", r"^i(?:'ve| have|'ll| will| just)? (?:noted|recorded|saved|forwarded|passed on|passed|"
                         r"updated|added|logged|sent|shared|created|opened|escalated|taken note of|made a note of|"
                         r"note|record|save|forward|pass on|update|add|log|send|share|create|open|escalate)"
                         r" (?:your|this|that|it|these|those|the (?:request|ticket|message|details|information|issue|"
                         r"case|feedback|conversation|change|note)|an? (?:note|ticket|request|comment|reminder))\b[^0-9]*$"),
    # a promise about what the assistant will do next, not a fact about the product ("I'll email the sheet to ...")
    ("assistant_action", r"^(?:i'?ll|i will|i'?m going to|let me) (?:send|email|write|reply|get back|contact|call|"
                         r"text|share|pass|forward|follow up|reach out|add|note|book|schedule|set up|arrange|reserve|"
                         r"create|open|escalate|update)\b[^0-9]*$"),
    # the user's own value given back through its placeholder ("Your reference is {{id:1}}.")
    ("user_data", r"^(?:your|the) (?:[a-z-]+ ){0,3}(?:is|are|was|will be|has been|remains) \ue000" + _END),
]]
# "Sure, ..." / "Of course! ...": an acknowledgement in front of the sentence that follows it
_LEAD = re.compile(r"^(?:sure|of course|certainly|absolutely|okay|ok|alright|great|got it|no problem)[,!.:]?\s+(?=\S)",
                   re.IGNORECASE)
_QUESTION = re.compile(r"\?[\s\"')\]*_~]*$")
_HEADING = re.compile(r"^(?:#{1,6}\s+\S.*|\*\*[^*]+\*\*:?|__[^_]+__:?)$")  # markdown headings, bold labels
_LABEL = re.compile(r"^[^.!?:]{1,60}:$")  # "Pricing details:" introducing a list
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_LIST_MARK = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,2}[.)])\s+")

NO_CLAIM_REASONS = ("formatting", "question", *dict.fromkeys(reason for reason, _ in _RULES))


def no_claim_reason(sentence: str) -> str | None:
    """Why ``sentence`` makes no checkable claim (one of ``NO_CLAIM_REASONS``), or None: judge it."""
    text = _LIST_MARK.sub("", neutralise(sentence)).strip()
    if not _LETTER.search(text):
        return "formatting"
    if _QUESTION.search(text):
        return "question"
    if _HEADING.match(text) and len(text.split()) <= 8:
        return "formatting"
    if _DIGIT.search(text):
        return None  # a stated number is always checked
    marked = _LIST_MARK.sub("", PLACEHOLDER.sub("\ue000", sentence)).strip() if "{" in sentence else text
    for t, m in ((text, marked), (_LEAD.sub("", text), _LEAD.sub("", marked))):
        for reason, pattern in _RULES:
            if pattern.match(t) or (m is not t and pattern.match(m)):
                return reason
    if _LABEL.match(text) and len(text.split()) <= 5:
        return "formatting"
    return None
