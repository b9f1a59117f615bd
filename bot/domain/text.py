"""Safe text in both directions between the blog (HTML by strangers) and Discord (markdown).

Everything here treats its input as hostile: it never raises, it never lets text typed by a
commenter turn into markup, pings or spoofed links on the other side.
"""

import html as html_lib
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from types import MappingProxyType
from urllib.parse import quote, urljoin, urlsplit

import nh3
from bs4 import BeautifulSoup, NavigableString, Tag
from markdownify import MarkdownConverter, chomp

ZWSP = "\u200b"
MAX_HTML_CHARS = 200_000  # bounds parse time; a review is far below, hostile input is cut
# Discord messages are at most 4000 characters; the emphasis regexes are quadratic beyond that.
MAX_MARKDOWN_CHARS = 4000
_MIN_LIMIT_FOR_FENCE_REPAIR = 64  # room for "```lang\n" (at most 24) + "\n```" + some code

# Invisible characters that can hide or reorder text: bidi controls (Trojan Source), zero-width
# characters, C0/C1 controls except tab and newline, lone surrogates (they cannot be encoded).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]"
)
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_EXCESS_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
# markdownify's newline regex backtracks quadratically over long runs of spaces without a newline.
_LONG_SPACE_RUN = re.compile(r"[ \t]{64,}")
_DROPPED_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "head", "title", "form", "button", "select", "textarea", "audio", "video", "canvas",
)  # fmt: skip
_BLOCK_END = object()  # marks where a block element's content ends in _visible_text
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "table", "tr", "td", "th",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "figure",
    "figcaption", "hr", "dl", "dt", "dd", "aside", "nav", "main",
)  # fmt: skip

# Discord mentions. A zero-width space after "@" or "<" keeps the text readable but inert.
_MASS_MENTION = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_ID_MENTION = re.compile(r"<(?=@[!&]?[0-9]+>|#[0-9]+>|/[^<>\n]{1,100}:[0-9]+>)")

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING_PUNCTUATION = ".,;:!?'\")]}"
_DOMAIN_LIKE = re.compile(r"(?:https?://)?((?:[\w-]+\.)+[^\W\d_]{2,})(?=[/:?#\s]|$)", re.I)
# Markdown that Discord reads anywhere in a line, and at the start of a line.
_INLINE_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")
_LINE_START_SYMBOL = re.compile(r"^([ \t]*)([>#+-])", re.MULTILINE)
# Discord only escapes punctuation, so "1. item" becomes "1\. item" rather than "\1. item".
_LINE_START_NUMBER = re.compile(r"^([ \t]*[0-9]+)([.)])", re.MULTILINE)
_CODE_LANGUAGE = re.compile(r"lang(?:uage)?-([\w+#.-]{1,20})")


def neutralize_mentions(text: str) -> str:
    """Make @everyone, @here and <@id>, <@&id>, <#id>, </cmd:id> mentions inert."""
    return _ID_MENTION.sub("<" + ZWSP, _MASS_MENTION.sub("@" + ZWSP, text))


def strip_invisible(text: str) -> str:
    """Remove bidi controls, zero-width and control characters; normalise line breaks."""
    return _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))


def escape_markdown(text: str) -> str:
    """Escape Discord markdown in plain text, so what a stranger typed renders literally."""
    text = _INLINE_MARKDOWN.sub(r"\\\1", text)
    text = _LINE_START_SYMBOL.sub(r"\1\\\2", text)
    return _LINE_START_NUMBER.sub(r"\1\\\2", text)


# --- HTML -> Discord -------------------------------------------------------------------------


def html_to_discord(html: str, *, base_url: str | None = None) -> str:
    """Blog HTML as Discord markdown: structure kept, source text escaped, mentions inert."""
    try:
        markdown = _convert(html, base_url)
    except Exception:  # never-raise promise: hostile HTML degrades to its escaped text
        markdown = escape_markdown(plain_text(html))
    return neutralize_mentions(_EXCESS_BLANK_LINES.sub("\n\n", markdown)).strip()


