"""Find the critic's score of a review.

Sources, most trusted first: the page's JSON-LD ``Review.reviewRating``, a labelled score in the
text ("Rating: 4/5", "Grade: B+"), then the last plausible score anywhere in the text. Text
matching prefers missing a score to inventing one, so every pattern comes with the rules that
keep dates, times, fractions and ratios out.

Letter grades (only accepted after a label) use a 12-step scale, one step per plus/minus notch:
F=0, D-=1, D=2, D+=3, C-=4, C=5, C+=6, B-=7, B=8, B+=9, A-=10, A=11, A+=12, so ``value`` is the
step, ``scale`` is 12.0 and ``normalized`` runs from F=0.0 to A+=1.0 (B+=0.75).
"""

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

ScoreSource = Literal["jsonld", "labelled", "text"]


@dataclass(frozen=True)
class CriticScore:
    display: str  # as the blog wrote it, e.g. "10/10", "★★★½", "B+"
    value: float
    scale: float  # best possible value
    normalized: float  # 0..1, worst possible value at 0
    source: ScoreSource

    def as_json(self) -> dict[str, Any]:
        """The public JSON shape (the source stays internal)."""
        return {
            "display": self.display,
            "value": self.value,
            "scale": self.scale,
            "normalized": self.normalized,
        }


# "x/y" scales seen on review blogs; anything else ("24/7", "9/11", "50/50", "1/3") is a
# fraction, a date or an idiom rather than a score.
_SCALES = frozenset({4.0, 5.0, 10.0, 20.0, 100.0})
_GLYPH_SCALES = frozenset({4.0, 5.0, 10.0})
_GRADES = ("F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")
_SCHEMA_BEST, _SCHEMA_WORST = 5.0, 1.0  # schema.org Rating defaults
_REVIEW_TYPES = frozenset({"review", "criticreview"})
_MAX_JSONLD_NODES = 10_000  # a hostile page cannot make the walk unbounded

_SCORE_FORMS = r"""
    (?P<fraction>
        # the value must not continue a number, a date or a path: "2019/10/10", "v2.1/5", "$5/10"
        (?<![\w/.,#$£€⁄∕／])
        (?P<value>[0-9]{1,3}(?:\.[0-9]{1,2}|½)?)
        \s*(?:[/⁄∕／]|out\s+of)\s*
        (?P<scale>[0-9]{1,3})
        # nor may the scale: "10/10/2019", "10 / 10 / 19", "8/10.5", "8/10ths", "9/10%"
        (?![\w/⁄∕／%]|[.,][0-9]|\s*[/⁄∕／]\s*[0-9])
        (?:\s*(?:stars?|points?|pts)\b)?
    )
  | (?P<star_word>
        (?<![\w.,])
        (?P<star_value>[0-9](?:\.[0-9]{1,2}|½)?|½)
        \s*-?\s*stars?\b
    )
  | (?P<glyphs>
        (?=[★⭐]|½?☆)   # at least one star glyph, so a lone "½" is not a rating
        (?P<full>[★⭐]*)(?P<half>½?)(?P<empty>☆*)
    )
"""
_SCORE = re.compile(_SCORE_FORMS, re.VERBOSE | re.IGNORECASE)
_LABELLED_SCORE = re.compile(
    _SCORE_FORMS
    + r"""
  | (?P<percent>[0-9]{1,3}(?:\.[0-9]{1,2})?)\s*%
  | (?P<letter>(?-i:[A-DF])[+\-−]?)(?![\w+\-−])
""",
    re.VERBOSE | re.IGNORECASE,
)

_LABEL = re.compile(
    r"""
    \b(?:
        our\s+(?:score|rating|verdict|grade)(?:\s*(?:[:=–—-]|\bis\b))?
        # a bare "score" is prose ("the score by Arcade Fire"); the separator makes it a label
      | (?:rating|score|verdict|grade)\s*[:=–—-]
    )
    [\s*_]*   # markdown emphasis around the label or the score
    """,
    re.VERBOSE | re.IGNORECASE,
)

