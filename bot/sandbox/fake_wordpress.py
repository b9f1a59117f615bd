"""A fake WordPress 6.1 served over real HTTP, faithful where Reviewbridge depends on it.

Modelled (see shared/notes/platform-facts.md): REST discovery through the `Link` header and
`?rest_route=`; `date` in a non-UTC site time zone beside `date_gmt`; `after=`/`modified_after=`
read as site-local unless they carry an offset, compared strictly; `per_page` 1..100 with
`X-WP-Total`, `X-WP-TotalPages` and `Link: rel=next`; comment status and `include` filtering;
Application Password Basic auth where a wrong password silently means anonymous; the create
checks and their error codes (login required, closed, duplicate, flood, author override,
moderation, a moderator's `status: hold`); no check that a parent belongs to the same post;
trash; a conditional-GET RSS feed.

Test API: `add_user`, `add_post`, `add_comment`, `approve`, `hold`, `trash`, `spam`, `delete`,
`edit_comment`, `edit_post`, `publish`; `fail_next`/`delay_next` for faults;
`count()`/`reset_counts()` for the requests seen. Start it with
`async with FakeWordPress().serve() as wp:`; `wp.url` is the site.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import itertools
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

FLOOD_SECONDS = 15
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_STATUS_OUT = {
    "1": "approved",
    "0": "hold",
    "spam": "spam",
    "trash": "trash",
    "post-trashed": "post-trashed",  # the comment's post is in the trash
}
_STATUS_IN = {
    "approve": {"1"},
    "hold": {"0"},
    "spam": {"spam"},
    "trash": {"trash"},
    "post-trashed": {"post-trashed"},
    "all": {"1", "0"},
}


class WPError(Exception):
    """A WordPress REST error answer: {"code", "message", "data": {"status"}}."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def response(self) -> web.Response:
        body = {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.data},
        }
        return web.json_response(body, status=self.status)


@dataclass
class FakeUser:
    id: int
    login: str
    app_password: str
    role: str  # administrator, editor, author, subscriber
    display_name: str
    email: str

    @property
    def can_moderate(self) -> bool:
        return self.role in ("administrator", "editor")

    @property
    def can_edit_posts(self) -> bool:
        return self.role in ("administrator", "editor", "author", "contributor")


@dataclass
class FakePost:
    id: int
    title: str
    content: str
    slug: str
    author: int
    date_gmt: datetime
    modified_gmt: datetime
    status: str = "publish"
    comment_status: str = "open"
    excerpt: str = ""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    image: str | None = None


@dataclass
class FakeComment:
    id: int
    post: int
    parent: int
    author_name: str
    content: str
    date_gmt: datetime
    status: str = "1"  # WordPress' comment_approved: "1", "0", "spam", "trash"
    user_id: int = 0
    author_email: str = ""
    author_url: str = ""


@dataclass
class Fault:
    remaining: int
    status: int = 0
    delay: float = 0.0
    retry_after: str | None = None
    after_handling: bool = False
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, route: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or route.startswith(self.path)
        )


@dataclass(frozen=True)
class Seen:
    method: str
    route: str  # the REST route ("/wp/v2/posts") or the plain path ("/feed/")
    query: Mapping[str, str] = field(default_factory=dict)