def _convert(html: str, base_url: str | None) -> str:
    soup = BeautifulSoup(html[:MAX_HTML_CHARS], "lxml")
    _prepare(soup)
    try:
        return _DiscordMarkdown(base_url=base_url).convert_soup(soup)
    except RecursionError:  # markdownify recurses per level; deep nesting keeps only the text
        return escape_markdown(_visible_text(soup))


def _prepare(soup: BeautifulSoup) -> None:
    """Drop invisible parts of the page and clean every text node before conversion."""
    _drop_invisible_tags(soup)
    for node in soup.find_all(string=True):
        cleaned = strip_invisible(node)
        if _LONG_SPACE_RUN.search(cleaned) and not node.find_parent("pre"):
            cleaned = _LONG_SPACE_RUN.sub(" ", cleaned)  # markdownify collapses them anyway
        if cleaned != node:
            node.replace_with(type(node)(cleaned))


def _drop_invisible_tags(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_DROPPED_TAGS):
        if not tag.decomposed:  # already gone with a dropped ancestor
            tag.decompose()


class _DiscordMarkdown(MarkdownConverter):
    """markdownify tuned to what Discord renders, with links and escaping made safe."""

    def __init__(self, *, base_url: str | None) -> None:
        super().__init__(bullets="-", strong_em_symbol="*", heading_style="atx")
        self.base_url = base_url

    def escape(self, text: str, parent_tags: set[str]) -> str:
        if "a" in parent_tags:
            return escape_markdown(text)  # link text: a bare URL inside stays plain text
        return _escape_with_autolinks(text)

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "_noformat" in parent_tags or "a" in parent_tags:
            return text  # a link inside a link or in code cannot be a link in markdown
        before, after, label = chomp(text)  # "<a> x </a>" keeps its spaces outside the link
        url = self._resolve(el.get("href"))
        link = _masked_link(label, el.get_text(" ", strip=True), url) if url else label
        return before + link + after

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        alt = " ".join(strip_invisible(str(el.get("alt") or "")).split())
        url = self._resolve(el.get("src"))
        if "a" in parent_tags or not url:
            return escape_markdown(alt)
        return _masked_link(escape_markdown(alt or "image"), alt, url)

    def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return " " if "_inline" in parent_tags else "\n"

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
        # Discord's "#" headings are huge in a chat; a bold line reads like a blog subheading.
        text = " ".join(text.split())
        if "_inline" in parent_tags or not text:
            return text
        return f"\n\n**{text}**\n\n"

    def convert_hr(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return "\n\n"  # Discord has no rule line; "---" would only be noise

    def convert_code(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "_noformat" in parent_tags:
            return text
        return _inline_code(" ".join(text.split()))

    convert_kbd = convert_code
    convert_samp = convert_code

    def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        body = text.strip("\n").replace("```", "`" + ZWSP + "``")  # cannot close the fence early
        if not body.strip():
            return ""
        return f"\n\n```{_code_language(el)}\n{body}\n```\n\n"

    def _resolve(self, href: object) -> str | None:
        """An absolute http(s) URL for href, or None for anything else (javascript:, data:...)."""
        raw = _INVISIBLE.sub("", str(href or "")).strip()
        if not raw:
            return None  # urljoin would turn a missing href into a link to the post itself
        try:
            return _link_target(urljoin(self.base_url, raw) if self.base_url else raw)
        except ValueError:  # urljoin/urlsplit reject some malformed hosts
            return None

    # Nested emphasis of one kind ("**x **y** z**") would only produce stray asterisks.
    def convert_b(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return _wrap(text, "**", parent_tags, {"b", "strong"})

    def convert_em(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return _wrap(text, "*", parent_tags, {"em", "i"})

    def convert_u(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return _wrap(text, "__", parent_tags, {"u", "ins"})

    def convert_del(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return _wrap(text, "~~", parent_tags, {"del", "s", "strike"})

    convert_strong = convert_b
    convert_i = convert_em
    convert_ins = convert_u
    convert_s = convert_del
    convert_strike = convert_del


def _wrap(text: str, marker: str, parent_tags: set[str], same_kind: set[str]) -> str:
    if "_noformat" in parent_tags or parent_tags & same_kind:
        return text
    stripped = text.strip()
    if not stripped:
        return text
    before = " " if text[:1].isspace() else ""
    after = " " if text[-1:].isspace() else ""
    return f"{before}{marker}{stripped}{marker}{after}"


def _link_target(url: str) -> str | None:
    """url made safe to put in markdown, or None unless it is an absolute http(s) URL.

    Credentials are dropped ("https://paypal.com@evil.example" goes to evil.example, so that is
    what is shown) and "()<> @" are percent-encoded so the URL cannot end a link early or carry
    a mention. Raises ValueError for URLs too malformed to split.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.netloc.rpartition("@")[2]
    if not host.isascii():  # punycode shows a look-alike domain for what it is
        host = host.encode("idna").decode("ascii")  # UnicodeError is a ValueError
    return quote(parts._replace(netloc=host).geturl(), safe="/:?#[]!$&'*+,;=%~")


def _escape_with_autolinks(text: str) -> str:
    """Escape text, but keep bare URLs working: <url> is a link without escapes or an embed."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING_PUNCTUATION)
        try:
            target = _link_target(url)
        except ValueError:
            target = None
        shown = f"<{target}>" if target else escape_markdown(url)
        parts += [escape_markdown(text[position : match.start()]), shown]
        position = match.start() + len(url)
    parts.append(escape_markdown(text[position:]))
    return "".join(parts)


def _masked_link(label: str, raw_label: str, url: str) -> str:
    """[label](url), unless that could mislead: then the real URL is shown as <url>."""
    label = " ".join(label.split())
    if _names_other_site(raw_label, url):
        return f"{label} (<{url}>)"  # "paypal.com" must not lead anywhere but paypal.com
    if not label or _URL.match(raw_label.strip()):
        return f"<{url}>"  # a URL as the label says nothing the URL itself does not
    return f"[{label}]({url})"


def _names_other_site(label: str, url: str) -> bool:
    target = (urlsplit(url).hostname or "").removeprefix("www.")
    for match in _DOMAIN_LIKE.finditer(label):
        named = match.group(1).lower().removeprefix("www.")
        if target != named and not target.endswith("." + named):
            return True
    return False


def _inline_code(text: str) -> str:
    if not text:
        return ""
    if "`" not in text:
        return f"`{text}`"
    # Discord's inline code has no longer delimiter than ``: split backtick runs so none closes it.
    return "`` " + re.sub("`(?=`)", "`" + ZWSP, text) + " ``"


def _code_language(pre: Tag) -> str:
    """The language from class="language-x" or "lang-x" on <pre> or its <code>, else ""."""
    code = pre.find("code")
    for tag in (pre, code) if isinstance(code, Tag) else (pre,):
        for name in tag.get("class") or []:
            if match := _CODE_LANGUAGE.fullmatch(str(name)):
                return match.group(1)
    return ""


# --- plain text helpers ----------------------------------------------------------------------


def plain_text(html: str) -> str:
    """Visible text of HTML: one line per block, spaces collapsed, entities decoded."""
    try:
        soup = BeautifulSoup(html[:MAX_HTML_CHARS], "lxml")
        _drop_invisible_tags(soup)
        return _visible_text(soup)
    except Exception:  # never-raise promise: degrade to a crude tag strip
        return _normalise_lines(html_lib.unescape(re.sub(r"<[^>]*>", " ", html)))


def _visible_text(soup: BeautifulSoup) -> str:
    """Text with a line break around each block; inline tags join ("<b>10</b>/10" is "10/10").

    An explicit stack instead of recursion or tree edits: both fail or go quadratic on deeply
    nested pages.
    """
    parts: list[str] = []
    stack: list[object] = [soup]
    while stack:
        node = stack.pop()
        if node is _BLOCK_END:
            parts.append("\n")
        elif isinstance(node, Tag):
            if node.name in _BLOCK_TAGS:
                parts.append("\n")
                stack.append(_BLOCK_END)
            stack.extend(reversed(node.contents))
        elif type(node) is NavigableString:  # not comments, doctypes or processing instructions
            parts.append(node)
    return _normalise_lines("".join(parts))


def _normalise_lines(text: str) -> str:
    lines = (" ".join(line.split()) for line in strip_invisible(text).split("\n"))
    return "\n".join(line for line in lines if line)


def excerpt(text: str, limit: int = 300) -> str:
    """Text cut to at most limit characters at a word boundary, with "…" when cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = " ".join(strip_invisible(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if text[limit - 1] != " " and space > 0:  # a first word longer than limit is cut inside
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


# Discord rejects webhook names containing these; "the second letter becomes 1" keeps them readable.
_RESERVED_NAME_PARTS = re.compile(r"(?<=d)i(?=scord)|(?<=c)l(?=yde)", re.IGNORECASE)
_MAX_PERSONA = 80


def clamp_persona_name(name: str, suffix: str = "") -> str:
    """A webhook username (1..80 chars incl. suffix) from a stranger's name, "Anonymous" if empty.

    "Discord" becomes "D1scord" and "Clyde" becomes "C1yde"; the suffix keeps at most half the room.
    """
    suffix = _single_line(suffix, keep_edges=True).rstrip()[: _MAX_PERSONA // 2]
    cleaned = _single_line(name) or "Anonymous"
    room = _MAX_PERSONA - len(suffix)
    if len(cleaned) > room:
        cleaned = cleaned[: room - 1].rstrip() + "…"
    persona = cleaned + suffix
    # Replacing a letter can expose a new match ("discordiscord"), so repeat until none is left.
    while _RESERVED_NAME_PARTS.search(persona):
        persona = _RESERVED_NAME_PARTS.sub("1", persona)
    return persona


def _single_line(text: str, *, keep_edges: bool = False) -> str:
    # NFKC folds look-alikes Discord folds too ("ｄｉｓｃｏｒｄ"), so the name check sees them.
    text = strip_invisible(unicodedata.normalize("NFKC", text))
    collapsed = re.sub(r"\s+", " ", text)
    return collapsed if keep_edges else collapsed.strip()


# --- split for Discord -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Fence:
    start: int  # the opening ```
    body: int  # first character of the code
    close: int  # the closing ```
    end: int  # just after the closing ```
    opener: str  # "```lang\n", repeated when a chunk ends inside the block


_FENCE_MARK = re.compile(r"```")
_FENCE_LANGUAGE = re.compile(r"([\w+\-.#]{1,20})\n")  # "```py\n"; the newline is not code
# Spans a cut must not fall inside: masked links, inline code, autolinks.
_ATOMS = re.compile(
    # Bounded and without nested "[" so a line of "[[[[" cannot make the scan quadratic.
    r"""(?<!\\)\[(?:\\.|[^\[\]\\\n]){0,500}\]\((?:<[^>\n]{0,2000}>|[^)\s]{0,2000})\)
      | (?<![\\`])(`{1,2})(?!`)(?:(?!\1).)+?\1
      | <https?://[^>\s]+>""",
    re.VERBOSE,
)
_HORIZONTAL_SPACE = re.compile(r"[ \t]*")
_WHITESPACE = re.compile(r"\s*")
_LIVE_LINE_START = re.compile(r"(?:>{1,3}|#{1,3}|-#|[-*+]|[0-9]{1,9}[.)])[ \t]")
_CUT_PREFERENCES: tuple[re.Pattern[str], ...] = (
    re.compile(r"\n(?=[ \t]*\n)"),  # paragraph
    re.compile(r"\n"),  # line
    re.compile(r"(?<=[.!?…])[\"')\]”’]*(?=\s)"),  # sentence
    re.compile(r"(?=\s)"),  # word
)


def split_for_discord(markdown: str, limit: int = 2000) -> list[str]:
    """Chunks of at most limit characters, cut at the best boundary outside markdown constructs.

    A chunk that ends inside a ``` block closes it and the next chunk reopens it with the same
    language (for limits of at least 64).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = markdown.strip()
    fences = _fences(text)
    protected = _protected_spans(text, fences)
    chunks: list[str] = []
    position, reopen = 0, ""
    while position < len(text):
        cut, fence = _next_cut(text, position, limit, reopen, protected, fences)
        piece = text[position:cut]
        # Inside code, whitespace is content: only the newline the cut was made at goes.
        piece = piece.removesuffix("\n") + "\n```" if fence else piece.rstrip()
        chunk = reopen + piece
        if chunk.strip():
            chunks.append(chunk)
        position, reopen = _resume(text, cut, fence)
    return chunks


def _fences(text: str) -> list[_Fence]:
    """Code blocks as Discord reads them: ``` pairs, the language only when a newline follows."""
    marks = [m.start() for m in _FENCE_MARK.finditer(text)]
    fences = []
    for start, close in zip(marks[::2], marks[1::2], strict=False):
        language = _FENCE_LANGUAGE.match(text, start + 3)
        body = language.end() if language else start + 3 + text.startswith("\n", start + 3)
        opener = "```" + (language.group(1) if language else "") + "\n"
        fences.append(_Fence(start, body, close, close + 3, opener))
    return fences


def _protected_spans(text: str, fences: list[_Fence]) -> list[tuple[int, int]]:
    spans = []
    for fence in fences:
        spans += [(fence.start, fence.body + 1), (fence.close, fence.end)]
    position = 0
    for fence in [*fences, None]:
        stop = fence.start if fence else len(text)
        spans += [m.span() for m in _ATOMS.finditer(text, position, stop)]
        position = fence.end if fence else len(text)
    return sorted(spans)


def _next_cut(
    text: str,
    position: int,
    limit: int,
    reopen: str,
    protected: list[tuple[int, int]],
    fences: list[_Fence],
) -> tuple[int, _Fence | None]:
    """Where the chunk starting at position ends, and the code block it ends inside, if any."""
    budget = limit - len(reopen)
    cut = _best_cut(text, position, budget, protected)
    fence = _fence_around(cut, fences, limit)
    if fence and cut - position + 4 > budget:  # leave room for the closing ```
        cut = _best_cut(text, position, budget - 4, protected)
        fence = _fence_around(cut, fences, limit)
    return cut, fence


def _best_cut(text: str, position: int, budget: int, protected: list[tuple[int, int]]) -> int:
    end = position + budget
    if end >= len(text):
        return len(text)
    for boundary in _CUT_PREFERENCES:
        cuts = [m.end() for m in boundary.finditer(text, position + 1, end + 1)]
        for cut in reversed(cuts):
            if _cuttable(text, cut, protected):
                return cut
    return _hard_cut(text, position, end, protected)


def _hard_cut(text: str, position: int, end: int, protected: list[tuple[int, int]]) -> int:
    span = _span_around(end, protected)
    if span and span[0] > position:
        end = span[0]  # step back before the link or code span rather than through it
    while end - 1 > position and (_escapes_next(text, end) or _starts_line_markdown(text, end)):
        end -= 1
    return end


def _cuttable(text: str, cut: int, protected: list[tuple[int, int]]) -> bool:
    return (
        _span_around(cut, protected) is None
        and not _escapes_next(text, cut)
        and not _starts_line_markdown(text, cut)
    )


def _span_around(cut: int, protected: list[tuple[int, int]]) -> tuple[int, int] | None:
    index = bisect_right(protected, cut, key=itemgetter(0)) - 1
    # Spans never nest; only the markers of an empty code block overlap, by one character.
    for start, end in protected[max(0, index - 1) : index + 1]:
        if start < cut < end:
            return start, end
    return None


def _starts_line_markdown(text: str, cut: int) -> bool:
    """True if the cut would move mid-line text like "> x" or "# x" to the start of a chunk."""
    start = _HORIZONTAL_SPACE.match(text, cut).end()
    at_line_start = cut == 0 or text[cut - 1] == "\n" or text.startswith("\n", start)
    return not at_line_start and bool(_LIVE_LINE_START.match(text, start))


def _escapes_next(text: str, cut: int) -> bool:
    """True when the text before cut ends in an odd run of backslashes (an escape)."""
    run = 0
    while run < cut and text[cut - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _fence_around(cut: int, fences: list[_Fence], limit: int) -> _Fence | None:
    if limit < _MIN_LIMIT_FOR_FENCE_REPAIR:
        return None  # too small to close and reopen a fence
    return next((f for f in fences if f.body <= cut < f.close), None)


def _resume(text: str, cut: int, fence: _Fence | None) -> tuple[int, str]:
    """Where the next chunk starts, and the fence opener it must repeat."""
    if fence is None:
        return _WHITESPACE.match(text, cut).end(), ""
    start = cut + 1 if text.startswith("\n", cut) else cut  # keep the code's indentation
    if _WHITESPACE.match(text, start).end() >= fence.close:
        return _WHITESPACE.match(text, fence.end).end(), ""  # nothing left of the block
    return start, fence.opener


# --- Discord -> HTML -------------------------------------------------------------------------

_ALLOWED_TAGS = {"p", "br", "strong", "em", "u", "del", "code", "pre", "blockquote", "a"}
# nh3 adds rel itself through link_rel and refuses "rel" in the attribute list alongside it.
_ALLOWED_ATTRIBUTES = {"a": {"href"}}
_PLACEHOLDER = re.compile("\ue000([0-9]+)\ue001")
_PLACEHOLDER_CHARS = re.compile("[\ue000\ue001]")
_LONE_PLACEHOLDER = re.compile("<p>(\ue000([0-9]+)\ue001)</p>")

_CODE_BLOCK = re.compile(r"```(?:([\w+\-.#]{1,20})\n)?\n*(.+?)\n*```", re.DOTALL)
_INLINE_TOKEN = re.compile(
    r"""(?P<code>(`{1,2})(?!`)(?P<code_text>.+?)(?<!`)\2(?!`))
      | (?P<masked>\[(?P<label>[^\]\n]{1,200})\]\(<?(?P<target>https?://[^\s<>()]+)>?\))
      | <(?P<autolink>https?://[^\s<>]+)>
      | (?P<url>https?://[^\s<>]*[^\s<>.,:;"')\]!?])
      | <@!?(?P<user>[0-9]{1,20})>
      | <@&(?P<role>[0-9]{1,20})>
      | <\#(?P<channel>[0-9]{1,20})>
      | </(?P<command>[^<>:\n]{1,100}):[0-9]{1,20}>
      | <a?:(?P<emoji>\w{1,32}):[0-9]{1,20}>
      | <t:(?P<timestamp>-?[0-9]{1,13})(?::[tTdDfFR])?>
      | \\(?P<escaped>[^\w\s])""",
    re.VERBOSE | re.IGNORECASE,
)
_EMPHASIS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*", re.S), r"<strong><em>\1</em></strong>"),
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S), r"<strong>\1</strong>"),
    (re.compile(r"__(?=\S)(.+?)(?<=\S)__", re.S), r"<u>\1</u>"),
    (re.compile(r"\*(?=\S)(.+?)(?<=\S)\*", re.S), r"<em>\1</em>"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)", re.S), r"<em>\1</em>"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.S), r"<del>\1</del>"),
    (re.compile(r"\|\|(.+?)\|\|", re.S), r"\1"),  # a spoiler on the blog is simply the text
)
_HEADING_OR_SUBTEXT = re.compile(r"^(?:#{1,3}|-#)[ \t]+")


_NO_NAMES: Mapping[int, str] = MappingProxyType({})


@dataclass(frozen=True)
class _DiscordNames:
    users: Mapping[int, str]
    roles: Mapping[int, str]
    channels: Mapping[int, str]


def discord_to_html(
    markdown: str,
    *,
    users: Mapping[int, str] = _NO_NAMES,
    roles: Mapping[int, str] = _NO_NAMES,
    channels: Mapping[int, str] = _NO_NAMES,
) -> str:
    """A Discord message as safe HTML for a WordPress comment (nh3 allow-list as the last word)."""
    names = _DiscordNames(users, roles, channels)
    text = _PLACEHOLDER_CHARS.sub("", strip_invisible(markdown[:MAX_MARKDOWN_CHARS]))
    try:
        rendered = _render_message(text, names)
    except Exception:  # never-raise promise: an unforeseen input degrades to escaped text
        rendered = "<p>" + html_lib.escape(text).replace("\n", "<br>") + "</p>"
    return nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel="nofollow ugc",
        url_schemes={"http", "https"},
        url_relative="deny",
    )


def _render_message(text: str, names: _DiscordNames) -> str:
    stash: list[str] = []

    def keep(fragment: str) -> str:
        # Finished HTML waits in a private-use placeholder, safe from escaping and emphasis.
        stash.append(fragment)
        return f"\ue000{len(stash) - 1}\ue001"

    text = _CODE_BLOCK.sub(lambda m: "\n\n" + keep(_code_block(m[2])) + "\n\n", text)
    text = _INLINE_TOKEN.sub(lambda m: keep(_TOKEN_RENDERERS[m.lastgroup or ""](m, names)), text)
    html = _blocks(text)
    # A code block alone in its paragraph must not end up as <p><pre>, which HTML cannot nest.
    html = _LONE_PLACEHOLDER.sub(
        lambda m: m[1] if stash[int(m[2])].startswith("<pre>") else m[0], html
    )
    return _PLACEHOLDER.sub(lambda m: stash[int(m[1])], html)


def _code_block(code: str) -> str:
    return f"<pre><code>{html_lib.escape(code)}</code></pre>"


def _blocks(text: str) -> str:
    """Paragraphs with line breaks, and quotes around runs of quoted lines."""
    html = []
    for quoted, run in groupby(_quote_lines(text), key=itemgetter(0)):
        body = _paragraphs([line for _, line in run])
        html.append(f"<blockquote>{body}</blockquote>" if quoted and body else body)
    return "".join(html)


def _quote_lines(text: str) -> Iterator[tuple[bool, str]]:
    """(quoted, content) per line: "> " quotes a line, ">>> " the rest of the message."""
    rest_quoted = False
    for line in text.split("\n"):
        if rest_quoted:
            yield True, line
        elif line.startswith(">>> "):
            rest_quoted = True
            yield True, line[4:]
        elif line.startswith("> ") or line == ">":
            yield True, line[2:]
        else:
            yield False, line


def _paragraphs(lines: list[str]) -> str:
    paragraphs = re.split(r"\n[ \t]*\n", "\n".join(lines))
    return "".join(_paragraph(p) for p in paragraphs if p.strip())


def _paragraph(text: str) -> str:
    lines = [_line(line) for line in text.strip("\n").split("\n")]
    body = _emphasis(html_lib.escape("\n".join(lines), quote=False))
    return "<p>" + body.replace("\n", "<br>\n") + "</p>"


def _line(line: str) -> str:
    """Headings and -# subtext become plain lines; Discord's size has no place in a comment."""
    return _HEADING_OR_SUBTEXT.sub("", line)


def _emphasis(text: str) -> str:
    for pattern, replacement in _EMPHASIS:
        text = pattern.sub(replacement, text)
    return text


def _link(url: str, label: str) -> str:
    return f'<a href="{html_lib.escape(url)}">{html_lib.escape(label)}</a>'


def _mention(prefix: str, names: Mapping[int, str], raw_id: str, unknown: str) -> str:
    name = " ".join(strip_invisible(str(names.get(int(raw_id), ""))).split()) or unknown
    return html_lib.escape(prefix + name)


def _timestamp(raw: str) -> str:
    try:
        moment = datetime.fromtimestamp(int(raw), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return html_lib.escape(f"<t:{raw}>")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# Keyed by the outermost named group of the alternative that matched (Match.lastgroup).
_TOKEN_RENDERERS: dict[str, Callable[[re.Match[str], _DiscordNames], str]] = {
    "code": lambda m, _: f"<code>{html_lib.escape(m['code_text'].strip())}</code>",
    "masked": lambda m, _: _link(m["target"], m["label"]),
    "autolink": lambda m, _: _link(m["autolink"], m["autolink"]),
    "url": lambda m, _: _link(m["url"], m["url"]),
    "user": lambda m, n: _mention("@", n.users, m["user"], "unknown-user"),
    "role": lambda m, n: _mention("@", n.roles, m["role"], "unknown-role"),
    "channel": lambda m, n: _mention("#", n.channels, m["channel"], "unknown-channel"),
    "command": lambda m, _: html_lib.escape("/" + m["command"]),
    "emoji": lambda m, _: f":{html_lib.escape(m['emoji'])}:",
    "timestamp": lambda m, _: _timestamp(m["timestamp"]),
    "escaped": lambda m, _: html_lib.escape(m["escaped"]),
}