# "page 3/10", "part 1/5", "on 10/10", "since 9/10": counters and month/day dates.
_COUNTER_OR_DATE_BEFORE = re.compile(
    r"""\b(?:pages?|pp?|pg|parts?|chapters?|ch|episodes?|eps?|seasons?|steps?|days?|weeks?
           |rounds?|discs?|vol|volumes?|issues?|tracks?|slides?|photos?|images?
           |on|since|until|till|by|before|after|dated)\.?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
# Only the same line: a score often ends a paragraph and the next one may start with any word.
_NEXT_WORD = re.compile(r"[ \t\u00a0]*([^\W\d_]+(?:'s)?)")
# "3/4 of the film", "1/2 hour", "4/4 time", "20/20 vision": fractions of things and idioms.
_NOT_AFTER_A_SCORE = frozenset(
    {
        "of", "hour", "hr", "minute", "min", "second", "sec", "day", "week", "month", "year",
        "time", "mile", "km", "inch", "cup", "tsp", "tbsp", "lb", "kg", "pound", "vision",
        "hindsight", "people", "men", "women", "children",
    }
)  # fmt: skip
# Words ending in "s" that commonly follow a score and are not plural nouns.
_S_WORDS_AFTER_A_SCORE = frozenset(
    {
        "as", "was", "has", "does", "its", "yes", "always", "perhaps", "gets", "goes",
        "makes", "deserves", "says", "seems", "feels", "earns", "stands", "remains",
    }
)  # fmt: skip


def parse_critic_score(text: str) -> CriticScore | None:
    """The last plausible score in plain text, or None."""
    found = None
    for match in _SCORE.finditer(text):
        found = _from_match(match, text, "text") or found
    return found


def score_from_rating(rating: Mapping[str, Any]) -> CriticScore | None:
    """A score from a schema.org Rating (numbers or numeric strings), or None if unusable."""
    value = _number(rating.get("ratingValue"))
    raw_best, raw_worst = rating.get("bestRating"), rating.get("worstRating")
    best = _SCHEMA_BEST if raw_best is None else _number(raw_best)
    worst = None if raw_worst is None else _number(raw_worst)
    if value is None or best is None:
        return None
    if worst is None:
        # schema.org's default worst is 1, but a 0 on an explicit scale shows it starts at 0.
        worst = 0.0 if raw_best is not None and value < _SCHEMA_WORST else _SCHEMA_WORST
    return _make(f"{_fmt(value)}/{_fmt(best)}", value, best, "jsonld", worst=worst)


def find_critic_score(text: str, jsonld: Iterable[Mapping[str, Any]] = ()) -> CriticScore | None:
    """The review's score: JSON-LD review rating, else a labelled score, else the text's last."""
    return _score_from_jsonld(jsonld) or _labelled_score(text) or parse_critic_score(text)


def _score_from_jsonld(jsonld: Iterable[Mapping[str, Any]]) -> CriticScore | None:
    root = jsonld if isinstance(jsonld, Mapping) else list(jsonld)  # one document is fine too
    for review in _reviews(root):
        ratings = review.get("reviewRating")
        for rating in ratings if isinstance(ratings, list) else [ratings]:
            if isinstance(rating, Mapping) and (score := score_from_rating(rating)):
                return score
    return None


def _reviews(root: object) -> Iterator[Mapping[str, Any]]:
    """Review objects in document order, wherever they nest (@graph, lists, itemReviewed...)."""
    stack = [root]
    for _ in range(_MAX_JSONLD_NODES):
        if not stack:
            return
        node = stack.pop()
        if isinstance(node, Mapping):
            if _is_review(node):
                yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list | tuple):
            stack.extend(reversed(node))


def _is_review(node: Mapping[str, Any]) -> bool:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    # "Review", "schema:Review" and "http://schema.org/Review" are all the same type.
    return any(
        isinstance(name, str) and re.split(r"[/:#]", name)[-1].lower() in _REVIEW_TYPES
        for name in names
    )


def _labelled_score(text: str) -> CriticScore | None:
    """The last score written right after a label such as "Rating:" or "Our score"."""
    found = None
    for label in _LABEL.finditer(text):
        match = _LABELLED_SCORE.match(text, label.end())
        if match:
            found = _from_match(match, text, "labelled") or found
    return found


def _from_match(match: re.Match[str], text: str, source: ScoreSource) -> CriticScore | None:
    display = " ".join(match.group().split())
    form = match.lastgroup  # the outermost named group of the alternative that matched
    if form == "fraction":
        return _fraction(match, text, display, source)
    if form == "star_word":
        return _make(display, _parse_value(match["star_value"]), 5.0, source)
    if form == "glyphs":
        return _glyphs(match, display, source)
    if form == "percent":
        return _make(display, float(match["percent"]), 100.0, source)
    return _letter(match, text, display)


def _fraction(
    match: re.Match[str], text: str, display: str, source: ScoreSource
) -> CriticScore | None:
    scale = float(match["scale"])
    if scale not in _SCALES:
        return None
    # After a label the writer has told us it is a score; only prose needs the context checks.
    if source == "text" and _looks_like_count_or_date(match, text):
        return None
    return _make(display, _parse_value(match["value"]), scale, source)


def _looks_like_count_or_date(match: re.Match[str], text: str) -> bool:
    if match["value"] == match["scale"] == "20":
        return True  # "20/20" in prose is eyesight, not a verdict
    before = text[max(0, match.start() - 24) : match.start()]
    if _COUNTER_OR_DATE_BEFORE.search(before):
        return True
    after = _NEXT_WORD.match(text, match.end())
    return bool(after) and _is_counted_thing(after.group(1).lower())


def _is_counted_thing(word: str) -> bool:
    """True for a word that makes "x/y word" a ratio of things: "9 out of 10 dentists"."""
    if word in _NOT_AFTER_A_SCORE:
        return True
    plural = word.endswith("s") and not word.endswith(("ss", "us", "is", "'s"))
    return plural and word not in _S_WORDS_AFTER_A_SCORE


def _glyphs(match: re.Match[str], display: str, source: ScoreSource) -> CriticScore | None:
    full, half, empty = len(match["full"]), len(match["half"]), len(match["empty"])
    value = full + half / 2
    slots = full + half + empty
    if slots < 2 and source == "text":
        return None  # a lone "★" in prose is decoration ("★ Editor's pick")
    scale = float(slots) if empty else (5.0 if value <= 5 else 10.0)
    return _make(display, value, scale, source) if scale in _GLYPH_SCALES else None


def _letter(match: re.Match[str], text: str, display: str) -> CriticScore | None:
    grade = match["letter"].upper().replace("−", "-")
    bare_letter_before_word = len(grade) == 1 and _NEXT_WORD.match(text, match.end())
    if grade not in _GRADES or bare_letter_before_word:
        return None  # "Verdict: A triumph" is an article, not an A
    return _make(display, float(_GRADES.index(grade)), float(len(_GRADES) - 1), "labelled")


def _make(
    display: str,
    value: float,
    scale: float,
    source: ScoreSource,
    *,
    worst: float = 0.0,
) -> CriticScore | None:
    numbers = (value, scale, worst)
    if not all(math.isfinite(n) for n in numbers) or not worst <= value <= scale or worst >= scale:
        return None
    normalized = round((value - worst) / (scale - worst), 4)
    return CriticScore(display, value, scale, normalized, source)


def _parse_value(raw: str) -> float:
    whole, half = raw.rstrip("½"), raw.endswith("½")
    return (float(whole) if whole else 0.0) + (0.5 if half else 0.0)


def _number(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None  # bool is an int in Python but never a rating
    if isinstance(raw, int | float):
        return float(raw)
    if not isinstance(raw, str):
        return None
    cleaned = raw.strip()
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # "4,5" from European sites
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _fmt(number: float) -> str:
    return str(int(number)) if number.is_integer() else f"{number:g}"
