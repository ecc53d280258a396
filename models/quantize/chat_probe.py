"""A chat-answer probe: what a support bot says about a short policy paragraph.

Issue #35's chat goal is about this shape of input, which none of the NLI sources has: one short
paragraph of product or policy text as the context, and an assistant's answer whose sentences are
paraphrased facts, wrong facts of the kinds a model gets wrong in support chats (plan and tier
swaps, condition swaps, changed numbers and days, negations) and chit-chat that makes no claim.
Goal: no chit-chat flagged, >= 9 in 10 wrong facts flagged, <= 1 in 17 supported facts flagged.

Written for this project (not from a dataset) and never used for training: a dev probe, small
(eight paragraphs), so one sentence moves a rate by several points. Wrong facts are wrong against
the paragraph alone; supported facts are paraphrases, not copies, since chat answers rarely quote.
"""

from __future__ import annotations

from typing import Any

# (context, supported paraphrases, wrong facts, chit-chat)
PROBE: list[tuple[str, list[str], list[str], list[str]]] = [
    ("Acme offers two plans. The Basic plan costs $10 per month and includes email support. The Pro plan "
     "costs $25 per month and adds priority email support and phone support. Both plans can be billed "
     "annually at a 20% discount. Refunds are available for annual plans only, within 30 days of purchase.",
     ["The Basic plan is $10 a month.",
      "Phone support comes with the Pro plan.",
      "If you pay yearly, you get a 20% discount on either plan.",
      "You can get a refund on an annual plan within 30 days of buying it.",
      "Basic includes email support."],
     ["Refunds are available for monthly plans.",
      "The Basic plan includes priority email support.",
      "The Pro plan costs $20 per month.",
      "Annual billing gives a 25% discount.",
      "Phone support is included in the Basic plan."],
     ["Great question!", "Here is a summary.", "Let me know if you need anything else.",
      "I have noted your email {{email:1}}.", "Would you like me to upgrade you?", "Thanks for reaching out."]),
    ("The City Museum is open Tuesday to Sunday from 9 am to 5 pm and is closed on Mondays. On Thursdays "
     "it stays open until 9 pm. Admission is $15 for adults and free for children under 12. Guided tours "
     "start at 11 am and 2 pm and must be booked in advance.",
     ["You can visit the museum from 9 in the morning until 5 in the afternoon, Tuesday through Sunday.",
      "On Thursday evenings the museum is open until 9 pm.",
      "Kids younger than 12 get in for free.",
      "An adult ticket costs $15.",
      "There is a guided tour at 2 pm."],
     ["The museum is open on Mondays.",
      "Admission for adults is $12.",
      "Children under 16 get in free.",
      "Guided tours do not need to be booked.",
      "On Fridays the museum stays open until 9 pm."],
     ["Enjoy your visit!", "Hope this helps.", "Is there anything else I can help you with?",
      "I'm happy to help with that.", "Sure, let me check.", "Thanks, {{person:1}}!"]),
    ("Standard shipping takes 5 to 7 business days and is free on orders over $50; otherwise it costs "
     "$4.99. Express shipping takes 2 business days and costs $14.99. We do not ship to P.O. boxes. "
     "Orders placed before 1 pm are dispatched the same day.",
     ["Orders above $50 ship for free with standard shipping.",
      "Express delivery arrives in two business days.",
      "If you order before 1 pm, your order leaves the warehouse that day.",
      "Standard shipping is $4.99 for smaller orders.",
      "Express shipping costs $14.99."],
     ["Express shipping is free on orders over $50.",
      "We ship to P.O. boxes.",
      "Standard shipping takes 2 to 3 business days.",
      "Orders placed before 3 pm are dispatched the same day.",
      "Express shipping costs $4.99."],
     ["Thank you for your order!", "Here are the details.", "Let me know if you have other questions.",
      "I'll send the tracking link to {{email:1}}.", "Happy shopping!", "Good question."]),
    ("Full-time employees receive 25 days of paid vacation per year; part-time employees receive vacation "
     "in proportion to their hours. Up to 5 unused days can be carried over to the next year. Vacation "
     "requests must be submitted at least two weeks in advance and approved by your manager.",
     ["Full-time staff get 25 paid vacation days a year.",
      "You can carry up to five unused days into the next year.",
      "Your manager has to approve vacation requests.",
      "Requests need to go in two weeks ahead of time.",
      "Part-time employees get vacation based on their hours."],
     ["Part-time employees receive 25 days of paid vacation.",
      "Up to 10 unused days can be carried over.",
      "Vacation requests need no approval.",
      "Requests must be submitted one week in advance.",
      "Unused vacation days cannot be carried over."],
     ["Hi there!", "I hope that answers your question.", "Feel free to ask me anything else.",
      "Let me look that up for you.", "Have a great day!", "Noted, {{person:2}}."]),
    ("Your subscription renews automatically at the end of each billing period. You can cancel at any "
     "time from the Account page; after cancelling you keep access until the end of the current period. "
     "Cancelled accounts are deleted after 90 days, and data can be exported until then.",
     ["Subscriptions renew on their own when the billing period ends.",
      "You can cancel whenever you like on the Account page.",
      "After you cancel, you still have access until the period ends.",
      "Your data can be exported for 90 days after you cancel.",
      "A cancelled account is deleted after 90 days."],
     ["Access ends immediately when you cancel.",
      "Cancelled accounts are deleted after 30 days.",
      "You must cancel by phone.",
      "Subscriptions do not renew automatically.",
      "Data cannot be exported after cancelling."],
     ["Sorry to hear you want to leave.", "Here's how it works.", "Anything else?",
      "I can walk you through it.", "Thanks for being a customer.", "Of course!"]),
    ("The Model X laptop has a 14-inch display, 16 GB of memory and a 512 GB SSD. The battery lasts up "
     "to 12 hours. It weighs 1.3 kg and comes with a two-year warranty. The 32 GB version is only "
     "available in silver.",
     ["The Model X has a 14-inch screen.",
      "Battery life is up to 12 hours.",
      "It comes with a warranty of two years.",
      "The laptop weighs 1.3 kilograms.",
      "If you want 32 GB of memory, you have to get it in silver."],
     ["The Model X has a 15-inch display.",
      "The battery lasts up to 20 hours.",
      "It comes with a one-year warranty.",
      "The 32 GB version is available in black.",
      "The Model X has a 1 TB SSD."],
     ["Great choice!", "Let me know which color you prefer.", "Here is what you need to know.",
      "I'll email the spec sheet to {{email:2}}.", "Happy to help!", "Does that help?"]),
    ("Patients must arrive 15 minutes before their appointment. Appointments cancelled less than 24 hours "
     "in advance are charged a $40 fee. The clinic accepts walk-ins on weekdays between 8 am and 11 am; "
     "on weekends it sees patients by appointment only.",
     ["Please be there a quarter of an hour before your appointment.",
      "Cancelling with less than a day's notice costs $40.",
      "Walk-ins are welcome on weekday mornings from 8 to 11.",
      "On weekends you need an appointment.",
      "The late cancellation fee is $40."],
     ["Walk-ins are accepted on weekends.",
      "Cancelling less than 48 hours in advance is charged a fee.",
      "The cancellation fee is $25.",
      "Patients must arrive 30 minutes early.",
      "Walk-ins are accepted between 8 am and 1 pm."],
     ["Take care!", "I understand.", "Please let me know if you'd like to book.",
      "Your reference is {{id:1}}.", "Thank you for calling.", "Sure thing."]),
    ("Hotel check-in starts at 3 pm and check-out is by 11 am. Breakfast is served from 7 to 10 am and "
     "is included in all rates except the Saver rate. Parking costs $20 per night. Pets up to 10 kg are "
     "allowed for a $30 fee per stay.",
     ["You can check in from 3 pm.",
      "Check-out time is 11 in the morning.",
      "Breakfast is included unless you booked the Saver rate.",
      "Small pets under 10 kg are welcome for a fee of $30 per stay.",
      "Parking is $20 a night."],
     ["Breakfast is included in the Saver rate.",
      "Parking is free.",
      "Check-out is by 12 pm.",
      "Pets are not allowed.",
      "Breakfast is served until 11 am."],
     ["Welcome!", "We look forward to your stay.", "Anything else I can do for you?",
      "I've added a note for {{person:1}}.", "Here you go.", "Sounds good."]),
]


def probe_rows() -> list[dict[str, Any]]:
    """Every probe sentence: ``{"context", "sentence", "kind"}`` with kind supported, wrong or chitchat."""
    rows = []
    for context, supported, wrong, chat in PROBE:
        for kind, sentences in (("supported", supported), ("wrong", wrong), ("chitchat", chat)):
            rows += [{"context": context, "sentence": s, "kind": kind} for s in sentences]
    return rows


def meets_goal(report: dict[str, Any]) -> bool:
    """The chat goal of issue #35 on one judge's counts."""
    w, s, c = report["wrong"], report["supported"], report["chitchat"]
    return c["flagged"] == 0 and w["flagged"] >= 0.9 * w["n"] and s["flagged"] <= s["n"] / 17