class FakeWordPress:
    def __init__(
        self,
        *,
        utc_offset: timedelta = timedelta(hours=10),
        pretty_permalinks: bool = True,
        link_header: bool = True,
        html_api_link: bool = True,
        rest_api: bool = True,
        moderation: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.zone = timezone(utc_offset)
        self.pretty_permalinks = pretty_permalinks
        self.link_header = link_header
        self.html_api_link = html_api_link
        self.rest_api = rest_api
        self.moderation = moderation
        self.clock = clock
        self.users: dict[int, FakeUser] = {}
        self.posts: dict[int, FakePost] = {}
        self.comments: dict[int, FakeComment] = {}
        self.requests: list[Seen] = []
        self.faults: list[Fault] = []
        self.url = ""
        self._post_ids = itertools.count(1)
        self._comment_ids = itertools.count(1)
        self._user_ids = itertools.count(1)
        self.critic = self.add_user("critic", "", role="author", display_name="Mara Ellison")

    # ---- test API: content

    def add_user(
        self,
        login: str,
        app_password: str,
        *,
        role: str = "editor",
        display_name: str | None = None,
    ) -> FakeUser:
        user = FakeUser(
            next(self._user_ids),
            login,
            app_password,
            role,
            display_name or login.title(),
            f"{login}@example.com",
        )
        self.users[user.id] = user
        return user

    def add_post(
        self,
        title: str,
        content: str = "",
        *,
        date: datetime | None = None,
        modified: datetime | None = None,
        slug: str | None = None,
        author: FakeUser | None = None,
        status: str = "publish",
        comments_open: bool = True,
        excerpt: str = "",
        categories: Iterable[str] = (),
        tags: Iterable[str] = (),
        image: str | None = None,
    ) -> FakePost:
        when = _naive_utc(date or self.clock())
        post_id = next(self._post_ids)
        post = FakePost(
            id=post_id,
            title=title,
            content=content,
            slug=slug or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or str(post_id),
            author=(author or self.critic).id,
            date_gmt=when,
            modified_gmt=_naive_utc(modified) if modified else when,
            status=status,
            comment_status="open" if comments_open else "closed",
            excerpt=excerpt,
            categories=tuple(categories),
            tags=tuple(tags),
            image=image,
        )
        self.posts[post.id] = post
        return post

    def add_comment(
        self,
        post: FakePost | int,
        content: str,
        *,
        author_name: str = "Reader",
        parent: FakeComment | int = 0,
        date: datetime | None = None,
        status: str = "approved",
        user: FakeUser | None = None,
        author_email: str = "reader@example.com",
        author_url: str = "",
    ) -> FakeComment:
        comment = FakeComment(
            id=next(self._comment_ids),
            post=_id(post),
            parent=_id(parent),
            author_name=author_name,
            content=content,
            date_gmt=_naive_utc(date or self.clock()),
            status={"approved": "1", "hold": "0"}.get(status, status),
            user_id=user.id if user else 0,
            author_email=author_email,
            author_url=author_url,
        )
        self.comments[comment.id] = comment
        return comment

    def approve(self, comment: FakeComment | int) -> None:
        self.comments[_id(comment)].status = "1"

    def hold(self, comment: FakeComment | int) -> None:
        self.comments[_id(comment)].status = "0"

    def trash(self, comment: FakeComment | int) -> None:
        self.comments[_id(comment)].status = "trash"

    def spam(self, comment: FakeComment | int) -> None:
        self.comments[_id(comment)].status = "spam"

    def delete(self, comment: FakeComment | int) -> None:
        """Delete for good (WordPress' "Delete Permanently"): the id answers 404 from now on."""
        del self.comments[_id(comment)]

    def edit_comment(self, comment: FakeComment | int, content: str) -> None:
        self.comments[_id(comment)].content = content  # WordPress keeps no modified date

    def edit_post(
        self,
        post: FakePost | int,
        *,
        content: str | None = None,
        title: str | None = None,
        at: datetime | None = None,
    ) -> None:
        target = self.posts[_id(post)]
        target.content = target.content if content is None else content
        target.title = target.title if title is None else title
        target.modified_gmt = _naive_utc(at or self.clock())

    def publish(self, post: FakePost | int) -> None:
        """What WP-Cron does to a scheduled post: the status changes, `modified` does not."""
        self.posts[_id(post)].status = "publish"

    # ---- test API: faults and counters

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        retry_after: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.faults.append(
            Fault(n, status=status, retry_after=retry_after, method=method, path=path)
        )

    def delay_next(
        self,
        n: int = 1,
        seconds: float = 1.0,
        *,
        after_handling: bool = False,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Stall requests; `after_handling` stalls after the write happened (lost answers)."""
        self.faults.append(
            Fault(n, delay=seconds, after_handling=after_handling, method=method, path=path)
        )

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return sum(
            1
            for seen in self.requests
            if (method is None or seen.method == method)
            and (path is None or seen.route.startswith(path))
        )

    def reset_counts(self) -> None:
        self.requests.clear()

    @property
    def rest_root(self) -> str:
        return f"{self.url}/wp-json/" if self.pretty_permalinks else f"{self.url}/?rest_route=/"

    # ---- serving

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeWordPress]:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        self.url = str(server.make_url("")).rstrip("/")
        try:
            yield self
        finally:
            await server.close()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = self._rest_route(request) or request.path
        self.requests.append(Seen(request.method, route, dict(request.query)))
        fault = next(
            (f for f in self.faults if f.remaining and f.matches(request.method, route)), None
        )
        if fault:
            fault.remaining -= 1
        if fault and not fault.after_handling:
            await asyncio.sleep(fault.delay)
            if fault.status:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return web.Response(
                    status=fault.status,
                    text="<h1>Server error</h1>",
                    content_type="text/html",
                    headers=headers,
                )
        response = await handler(request)
        if fault and fault.after_handling:
            await asyncio.sleep(fault.delay)
        return response

    def _rest_route(self, request: web.Request) -> str | None:
        if "rest_route" in request.query and request.path == "/":
            return "/" + request.query["rest_route"].strip("/")
        if self.pretty_permalinks and request.path.startswith("/wp-json"):
            return "/" + request.path.removeprefix("/wp-json").strip("/")
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        route = self._rest_route(request) if self.rest_api else None
        if route is not None:
            try:
                return await self._rest(request, route)
            except WPError as error:
                return error.response()
        if request.path == "/feed/":
            return self._feed(request)
        if request.path == "/":
            return self._home()
        return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")

    async def _rest(self, request: web.Request, route: str) -> web.StreamResponse:
        user = self._authenticate(request)
        query = request.query
        method = request.method
        if route == "/" and method == "GET":
            return web.json_response({"name": "Fake blog", "namespaces": ["oembed/1.0", "wp/v2"]})
        if route == "/wp/v2/posts" and method == "GET":
            return self._list_posts(request)
        if (m := re.fullmatch(r"/wp/v2/posts/(\d+)", route)) and method == "GET":
            return web.json_response(self._post_json(self._post(int(m[1]), user), query))
        if route == "/wp/v2/comments" and method == "GET":
            return self._list_comments(request, user)
        if route == "/wp/v2/comments" and method == "POST":
            return await self._create_comment(request, user)
        if m := re.fullmatch(r"/wp/v2/comments/(\d+)", route):
            return await self._comment_item(request, int(m[1]), user)
        if route == "/wp/v2/users/me" and method == "GET":
            return self._me(query, user)
        raise WPError(404, "rest_no_route", "No route was found matching the URL and method.")

    def _authenticate(self, request: web.Request) -> FakeUser | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        login, _, password = base64.b64decode(header[6:]).decode().partition(":")
        # A wrong Application Password does not fail the request: it runs as anonymous.
        return next(
            (
                u
                for u in self.users.values()
                if u.login == login
                and u.app_password
                and u.app_password.replace(" ", "") == password.replace(" ", "")
            ),
            None,
        )

    # ---- posts

    def _post(self, post_id: int, user: FakeUser | None) -> FakePost:
        post = self.posts.get(post_id)
        if post is None:
            raise WPError(404, "rest_post_invalid_id", "Invalid post ID.")
        if post.status != "publish" and not (user and user.can_moderate):
            raise WPError(401, "rest_forbidden", "Sorry, you are not allowed to do that.")
        return post

    def _list_posts(self, request: web.Request) -> web.Response:
        query = request.query
        posts = [p for p in self.posts.values() if p.status == "publish"]
        for param, attr, after in (
            ("after", "date_gmt", True),
            ("before", "date_gmt", False),
            ("modified_after", "modified_gmt", True),
            ("modified_before", "modified_gmt", False),
        ):
            if param in query:
                bound = self._parse_date(param, query[param])
                posts = [
                    p
                    for p in posts
                    if (getattr(p, attr) > bound if after else getattr(p, attr) < bound)
                ]
        if "include" in query:
            wanted = {int(i) for i in query["include"].split(",") if i.strip()}
            posts = [p for p in posts if p.id in wanted]
        if "slug" in query:
            posts = [p for p in posts if p.slug in query["slug"].split(",")]
        orderby = query.get("orderby", "date")
        keys = {
            "date": lambda p: (p.date_gmt, p.id),
            "modified": lambda p: (p.modified_gmt, p.id),
            "id": lambda p: p.id,
            "title": lambda p: p.title,
            "include": lambda p: p.id,
        }
        if orderby not in keys:
            raise _invalid_param("orderby")
        posts.sort(key=keys[orderby], reverse=query.get("order", "desc") == "desc")
        page, headers = _paginate(request, len(posts), "rest_post_invalid_page_number")
        return web.json_response(
            [self._post_json(p, query) for p in page_of(posts, page, query)], headers=headers
        )

    def _post_json(self, post: FakePost, query: Mapping[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": post.id,
            "date": self._local(post.date_gmt),
            "date_gmt": _iso(post.date_gmt),
            "guid": {"rendered": f"{self.url}/?p={post.id}"},
            "modified": self._local(post.modified_gmt),
            "modified_gmt": _iso(post.modified_gmt),
            "slug": post.slug,
            "status": post.status,
            "type": "post",
            "link": self._post_link(post),
            "title": {"rendered": html.escape(post.title, quote=False)},
            "content": {"rendered": autop(post.content), "protected": False},
            "excerpt": {
                "rendered": autop(post.excerpt or _auto_excerpt(post.content)),
                "protected": False,
            },
            "author": post.author,
            "featured_media": 1000 + post.id if post.image else 0,
            "comment_status": post.comment_status,
            "categories": [_term_id(c) for c in post.categories],
            "tags": [_term_id(t) for t in post.tags],
        }
        if "_embed" in query:
            data["_embedded"] = self._embedded(post, query["_embed"])
        return _only_fields(data, query)

    def _embedded(self, post: FakePost, wanted: str) -> dict[str, Any]:
        author = self.users[post.author]
        embedded: dict[str, Any] = {
            "author": [{"id": author.id, "name": author.display_name, "slug": author.login}],
            "wp:term": [
                [
                    {"id": _term_id(c), "name": html.escape(c), "taxonomy": "category"}
                    for c in post.categories
                ],
                [
                    {"id": _term_id(t), "name": html.escape(t), "taxonomy": "post_tag"}
                    for t in post.tags
                ],
            ],
        }
        if post.image:
            embedded["wp:featuredmedia"] = [{"id": 1000 + post.id, "source_url": post.image}]
        rels = set(wanted.split(",")) if wanted not in ("", "1", "true") else set(embedded)
        return {rel: value for rel, value in embedded.items() if rel in rels}

    def _post_link(self, post: FakePost) -> str:
        local = post.date_gmt.replace(tzinfo=UTC).astimezone(self.zone)
        if self.pretty_permalinks:
            return f"{self.url}/{local:%Y/%m}/{post.slug}/"
        return f"{self.url}/?p={post.id}"

    # ---- comments

    def _list_comments(self, request: web.Request, user: FakeUser | None) -> web.Response:
        query = request.query
        status = query.get("status", "approve")
        if status != "approve" and not (user and user.can_edit_posts):
            raise WPError(401, "rest_forbidden_param", "Query parameter not permitted: status")
        if status not in _STATUS_IN:
            raise _invalid_param("status")
        comments = [c for c in self.comments.values() if c.status in _STATUS_IN[status]]
        if "post" in query:
            posts = {int(p) for p in query["post"].split(",")}
            comments = [c for c in comments if c.post in posts]
        if "include" in query:
            wanted = {int(i) for i in query["include"].split(",")}
            comments = [c for c in comments if c.id in wanted]
        if "parent" in query:
            comments = [c for c in comments if c.parent == int(query["parent"])]
        if "search" in query:
            needle = query["search"].lower()
            comments = [
                c
                for c in comments
                if any(
                    needle in v.lower()
                    for v in (c.content, c.author_name, c.author_email, c.author_url)
                )
            ]
        keys = {
            "date_gmt": lambda c: (c.date_gmt, c.id),
            "date": lambda c: (c.date_gmt, c.id),
            "id": lambda c: c.id,
            "post": lambda c: (c.post, c.id),
            "parent": lambda c: (c.parent, c.id),
        }
        orderby = query.get("orderby", "date_gmt")
        if orderby not in keys:
            raise _invalid_param("orderby")
        comments.sort(key=keys[orderby], reverse=query.get("order", "desc") == "desc")
        page, headers = _paginate(request, len(comments), "rest_comment_invalid_page_number")
        body = [self._comment_json(c, query) for c in page_of(comments, page, query)]
        return web.json_response(body, headers=headers)

    def _comment_json(self, comment: FakeComment, query: Mapping[str, str]) -> dict[str, Any]:
        avatar = f"https://secure.gravatar.com/avatar/{_md5(comment.author_email)}"
        post = self.posts[comment.post]
        data = {
            "id": comment.id,
            "post": comment.post,
            "parent": comment.parent,
            "author": comment.user_id,
            "author_name": html.escape(comment.author_name),
            "author_url": comment.author_url,
            "date": self._local(comment.date_gmt),
            "date_gmt": _iso(comment.date_gmt),
            "content": {"rendered": autop(comment.content)},
            "link": f"{self._post_link(post)}#comment-{comment.id}",
            "status": _STATUS_OUT[comment.status],
            "type": "comment",
            "author_avatar_urls": {
                size: f"{avatar}?s={size}&d=mm&r=g" for size in ("24", "48", "96")
            },
            "meta": [],
        }
        return _only_fields(data, query)

    def _visible_comment(self, comment_id: int, user: FakeUser | None) -> FakeComment:
        comment = self.comments.get(comment_id)
        if comment is None:
            raise WPError(404, "rest_comment_invalid_id", "Invalid comment ID.")
        if comment.status != "1" and not (user and user.can_moderate):
            raise WPError(
                401 if user is None else 403,
                "rest_cannot_read",
                "Sorry, you are not allowed to read this comment.",
            )
        return comment

    async def _comment_item(
        self, request: web.Request, comment_id: int, user: FakeUser | None
    ) -> web.Response:
        if request.method == "GET":
            comment = self._visible_comment(comment_id, user)
            return web.json_response(self._comment_json(comment, request.query))
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            raise WPError(404, "rest_no_route", "No route was found matching the URL and method.")
        comment = self.comments.get(comment_id)
        if comment is None:
            raise WPError(404, "rest_comment_invalid_id", "Invalid comment ID.")
        self._check_can_edit(comment, user, request.method)
        if request.method == "DELETE":
            if comment.status == "trash":
                raise WPError(410, "rest_already_trashed", "The comment has already been trashed.")
            comment.status = "trash"
        else:
            body = await _body(request)
            if "content" in body:
                comment.content = self._kses(str(body["content"]), user)
        return web.json_response(self._comment_json(comment, {}))

    def _check_can_edit(self, comment: FakeComment, user: FakeUser | None, method: str) -> None:
        # edit_comment maps to edit_post of the comment's post: Authors only on their own posts.
        allowed = user is not None and (
            user.can_moderate
            or (user.role == "author" and self.posts[comment.post].author == user.id)
        )
        if not allowed:
            code = "rest_cannot_delete" if method == "DELETE" else "rest_cannot_edit"
            raise WPError(
                401 if user is None else 403,
                code,
                "Sorry, you are not allowed to edit this comment.",
            )

    async def _create_comment(self, request: web.Request, user: FakeUser | None) -> web.Response:
        body = await _body(request)
        if user is None:
            raise WPError(
                401, "rest_comment_login_required", "Sorry, you must be logged in to comment."
            )
        if "author" in body and int(body["author"]) != user.id and not user.can_moderate:
            raise WPError(
                403,
                "rest_comment_invalid_author",
                "Sorry, you are not allowed to edit 'author' for comments.",
            )
        post = self.posts.get(int(body.get("post", 0)))
        if post is None:
            raise WPError(
                403,
                "rest_comment_invalid_post_id",
                "Sorry, you are not allowed to create this comment without a post.",
            )
        if post.status != "publish":
            raise WPError(
                403,
                "rest_comment_draft_post",
                "Sorry, you are not allowed to create a comment on this post.",
            )
        if post.comment_status != "open":
            raise WPError(403, "rest_comment_closed", "Sorry, comments are closed for this item.")
        content = self._kses(str(body.get("content", "")), user)
        if not content.strip():
            raise WPError(400, "rest_comment_content_invalid", "Invalid comment content.")
        if "status" in body and not user.can_moderate:
            raise WPError(
                403,
                "rest_comment_invalid_status",
                "Sorry, you are not allowed to edit 'status' for comments.",
            )
        comment = self._new_comment(body, user, post, content)
        self._check_allowed(comment, user)
        comment.status = self._approval(comment, user, post)
        if "status" in body:  # handle_status_param: a moderator may hold or approve at once
            comment.status = {"hold": "0", "0": "0", "approve": "1", "1": "1"}[str(body["status"])]
        self.comments[comment.id] = comment
        return web.json_response(self._comment_json(comment, {}), status=201)

    def _new_comment(
        self, body: Mapping[str, Any], user: FakeUser, post: FakePost, content: str
    ) -> FakeComment:
        author = self.users.get(int(body["author"])) if "author" in body else None
        if author is None and not any(
            k in body for k in ("author_name", "author_email", "author_url")
        ):
            author = user  # a logged-in user with no author fields comments as themselves
        name = body.get("author_name", author.display_name if author else "")
        email = body.get("author_email", author.email if author else "")
        if not name or not email:  # require_name_email is on by default
            raise WPError(
                400,
                "rest_comment_author_data_required",
                "Creating a comment requires valid author name and email values.",
            )
        return FakeComment(
            id=next(self._comment_ids),
            post=post.id,
            parent=int(body.get("parent", 0)),
            author_name=str(name),
            content=content,
            date_gmt=_naive_utc(self.clock()),
            user_id=author.id if author else 0,
            author_email=str(email),
            author_url=str(body.get("author_url", "")),
        )

    def _check_allowed(self, comment: FakeComment, user: FakeUser) -> None:
        for other in self.comments.values():
            if (
                (other.post, other.parent, other.content)
                == (comment.post, comment.parent, comment.content)
                and other.status != "trash"
                and (
                    other.author_name == comment.author_name
                    or other.author_email == comment.author_email
                )
            ):
                raise WPError(
                    409,
                    "comment_duplicate",
                    "Duplicate comment detected; it looks as though you’ve already said that!",
                )
        if user.can_moderate:
            return  # moderators are never throttled
        recent = comment.date_gmt - timedelta(seconds=FLOOD_SECONDS)
        if any(c.user_id == user.id and c.date_gmt > recent for c in self.comments.values()):
            raise WPError(400, "comment_flood", "You are posting comments too quickly. Slow down.")

    def _approval(self, comment: FakeComment, user: FakeUser, post: FakePost) -> str:
        if comment.user_id and (user.can_moderate or post.author == user.id):
            return "1"  # "the author and the admins get respect"
        if self.moderation:
            return "0"
        known = any(
            c.status == "1"
            and c.author_name == comment.author_name
            and c.author_email == comment.author_email
            for c in self.comments.values()
        )
        return "1" if known else "0"  # comment_previously_approved is on by default

    def _kses(self, content: str, user: FakeUser | None) -> str:
        if user and user.can_moderate:
            return content  # unfiltered_html
        return re.sub(r"<script\b.*?</script>", "", content, flags=re.S | re.I)

    def _me(self, query: Mapping[str, str], user: FakeUser | None) -> web.Response:
        if user is None:
            raise WPError(401, "rest_not_logged_in", "You are not currently logged in.")
        data: dict[str, Any] = {"id": user.id, "name": user.display_name, "slug": user.login}
        if query.get("context") == "edit":
            data["roles"] = [user.role]
            data["capabilities"] = {
                "moderate_comments": user.can_moderate,
                "edit_posts": user.can_edit_posts,
                user.role: True,
            }
        return web.json_response(_only_fields(data, query))

    # ---- helpers

    def _parse_date(self, param: str, value: str) -> datetime:
        match = _RFC3339.match(value)
        if not match:
            raise _invalid_param(param, f"{param} is not a valid date.")
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace(" ", "T"))
        if match["zone"] is None:
            parsed = parsed.replace(tzinfo=self.zone)  # no offset: site-local time
        return _naive_utc(parsed)

    def _local(self, gmt: datetime) -> str:
        return _iso(gmt.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None))

    def _home(self) -> web.Response:
        headers = {}
        api_link = ""
        if self.rest_api:
            if self.html_api_link:
                api_link = f'<link rel="https://api.w.org/" href="{self.rest_root}" />'
            if self.link_header:
                headers["Link"] = f'<{self.rest_root}>; rel="https://api.w.org/"'
        page = (
            f"<!doctype html><html><head><title>Fake blog</title>{api_link}"
            f'<link rel="alternate" type="application/rss+xml" title="Feed" '
            f'href="{self.url}/feed/" /></head><body><h1>Fake blog</h1></body></html>'
        )
        return web.Response(text=page, content_type="text/html", headers=headers)

    def _feed(self, request: web.Request) -> web.Response:
        posts = sorted(
            (p for p in self.posts.values() if p.status == "publish"),
            key=lambda p: p.date_gmt,
            reverse=True,
        )[:10]
        body = self._rss(posts).encode()
        etag = f'"{hashlib.md5(body).hexdigest()}"'
        newest = max((p.modified_gmt for p in posts), default=datetime(2000, 1, 1))
        last_modified = format_datetime(newest.replace(tzinfo=UTC), usegmt=True)
        headers = {"ETag": etag, "Last-Modified": last_modified}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=body, headers=headers, content_type="application/rss+xml", charset="utf-8"
        )

    def _rss(self, posts: list[FakePost]) -> str:
        items = "".join(
            f"<item><title>{html.escape(p.title)}</title><link>{self._post_link(p)}</link>"
            f"<dc:creator><![CDATA[{self.users[p.author].display_name}]]></dc:creator>"
            f"<pubDate>{format_datetime(p.date_gmt.replace(tzinfo=UTC), usegmt=True)}</pubDate>"
            + "".join(f"<category><![CDATA[{c}]]></category>" for c in (*p.categories, *p.tags))
            + f'<guid isPermaLink="false">{self.url}/?p={p.id}</guid>'
            f"<description><![CDATA[{p.excerpt or _auto_excerpt(p.content)}]]></description>"
            f"<content:encoded><![CDATA[{autop(p.content)}]]></content:encoded></item>"
            for p in posts
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Fake blog</title>'
            f"<link>{self.url}</link>{items}</channel></rss>"
        )


def autop(text: str) -> str:
    """Roughly wpautop: blank-line separated blocks become paragraphs, block HTML stays."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    block_tag = re.compile(r"^<(p|div|h\d|ul|ol|blockquote|figure|script|!--)", re.I)
    return "".join(f"{b}\n" if block_tag.match(b) else f"<p>{b}</p>\n" for b in blocks)


def _paginate(request: web.Request, total: int, invalid_page: str) -> tuple[int, dict[str, str]]:
    per_page = _int_param(request.query, "per_page", 10)
    page = _int_param(request.query, "page", 1)
    if not 1 <= per_page <= 100:
        raise _invalid_param(
            "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)"
        )
    pages = -(-total // per_page)
    if page > pages and total > 0:
        raise WPError(
            400,
            invalid_page,
            "The page number requested is larger than the number of pages available.",
        )
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    links = []
    if page > 1:
        links.append(f'<{request.url.update_query(page=page - 1)}>; rel="prev"')
    if page < pages:
        links.append(f'<{request.url.update_query(page=page + 1)}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return page, headers


def page_of(items: list[Any], page: int, query: Mapping[str, str]) -> list[Any]:
    per_page = _int_param(query, "per_page", 10)
    return items[(page - 1) * per_page : page * per_page]


def _auto_excerpt(content: str) -> str:
    words = re.sub(r"<[^>]+>", " ", content).split()
    return " ".join(words[:55]) + (" [&hellip;]" if len(words) > 55 else "")


def _only_fields(data: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    if "_fields" not in query:
        return data
    wanted = set(query["_fields"].split(","))
    return {k: v for k, v in data.items() if k in wanted}


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        raise _invalid_param(name) from None


def _invalid_param(name: str, detail: str | None = None) -> WPError:
    return WPError(
        400,
        "rest_invalid_param",
        f"Invalid parameter(s): {name}",
        params={name: detail or f"{name} is not valid."},
    )


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    return dict(await request.post())


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _id(value: Any) -> int:
    return value if isinstance(value, int) else value.id


def _term_id(name: str) -> int:
    return int(hashlib.md5(name.encode()).hexdigest()[:6], 16)


def _md5(text: str) -> str:
    return hashlib.md5(text.strip().lower().encode()).hexdigest()
