"""Prompt security: weighted rules for prompt injection, jailbreaks, leaks and smuggling.

Rules describe *mechanisms* (override the instructions, impersonate a role, fake a
delimiter, ask for the hidden prompt, hide text in encodings or invisible characters),
not memorised attack strings, so they carry over to attacks nobody has seen yet. Text is
normalised first (NFKC, homoglyphs folded to Latin, invisible characters removed) so the
same rules catch obfuscated variants; encoded blobs are decoded and scanned again.
Scores combine as a noisy-OR: ``1 - prod(1 - weight)`` over the rules that fired.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

__all__ = ["Rule", "RuleHit", "Verdict", "scan_prompt", "apply_prompt_action", "RULES", "normalize"]


class Rule:
    """One weighted rule. ``keywords`` (lower-case literals) gate it: the regex only runs
    when one of them occurs, which keeps scanning cheap on ordinary and hostile text."""

    __slots__ = ("id", "category", "weight", "rx", "description", "keywords")

    def __init__(self, id: str, category: str, weight: float, patterns: list[str], description: str = "",
                 keywords: tuple[str, ...] = ()) -> None:
        self.id = id
        self.category = category
        self.weight = weight
        self.rx = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        self.description = description
        self.keywords = keywords


class RuleHit:
    __slots__ = ("rule", "category", "weight", "start", "end", "text")

    def __init__(self, rule: str, category: str, weight: float, start: int, end: int, text: str) -> None:
        self.rule, self.category, self.weight, self.start, self.end, self.text = rule, category, weight, start, end, text

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "category": self.category, "weight": self.weight,
                "span": {"start": self.start, "end": self.end}, "text": self.text}


class Verdict:
    """Spans of rule hits index ``normalized`` (the NFKC/homoglyph-folded text the rules ran on)."""

    __slots__ = ("score", "hits", "flagged", "threshold", "normalized")

    def __init__(self, score: float, hits: list[RuleHit], threshold: float, normalized: str = "") -> None:
        self.score, self.hits, self.threshold, self.normalized = score, hits, threshold, normalized
        self.flagged = score >= threshold

    def to_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "flagged": self.flagged, "threshold": self.threshold,
                "hits": [h.to_dict() for h in self.hits]}


# Cyrillic/Greek letters that look like Latin ones
_HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "ɡ": "g", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "Α": "A",
    "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X",
    "Υ": "Y", "Ζ": "Z",
    # small capitals ("ɪɢɴᴏʀᴇ ᴀʟʟ"), which NFKC leaves alone
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k",
    "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ǫ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
})
# Russian, written as the text reads after homoglyph folding (Cyrillic о/а/е/р/с... become Latin)
_RU_IGNORE_RAW = (r"(?:игнорируй|игнорируйте|забудь|забудьте|проигнорируй)\s+(?:все\s+)?(?:предыдущие\s+|прежние\s+)?"
                  r"(?:инструкции|указания|правила|команды)")
_RU_IGNORE = _RU_IGNORE_RAW.translate(_HOMOGLYPHS)
_ANY = r"(?:all|any|every|the|your|my|these|those|previous|prior|above|earlier|preceding|former|initial|original|system|other)"
_INSTR = r"(?:instructions?|rules?|directions?|directives?|prompts?|guidelines?|guidance|context|commands?|orders?|constraints?|restrictions?|programming|settings|policies|policy|text|messages?|tasks?)"
_DE_ANY = r"(?:alle[ns]?|die|deine|ihre|vorherigen?|bisherigen?|obigen?|vorigen?|früheren?|ursprünglichen?|anderen?|meine)"
_DE_INSTR = r"(?:anweisungen|anweisung|instruktionen|befehle|regeln|vorgaben|aufgaben|richtlinien|anordnungen|informationen|kontext)"

RULES: tuple[Rule, ...] = (
    Rule("override.ignore", "instruction_override", 0.85, [
        rf"\b(?:ignore|disregard|forget|skip|override|bypass|drop|abandon|neglect|overlook)\b(?:\s+\w+){{0,3}}?\s+{_ANY}\b(?:\s+\w+){{0,2}}?\s+{_INSTR}\b",
        r"\b(?:ignore|disregard|forget)\s+(?:everything|all(?:\s+of)?\s+(?:that|this|the\s+above)|what\s+(?:i|you)\s+(?:said|were\s+told))\b",
        rf"\b(?:ignoriere|ignorieren|vergiss|vergessen\s+sie|missachte|übergehe|überspringe)\b(?:\s+\w+){{0,3}}?\s+{_DE_ANY}\s+(?:\w+\s+)?{_DE_INSTR}",
        r"\b(?:vergiss|vergessen\s+sie|ignoriere)\s+(?:alles|das\s+alles|alles\s+davor|alles\s+zuvor)\b",
        r"\b(?:oubliez|ignorez|oublie|ignore)\s+(?:toutes?\s+)?(?:les|vos|tes)\s+instructions\b",
        r"\b(?:ignora|olvida|olvide)\s+(?:todas?\s+)?(?:las|tus|sus)\s+instrucciones\b",
        r"\b(?:ignora|dimentica)\s+(?:tutte\s+)?(?:le)\s+istruzioni\b",
        r"\bzaboravi\s+sve\b",
        r"\b(?:ignore|ignora|esque[cç]a|desconsidere)\s+(?:todas\s+)?(?:as|suas|tuas)\s+(?:\w+\s+)?instru[cç][oõ]es\b",
        r"\b(?:negeer|vergeet)\s+(?:alle\s+)?(?:de\s+|je\s+|uw\s+)?(?:vorige\s+|eerdere\s+)?(?:instructies|opdrachten|regels)\b",
        r"\b(?:zignoruj|zapomnij|pomi[nń])\s+(?:wszystkie\s+)?(?:poprzednie\s+|wcze[sś]niejsze\s+)?(?:instrukcje|polecenia|zasady)\b",
        r"\b(?:ignorera|gl[oö]m)\s+(?:alla\s+)?(?:tidigare\s+)?(?:instruktioner|regler)\b",
        r"\b(?:önceki\s+)?(?:tüm\s+)?talimatlar[ıi]\s+(?:yok\s+say|unut|görmezden\s+gel)",
        _RU_IGNORE,
        r"(?:忽略|无视|忘记|忘掉)(?:之前|以上|前面|上面|所有|全部|先前)?的?(?:所有|全部)?(?:指令|指示|说明|提示|规则)",
        r"(?:以前|前|上記|これまで)の(?:すべての|全ての)?(?:指示|命令|ルール)を(?:すべて|全て)?(?:無視|忘れ)",
        r"(?:이전|위의|모든)\s*(?:지시|명령|지침)(?:을|를|사항을)?\s*(?:모두\s*)?(?:무시|잊어)",
    ], "tells the model to drop the instructions it was given", ("ignor", "disregard", "forget", "skip", "overrid", "bypass", "drop", "abandon", "neglect", "overlook", "vergiss", "vergessen", "missacht", "überg", "übersp", "oubli", "olvid", "dimentica", "zaboravi", "esque", "desconsider", "negeer", "vergeet", "zignoruj",
       "zapomnij", "pomi", "ignorera", "glöm", "glom", "talimat", "игн".translate(_HOMOGLYPHS), "забуд".translate(_HOMOGLYPHS),
       "忽略", "无视", "忘记", "忘掉", "無視", "忘れ", "무시", "잊어")),
    Rule("override.new_instructions", "instruction_override", 0.5, [
        r"\b(?:new|updated|real|actual|true)\s+(?:instructions?|rules|task|prompt)\s*[:\-]",
        r"\bfrom\s+now\s+on\b", r"\bab\s+(?:jetzt|sofort|nun)\b", r"\binstead\b.{0,40}\b(?:say|write|respond|answer|output)\b",
        r"\b(?:neue|eigentliche)\s+(?:anweisung|aufgabe)\b", r"\bstattdessen\b", r"\bnow\s+(?:write|say|tell|respond|answer)\b",
        r"\b(?:jetzt|nun)\s+(?:schreibe|sage|antworte|erzähle|gib)\b",
    ], "replaces the task with a new one", ("instruction", "rules", "task", "prompt", "from now on", "ab jetzt", "ab sofort", "ab nun", "instead", "anweisung", "aufgabe", "stattdessen", "now ", "jetzt", "nun ")),
    Rule("role.impersonation", "role_impersonation", 0.45, [
        r"\b(?:you\s+are\s+now|from\s+now\s+on\s+you\s+are|now\s+you\s+are|you\s+will\s+(?:now\s+)?(?:be|act|play)|pretend\s+(?:to\s+be|you\s+are|that)|act\s+as\s+(?:if|an?|the|my)|roleplay\s+as|role-?play|stay\s+in\s+character|imagine\s+you\s+are)\b",
        r"\b(?:du\s+bist\s+(?:jetzt|nun|ab\s+jetzt)|jetzt\s+bist\s+du|nun\s+bist\s+du|tu\s+so\s+als|stell\s+dir\s+vor,?\s+du\s+bist|spiele\s+die\s+rolle|als\s+[\w-]+(?:\s+[\w-]+)?\s+(?:fungieren|agieren|auftreten))\b",
        r"\b(?:ich\s+möchte|ich\s+will),?\s+dass\s+(?:du|sie)\s+(?:als|wie)\b",
        r"\bi\s+want\s+you\s+to\s+act\s+as\b",
    ], "asks the model to become someone else", ("you are", "you will", "pretend", "act as", "role", "character", "imagine", "du bist", "bist du", "tu so", "stell dir", "fungier", "agier", "auftret", "dass du", "dass sie", "want you")),
    Rule("role.system_marker", "role_impersonation", 0.75, [
        r"(?:^|\n)\s*(?:system|developer|assistant|admin|root)\s*(?:message|prompt)?\s*:",
        r"\[(?:system|developer|admin|inst)\]", r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>",
        r"</?(?:system|developer|instructions?)>", r"\bdeveloper\s+mode\b", r"\b(?:admin|god|sudo|debug)\s+mode\b",
    ], "fakes a system/developer message or role switch", ("system", "developer", "assistant", "admin", "root", "inst]", "<|", "<", "mode")),
    Rule("jailbreak.persona", "jailbreak", 0.7, [
        r"\bDAN\b", r"\bdo\s+anything\s+now\b", r"\bjailbr(?:eak|oken)\b", r"\b(?:unfiltered|uncensored|unrestricted|amoral)\b",
        r"\b(?:without|no|free\s+(?:of|from))\s+(?:any\s+)?(?:restrictions|limitations|filters?|censorship|guidelines|rules|ethics|morals?)\b",
        r"\b(?:openai|content|safety|usage)\s+polic(?:y|ies)\b", r"\b(?:can|will)\s+do\s+anything\b",
        r"\bnot\s+bound\s+by\b", r"\bbroken\s+free\b", r"\b(?:ohne|keine)\s+(?:einschränkungen|regeln|zensur|filter)\b",
    ], "classic jailbreak framing", ("dan", "anything", "jailbr", "unfilter", "uncensor", "unrestrict", "amoral", "without", "no ", "free ", "polic", "not bound", "broken free", "ohne", "keine")),
    Rule("jailbreak.framing", "jailbreak", 0.35, [
        r"\bhypothetical(?:ly)?\b", r"\bfictional\s+(?:world|story|scenario)\b", r"\bfor\s+(?:educational|research)\s+purposes\b",
        r"\bas\s+an\s+ai\s+language\s+model\b", r"\bopposite\s+(?:mode|machine|day)\b", r"\b(?:simulate|simulation)\b",
        r"\brespond\s+(?:only\s+)?as\b", r"\banswer\s+(?:in\s+)?two\s+(?:ways|responses)\b",
    ], "framings used to slip past refusals", ("hypothetic", "fiction", "purposes", "language model", "opposite", "simulat", "respond", "two ")),
    Rule("delimiter.fence", "delimiter_injection", 0.6, [
        r"```\s*(?:system|instructions?|prompt)\b", r"#{2,}\s*(?:system|instruction|new\s+task|end)\b",
        r"-{3,}\s*(?:end|begin|start)\s+(?:of\s+)?(?:prompt|instructions?|system|context)",
        r"\b(?:end|begin)\s+of\s+(?:prompt|instructions|system\s+prompt)\b", r"\[/?INST\]", r"\]\]>",
        r"(?:prompt|input)\s+(?:start|end)\b",
    ], "closes the real prompt and opens a fake one", ("```", "##", "---", "end of", "begin of", "inst]", "]]>", "start", "end")),
    Rule("leak.prompt", "prompt_leak", 0.75, [
        r"\b(?:reveal|show|print|repeat|output|display|tell\s+me|give\s+me|write\s+(?:out|down)|recite|dump|list)\b(?:\s+\w+){0,3}?\s+(?:system\s+prompt|(?:initial|original|hidden|secret|pre-?)\s*prompt|instructions|your\s+rules|the\s+rules|password|access\s+code|secret\s+(?:key|code|word))",
        r"\bwhat\s+(?:is|are|was|were)\s+(?:your|the)\s+(?:system\s+prompt|instructions|initial\s+prompt|rules|password|access\s+code)\b",
        r"\b(?:repeat|print|output)\s+(?:the\s+)?(?:text|words|everything)\s+(?:above|before|so\s+far)\b",
        r"\b(?:zeige|wiederhole|gib|nenne|verrate)\b(?:\s+\w+){0,3}?\s+(?:deine|die|ihre)\s+(?:anweisungen|systemanweisung|systemprompt|regeln|passwort|zugangscode)",
        r"\bmy\s+instructions\s+(?:are|so\s+far|were)\b", r"\bpre-?prompt\b", r"\baccess\s+(?:code|granted)\b",
        r"\bsystem\s+prompt\b",
    ], "asks for (or recites) the hidden prompt or secrets", ("prompt", "instruction", "rules", "password", "access", "secret", "text", "words", "everything", "anweisung", "regeln", "passwort", "zugangscode")),
    Rule("leak.exfiltration", "exfiltration", 0.7, [
        r"!\[[^\]]{0,50}\]\(https?://[^)\s]{1,200}[?&][^)\s]{0,200}\)",
        r"\b(?:send|post|upload|forward|transmit|exfiltrate)\b(?:\s+\w+){0,4}?\s+to\s+(?:https?://|www\.|\S+@\S+)",
        r"\b(?:curl|wget|fetch)\s+https?://",
    ], "tries to move data out through links, images or requests", ("](http", "http", "www.", "@", "curl", "wget", "fetch")),
)

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u034f\u180e\U000e0000-\U000e007f]")
# blank "letters" that render as a space (Hangul fillers, the braille blank): read as spaces
_FILLERS = re.compile("[\u115f\u1160\u3164\uffa0\u2800]")
_TAGS = re.compile("[\U000e0000-\U000e007f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_MIXED_SCRIPT = re.compile(r"\b(?=\w*[a-zA-Z])(?=\w*[\u0370-\u03ff\u0400-\u04ff])\w{3,}\b")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,4096}={0,2}(?![A-Za-z0-9+/=])")
_B32 = re.compile(r"(?<![A-Za-z0-9=])[A-Z2-7]{24,4096}={0,6}(?![A-Za-z0-9=])")
_URLENC = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9._~+-]){12,}")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[\s:]?){16,2048}(?![0-9A-Fa-f])")


def normalize(text: str) -> str:
    """NFKC, homoglyphs to Latin, invisible and bidi control characters removed.

    Lengths may change, so rule spans are reported against the original text only when
    normalisation left it unchanged; otherwise spans refer to the normalised text.
    """
    t = unicodedata.normalize("NFKC", _FILLERS.sub(" ", text))
    t = _FILLERS.sub(" ", _INVISIBLE.sub("", t))
    return t.translate(_HOMOGLYPHS)


def _printable_ratio(b: bytes) -> float:
    if not b:
        return 0.0
    return sum(1 for c in b if 32 <= c < 127 or c in (9, 10, 13)) / len(b)


def _from_base64(s: str) -> bytes | None:
    if s.isalpha() or s.isdigit():
        return None  # plain long words / numbers
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=False)


def _from_base32(s: str) -> bytes | None:
    if s.isalpha() and len(set(s)) < 12:
        return None  # a shouted word, not a code
    return base64.b32decode(s + ("" if "=" in s else "=" * (-len(s) % 8)))


def _from_hex(s: str) -> bytes | None:
    return bytes.fromhex(re.sub(r"[\s:]", "", s))


def _binary(kind: str, rx: re.Pattern[str], decode: Callable[[str], bytes | None], text: str,
            out: list[tuple[str, int, int, str]]) -> None:
    """Runs that decode (``kind``) to mostly printable bytes, as text to rescan."""
    for m in rx.finditer(text):
        try:
            raw = decode(m.group())
        except (binascii.Error, ValueError):
            continue
        if raw is not None and len(raw) >= 12 and _printable_ratio(raw) > 0.9:
            out.append((kind, m.start(), m.end(), raw.decode("latin-1")))


def _decoded_payloads(text: str) -> list[tuple[str, int, int, str]]:
    out: list[tuple[str, int, int, str]] = []
    _binary("base64", _B64, _from_base64, text, out)
    _binary("base32", _B32, _from_base32, text, out)
    for m in _URLENC.finditer(text):
        s = m.group()
        if s.count("%") < 3:
            continue
        decoded = unquote_plus(s)
        if decoded != s:
            out.append(("url", m.start(), m.end(), decoded))
    _binary("hex", _HEX, _from_hex, text, out)
    return out


def _rule_hits(text: str) -> list[RuleHit]:
    hits = []
    lower = text.lower()
    for rule in RULES:
        if rule.keywords and not any(k in lower for k in rule.keywords):
            continue
        m = rule.rx.search(text)
        if m is not None:
            hits.append(RuleHit(rule.id, rule.category, rule.weight, m.start(), m.end(), m.group()[:200]))
    return hits


def scan_prompt(text: str, threshold: float = 0.5) -> Verdict:
    """Score a prompt (or any text) for injection; ``flagged`` when the score reaches ``threshold``."""
    if not isinstance(text, str):
        raise TypeError(f"scan_prompt() takes str, got {type(text).__name__}")
    norm = normalize(text)
    hits = _rule_hits(norm)
    if _TAGS.search(text) is not None:
        hits.append(RuleHit("smuggling.tag_chars", "smuggling", 0.9, 0, 0, "unicode tag characters (removed by normalisation)"))
    elif _INVISIBLE.search(text) is not None or _FILLERS.search(text) is not None:
        w = 0.6 if _BIDI.search(text) else 0.4
        hits.append(RuleHit("smuggling.invisible", "smuggling", w, 0, 0, "invisible/bidi characters (removed by normalisation)"))
    m = _MIXED_SCRIPT.search(unicodedata.normalize("NFKC", _FILLERS.sub(" ", _INVISIBLE.sub("", text))))
    if m is not None:
        hits.append(RuleHit("smuggling.homoglyph", "smuggling", 0.4, m.start(), m.end(), m.group()[:60]))
    for kind, a, b, decoded in _decoded_payloads(norm):
        inner = _rule_hits(decoded)
        if not inner and kind == "url":
            continue  # percent-escapes are everyday URLs: only what they hide counts
        w = 0.9 if inner else 0.35
        hits.append(RuleHit(f"encoded.{kind}", "encoded_payload", w, a, b, decoded[:120]))
    rot = codecs.encode(norm, "rot13")
    rot_hits = [h for h in _rule_hits(rot) if h.category in ("instruction_override", "prompt_leak")]
    if rot_hits and not any(h.category in ("instruction_override", "prompt_leak") for h in hits):
        h = rot_hits[0]
        hits.append(RuleHit("encoded.rot13", "encoded_payload", 0.8, h.start, h.end, h.text))
    keep = 1.0
    for h in hits:
        keep *= 1.0 - h.weight
    return Verdict(1.0 - keep, hits, threshold, norm)


def apply_prompt_action(text: str, verdict: Verdict, action: str) -> tuple[str, bool]:
    """``allow`` returns the text, ``block`` refuses it (second value False), ``strip`` removes the spans that fired."""
    if not verdict.flagged or action == "allow":
        return text, True
    if action == "block":
        return text, False
    if action != "strip":
        raise ValueError(f"unknown prompt action {action!r}")
    source = verdict.normalized or normalize(text)
    spans = sorted((h.start, h.end) for h in verdict.hits)
    out, pos = [], 0
    for a, b in spans:
        if a < pos:
            a = pos
        if b <= a:
            continue
        out.append(source[pos:a])
        pos = b
    out.append(source[pos:])
    return re.sub(r"[ \t]{2,}", " ", "".join(out)).strip(), True
