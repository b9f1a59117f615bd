"""WordPress REST API connector (WordPress 6.1+, pretty permalinks or `?rest_route=`)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from bot.blog.errors import (
    BadCredentials,
    BlogError,
    CommentFlood,
    CommentsClosed,
    DuplicateComment,
    InsufficientRole,
    InvalidParent,
    NotFound,
    OutcomeUnknown,
    ReadOnlyBlog,
)
from bot.blog.markup import critic_score, first_image, parse_html
from bot.blog.models import (
    BlogComment,
    CommentRef,
    PollResult,
    PollState,
    Review,
    thread_order,
    to_utc,
)
from bot.blog.transport import Response, RetryPolicy, send
from bot.domain.text import excerpt, plain_text

log = logging.getLogger(__name__)

API_REL = "https://api.w.org/"
PER_PAGE = 100  # the REST API maximum
EMBED = "author,wp:featuredmedia,wp:term"
MARKER_RE = re.compile(r"[A-Za-z0-9_.:]+(?:-[A-Za-z0-9_.:]+)*")  # no "--": kses mangles it
_LINK_RE = re.compile(r"<([^>]*)>([^<]*)")

_ERRORS_BY_CODE: Mapping[str, type[BlogError]] = {
    "rest_comment_closed": CommentsClosed,
    "comment_duplicate": DuplicateComment,
    "comment_flood": CommentFlood,
    "rest_comment_login_required": BadCredentials,
    "rest_not_logged_in": BadCredentials,
    "incorrect_password": BadCredentials,
    "invalid_username": BadCredentials,
    "invalid_email": BadCredentials,
    "rest_post_invalid_id": NotFound,
    "rest_comment_invalid_id": NotFound,
    "rest_comment_invalid_post_id": NotFound,
    "rest_comment_draft_post": NotFound,
    "rest_comment_trash_post": NotFound,
    "rest_already_trashed": NotFound,
    "rest_cannot_read": NotFound,
    "rest_forbidden": NotFound,
    "rest_no_route": NotFound,
}
_ERRORS_BY_STATUS: Mapping[int, type[BlogError]] = {
    401: BadCredentials,
    403: InsufficientRole,
    404: NotFound,
    410: NotFound,
}


def wp_time(value: datetime) -> str:
    """A UTC timestamp with an explicit offset: WordPress reads a bare one as site-local time."""
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_gmt(value: str) -> datetime:
    """`date_gmt`/`modified_gmt` carry no offset but are UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def link_targets(headers: CIMultiDictProxy[str], rel: str) -> list[str]:
    """URLs of the `Link` header entries with relation `rel`."""
    found = []
    for header in headers.getall("Link", []):
        for target, params in _LINK_RE.findall(header):
            rels = re.search(r'rel="?([^";]+)"?', params)
            if rels and rel in rels.group(1).split():
                found.append(target)
    return found


def marker_tag(marker: str) -> str:
    """The idempotency marker as stored in the comment: an HTML comment readers never see."""
    return f"<!-- rb:{marker} -->"


def with_marker(content_html: str, marker: str | None) -> str:
    """Put the marker inside the last paragraph: alone, wpautop would wrap it in an empty one."""
    if marker is None:
        return content_html
    body = content_html.rstrip()
    if body.endswith("</p>"):
        return f"{body[:-4]}{marker_tag(marker)}</p>"
    return f"{body} {marker_tag(marker)}"


class WordPressBlog:
    """A WordPress site read (and, with an Editor's Application Password, written) over REST."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        site_url: str,
        user: str | None = None,
        app_password: str | None = None,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._session = session
        self.site_url = URL(site_url)
        self._user = user
        self._auth = (
            {"Authorization": aiohttp.encode_basic_auth(user, app_password)}
            if user and app_password
            else None
        )
        self._retry = retry or RetryPolicy()
        self._root: URL | None = None
        self._root_lock = asyncio.Lock()
        self._my_id: int | None = None

    def __repr__(self) -> str:
        password = "***" if self._auth else None
        return (
            f"WordPressBlog(site_url={str(self.site_url)!r}, user={self._user!r}, "
            f"app_password={password!r})"
        )

    @property
    def writable(self) -> bool:
        return self._auth is not None

    # ---- plumbing

    async def rest_root(self) -> URL:
        """The REST API root, discovered once from the site's `Link` header."""
        async with self._root_lock:
            if self._root is None:
                self._root = await self._discover_root()
        return self._root

    async def _discover_root(self) -> URL:
        what = f"The blog at {self.site_url}"
        home = await send(
            self._session, "GET", self.site_url, policy=self._retry, idempotent=True, what=what
        )
        advertised = link_targets(home.headers, API_REL) or _api_link_in_html(home)
        if advertised:
            return URL(advertised[0])
        # Without pretty permalinks nor the header (a proxy may drop it), `?rest_route=` works.
        fallback = self.site_url.with_query(rest_route="/")
        probe = await send(
            self._session, "GET", fallback, policy=self._retry, idempotent=True, what=what
        )
        index = probe.json()
        if probe.ok and isinstance(index, dict) and "wp/v2" in index.get("namespaces", []):
            return fallback
        raise NotFound(
            f"No WordPress REST API found at {self.site_url}. Check the site address, "
            "or configure the blog's RSS/Atom feed instead."
        )

    def _url(self, root: URL, route: str, params: Mapping[str, Any]) -> URL:
        if "rest_route" in root.query:
            return root.update_query({"rest_route": f"/{route}", **params})
        return root.joinpath(route).update_query(params)

    async def _call(
        self,
        method: str,
        route: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Response:
        url = self._url(await self.rest_root(), route, params or {})
        response = await send(
            self._session,
            method,
            url,
            policy=self._retry,
            idempotent=idempotent,
            what=what,
            headers=self._auth,
            json=body,
        )
        if not response.ok:
            raise self._error(response, what)
        return response

    def _error(self, response: Response, what: str) -> BlogError:
        data = response.json()
        data = data if isinstance(data, dict) else {}
        code = str(data.get("code", ""))
        said = plain_text(str(data.get("message", ""))) or f"HTTP {response.status}"
        kind = _ERRORS_BY_CODE.get(code) or _ERRORS_BY_STATUS.get(response.status, BlogError)
        log.info("wordpress refused what=%s status=%s code=%s", what, response.status, code)
        return kind(self._explain(kind, what, said, code))

    def _explain(self, kind: type[BlogError], what: str, said: str, code: str) -> str:
        if kind is BadCredentials:
            if not self.writable:
                return f"{what}: the blog wants a login ({said})."
            return (
                f"WordPress did not accept the bot's login as {self._user!r} ({said}). "
                "Check the WordPress user name and its Application Password."
            )
        if kind is InsufficientRole:
            return (
                f"The WordPress user {self._user!r} may not do this: {said} "
                "The bot's WordPress user must be an Editor."
            )
        if kind is CommentsClosed:
            return "Comments are closed on this review, so the reply cannot be posted."
        if kind is DuplicateComment:
            return "WordPress already has this exact comment; write something different."
        if kind is CommentFlood:
            return (
                "WordPress says comments are being posted too quickly; try again in a "
                "minute. (An Editor account is exempt from this limit.)"
            )
        if kind is NotFound:
            return f"{what}: not found on the blog; it may have been deleted or unpublished."
        return f"WordPress refused {what}: {said} ({code or 'no code'})."

    async def _collect(
        self, route: str, params: Mapping[str, Any], *, what: str, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """All items of a listing, page after page."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            response = await self._call("GET", route, params={**params, "page": page}, what=what)
            items.extend(response.json() or [])
            if (limit is not None and len(items) >= limit) or not _has_next(response, page):
                return items[:limit] if limit is not None else items
            page += 1

    def _require_writable(self) -> None:
        if not self.writable:
            raise ReadOnlyBlog(
                "The blog is connected read-only: set the WordPress user and an Application "
                "Password of an Editor to post comments from Discord."
            )

    # ---- reviews

    async def list_reviews(
        self, since: datetime | None = None, limit: int | None = None
    ) -> list[Review]:
        params: dict[str, Any] = {
            "per_page": min(limit or PER_PAGE, PER_PAGE),
            "orderby": "date",
            "order": "desc",
            "_embed": EMBED,
        }
        if since is not None:
            params["after"] = wp_time(since)
        posts = await self._collect("wp/v2/posts", params, what="The review list", limit=limit)
        return [review_from_post(post) for post in posts]

    async def get_review(self, review_id: str) -> Review | None:
        if not review_id.isdigit():
            return None
        try:
            response = await self._call(
                "GET",
                f"wp/v2/posts/{review_id}",
                params={"_embed": EMBED},
                what=f"Review {review_id}",
            )
        except NotFound:
            return None
        post = response.json()
        # An Editor can read drafts; they are not reviews yet.
        return review_from_post(post) if post.get("status", "publish") == "publish" else None

    async def find_review_by_url(self, url: str) -> Review | None:
        link = URL(url)
        if not _same_site(link, self.site_url):
            return None
        post_id = link.query.get("p")
        if post_id:
            return await self.get_review(post_id)
        slug = next((part for part in reversed(link.parts) if part not in ("", "/")), None)
        if slug is None:
            return None
        posts = await self._collect(
            "wp/v2/posts", {"slug": slug, "_embed": EMBED}, what=f"The review at {url}", limit=1
        )
        return review_from_post(posts[0]) if posts else None

    # ---- comments

    async def list_comments(self, review_id: str) -> list[BlogComment]:
        params = {
            "post": review_id,
            "per_page": PER_PAGE,
            "status": "approve",
            "orderby": "date_gmt",
            "order": "asc",
        }
        raw = await self._collect(
            "wp/v2/comments", params, what=f"The comments of review {review_id}"
        )
        return thread_order(comment_from_json(c) for c in raw)

    async def get_comment(self, comment_id: str) -> BlogComment | None:
        if not comment_id.isdigit():
            return None
        try:
            response = await self._call(
                "GET", f"wp/v2/comments/{comment_id}", what=f"Comment {comment_id}"
            )
        except NotFound:
            return None
        return comment_from_json(response.json())

    async def comment_statuses(self, comment_ids: Sequence[str]) -> dict[str, str]:
        """Where each comment stands: "approved", "hold", "spam", "trash" or "post-trashed"
        (its post is in the trash); one deleted for good is left out. Moderators only (held
        comments are not public).

        One request per 100 ids (`status=all` is approved and held), then, only for ids not
        found yet, one per 100 for each other status: the REST API takes one status per
        request (`status` is sanitised to a single key, "hold,approve" matches nothing)."""
        self._require_writable()
        wanted = [i for i in dict.fromkeys(comment_ids) if i.isdigit()]
        found: dict[str, str] = {}
        for status in ("all", "trash", "spam", "post-trashed"):
            rest = [i for i in wanted if i not in found]
            if not rest:
                break
            for start in range(0, len(rest), PER_PAGE):
                found.update(await self._statuses_in(rest[start : start + PER_PAGE], status))
        return found

    async def _statuses_in(self, ids: list[str], status: str) -> dict[str, str]:
        params = {"include": ",".join(ids), "status": status, "per_page": PER_PAGE}
        raw = await self._collect(
            "wp/v2/comments", {**params, "_fields": "id,status"}, what="The held comments"
        )
        return {str(c["id"]): str(c["status"]) for c in raw if str(c["id"]) in ids}

    # ---- the cheap poll

    async def poll(self, state: PollState) -> PollResult:
        """Two concurrent requests; more only when something changed.

        1. The 100 most recently modified posts (ids and modified dates) and X-WP-Total:
           a new, edited or just-published scheduled post shows as an unknown version.
        2. The 100 newest approved comment ids and X-WP-Total: new ids are new comments; a total
           that moved more than the new ids explain means a late approval, trash or spam.
        Not seen: edits of comments, and a trash and a late approval between two polls that
        cancel out in the total. A periodic full `list_comments` reconciles those.
        """
        posts_head, comments_head = await asyncio.gather(
            self._call(
                "GET",
                "wp/v2/posts",
                what="The blog",
                params={
                    "orderby": "modified",
                    "order": "desc",
                    "per_page": PER_PAGE,
                    "_fields": "id,modified_gmt",
                },
            ),
            self._call(
                "GET",
                "wp/v2/comments",
                what="The blog",
                params={
                    "orderby": "id",
                    "order": "desc",
                    "per_page": PER_PAGE,
                    "_fields": "id,post",
                },
            ),
        )
        versions = {str(p["id"]): p["modified_gmt"] for p in posts_head.json() or []}
        reviews_total = _total(posts_head)
        comments = comments_head.json() or []
        comments_total = _total(comments_head)
        new_state = PollState(
            review_versions=versions,
            reviews_total=reviews_total,
            comments_max_id=max([state.comments_max_id or 0, *(c["id"] for c in comments)]),
            comments_total=comments_total,
        )
        if state.is_baseline:
            return PollResult(state=new_state)
        changed = await self._changed_reviews(state, versions)
        new_comments = await self._new_comments(state, comments)
        return PollResult(
            state=new_state,
            reviews=tuple(changed),
            new_comments=tuple(new_comments),
            # New comments explain part of the move in the total; the rest is something else.
            comments_total_changed=(
                comments_total != (state.comments_total or 0) + len(new_comments)
            ),
            reviews_total_changed=reviews_total != state.reviews_total,
        )

    async def _changed_reviews(self, state: PollState, head: dict[str, str]) -> list[Review]:
        known = state.review_versions
        # Below the oldest remembered version, a post was already older than the whole head.
        floor = min(known.values()) if len(known) < (state.reviews_total or 0) else ""
        changed = [i for i, v in head.items() if known.get(i) != v and v >= floor]
        if len(changed) == PER_PAGE:
            # The whole head changed: look further back, down to the remembered floor.
            params = {
                "orderby": "modified",
                "order": "desc",
                "per_page": PER_PAGE,
                "_fields": "id,modified_gmt",
            }
            if floor:
                params["modified_after"] = wp_time(parse_gmt(floor) - timedelta(seconds=1))
            deeper = await self._collect("wp/v2/posts", params, what="The blog")
            changed = [str(p["id"]) for p in deeper if known.get(str(p["id"])) != p["modified_gmt"]]
        return await self._reviews_by_id(changed)

    async def _reviews_by_id(self, ids: list[str]) -> list[Review]:
        reviews: list[Review] = []
        for start in range(0, len(ids), PER_PAGE):
            chunk = ids[start : start + PER_PAGE]
            posts = await self._collect(
                "wp/v2/posts",
                {"include": ",".join(chunk), "per_page": PER_PAGE, "_embed": EMBED},
                what="The changed reviews",
            )
            reviews.extend(review_from_post(post) for post in posts)
        return sorted(reviews, key=lambda r: r.published, reverse=True)

    async def _new_comments(self, state: PollState, head: list[dict[str, Any]]) -> list[CommentRef]:
        seen = state.comments_max_id or 0
        new = [c for c in head if c["id"] > seen]
        page = 1
        while len(head) == PER_PAGE and all(c["id"] > seen for c in head):
            page += 1
            head = (
                await self._call(
                    "GET",
                    "wp/v2/comments",
                    what="The blog",
                    params={
                        "orderby": "id",
                        "order": "desc",
                        "per_page": PER_PAGE,
                        "_fields": "id,post",
                        "page": page,
                    },
                )
            ).json() or []
            new.extend(c for c in head if c["id"] > seen)
        return [CommentRef(id=str(c["id"]), review_id=str(c["post"])) for c in new]

    # ---- writes

    async def check_write_access(self) -> None:
        """Raise the error a write would meet if the bot's user could not moderate comments."""
        self._require_writable()
        me = (
            await self._call(
                "GET",
                "wp/v2/users/me",
                what="The bot's WordPress account",
                params={"context": "edit", "_fields": "id,capabilities"},
            )
        ).json()
        self._my_id = int(me["id"])
        if not me.get("capabilities", {}).get("moderate_comments"):
            raise InsufficientRole(
                f"The WordPress user {self._user!r} cannot moderate comments. "
                "The bot's WordPress user must be an Editor."
            )

    async def _my_user_id(self) -> int:
        if self._my_id is None:
            me = await self._call(
                "GET",
                "wp/v2/users/me",
                params={"_fields": "id"},
                what="The bot's WordPress account",
            )
            self._my_id = int(me.json()["id"])
        return self._my_id

    async def create_comment(
        self,
        review_id: str,
        *,
        parent_id: str | None,
        author_name: str,
        content_html: str,
        marker: str | None = None,
        held: bool = False,
    ) -> BlogComment:
        """Post a comment as the bot's user, shown under `author_name`.

        `author` (the bot's own id) keeps the comment owned by the Editor, so WordPress approves
        it at once and skips flood checks; `author_name` overrides only the displayed name.
        `held` sends `status: hold` (a moderator's right): it waits in the moderation queue.
        """
        self._require_writable()
        if marker is not None and not MARKER_RE.fullmatch(marker):
            raise ValueError(f"marker {marker!r}: use letters, digits, _ . : and single hyphens")
        if parent_id and parent_id != "0":
            await self._check_parent(review_id, parent_id)
        body = {
            "post": int(review_id),
            "parent": int(parent_id or 0),
            "author": await self._my_user_id(),
            "author_name": author_name,
            "content": with_marker(content_html, marker),
        }
        if held:
            body["status"] = "hold"
        try:
            response = await self._call(
                "POST", "wp/v2/comments", body=body, idempotent=False, what="Posting the comment"
            )
        except OutcomeUnknown as exc:
            raise OutcomeUnknown(
                f"{exc} Look for it with its marker before posting again.", marker=marker
            ) from exc
        return comment_from_json(response.json())

    async def _check_parent(self, review_id: str, parent_id: str) -> None:
        # WordPress accepts a parent from another post and files the reply under the wrong thread.
        parent = await self.get_comment(parent_id)
        if parent is None or parent.status in ("trash", "spam"):
            raise InvalidParent("The comment you replied to no longer exists on the blog.")
        if parent.review_id != review_id:
            raise InvalidParent(
                "The comment you replied to belongs to another review; "
                "reply in that review's thread."
            )

    async def find_comment_by_marker(self, review_id: str, marker: str) -> BlogComment | None:
        self._require_writable()
        params = {
            "post": review_id,
            "search": f"rb:{marker}",
            "status": "all",
            "per_page": PER_PAGE,
        }
        found = await self._collect("wp/v2/comments", params, what="The comment search")
        tag = marker_tag(marker)
        matches = [c for c in found if tag in c.get("content", {}).get("rendered", "")]
        return comment_from_json(matches[0]) if matches else None

    async def edit_comment(
        self, comment_id: str, content_html: str, *, marker: str | None = None
    ) -> BlogComment:
        self._require_writable()
        response = await self._call(
            "POST",
            f"wp/v2/comments/{comment_id}",
            body={"content": with_marker(content_html, marker)},
            what=f"Editing comment {comment_id}",
        )
        return comment_from_json(response.json())

    async def delete_comment(self, comment_id: str) -> None:
        self._require_writable()
        try:
            await self._call(
                "DELETE", f"wp/v2/comments/{comment_id}", what=f"Deleting comment {comment_id}"
            )
        except NotFound:
            log.info("comment already gone comment=%s", comment_id)


# ---- JSON -> models


def review_from_post(post: Mapping[str, Any]) -> Review:
    content = post.get("content", {}).get("rendered", "")
    embedded = post.get("_embedded", {})
    terms = [t for group in embedded.get("wp:term", []) for t in group if isinstance(t, dict)]
    return Review(
        id=str(post["id"]),
        title=plain_text(post.get("title", {}).get("rendered", "")),
        url=post["link"],
        author=_embedded_field(embedded, "author", "name") or "",
        published=parse_gmt(post["date_gmt"]),
        modified=parse_gmt(post["modified_gmt"]),
        excerpt=excerpt(plain_text(post.get("excerpt", {}).get("rendered", ""))),
        image_url=(
            _embedded_field(embedded, "wp:featuredmedia", "source_url")
            or first_image(parse_html(content), post["link"])
        ),
        categories=tuple(unescape(t["name"]) for t in terms if t.get("taxonomy") == "category"),
        tags=tuple(unescape(t["name"]) for t in terms if t.get("taxonomy") == "post_tag"),
        score=critic_score(content),
        content_html=content,
    )


def comment_from_json(data: Mapping[str, Any]) -> BlogComment:
    avatars = data.get("author_avatar_urls") or {}
    return BlogComment(
        id=str(data["id"]),
        review_id=str(data["post"]),
        parent_id=str(data.get("parent") or 0),
        author=unescape(data.get("author_name", "")),
        published=parse_gmt(data["date_gmt"]),
        content_html=data.get("content", {}).get("rendered", ""),
        link=data.get("link", ""),
        status=data.get("status", "approved"),
        author_avatar_url=avatars[max(avatars, key=int)] if avatars else None,
        author_url=data.get("author_url") or None,
    )


def _embedded_field(embedded: Mapping[str, Any], rel: str, key: str) -> str | None:
    # An embed the visitor may not see comes back as an error object without the key.
    items = embedded.get(rel) or [{}]
    value = items[0].get(key) if isinstance(items[0], dict) else None
    return str(value) if value else None


def _api_link_in_html(response: Response) -> list[str]:
    soup = parse_html(response.body.decode("utf-8", "replace"))
    tag = soup.find("link", rel=API_REL, href=True)
    return [str(tag["href"])] if tag else []


def _same_site(link: URL, site: URL) -> bool:
    def bare(host: str | None) -> str:
        return (host or "").lower().removeprefix("www.")

    return link.is_absolute() and bool(link.host) and bare(link.host) == bare(site.host)


def _has_next(response: Response, page: int) -> bool:
    pages = response.headers.get("X-WP-TotalPages")
    if pages is not None and pages.isdigit():
        return page < int(pages)
    return bool(link_targets(response.headers, "next"))


def _total(response: Response) -> int:
    total = response.headers.get("X-WP-Total", "")
    return int(total) if total.isdigit() else len(response.json() or [])
