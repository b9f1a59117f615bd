"""Planning a thread against the blog: a pure diff from two snapshots, without I/O."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blog.models import BlogComment, thread_order
from bot.domain.replies import FROM_DISCORD
from bot.sync.planner import Mirrored, Plan, apply_plan, plan_thread, render_key

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def comment(
    n: int,
    *,
    parent: int | None = None,
    text: str = "",
    author: str = "Ada",
    minute: int | None = None,
) -> BlogComment:
    return BlogComment(
        id=str(n),
        review_id="7",
        parent_id=str(parent) if parent else None,
        author=author,
        published=T0 + timedelta(minutes=n if minute is None else minute),
        content_html=f"<p>{text or f'comment {n}'}</p>",
        link=f"https://blog.example/2024/05/her/#comment-{n}",
    )


def mirror(comments: list[BlogComment]) -> dict[str, Mirrored]:
    """The mapping after a thread has shown these comments."""
    return apply_plan(plan_thread(comments, {}), {})


def ids(changes) -> list[str]:
    return [c.comment.id for c in changes]


def test_new_comments_are_created_in_blog_order_with_parents_before_replies():
    blog = thread_order([comment(1), comment(2), comment(3, parent=1)])
    plan = plan_thread(blog, {})
    assert ids(plan.creates) == ["1", "3", "2"]
    assert [c.position for c in plan.creates] == [0, 1, 2]
    assert plan.backfill and not plan.updates and not plan.removes


def test_an_edited_comment_is_updated_and_the_others_left_alone():
    before = [comment(1), comment(2)]
    after = [comment(1), comment(2, text="edited")]
    plan = plan_thread(after, mirror(before))
    assert ids(plan.updates) == ["2"]
    assert not plan.creates and not plan.removes and not plan.backfill


def test_a_trashed_spammed_or_unapproved_comment_is_removed():
    plan = plan_thread([comment(1)], mirror([comment(1), comment(2)]))
    assert plan.removes == ("2",)
    assert not plan.creates and not plan.updates


def test_a_members_comment_gone_from_the_blog_is_noted_not_removed():
    shown = mirror([comment(1)]) | {"2": Mirrored(FROM_DISCORD, T0)}
    plan = plan_thread([comment(1)], shown)
    assert plan.members_gone == ("2",) and plan.removes == ()  # its message is the member's
    assert plan.is_empty  # nothing to do in the thread


def test_a_comment_approved_late_is_created_and_marked_late():
    shown = mirror([comment(1), comment(3)])
    plan = plan_thread(thread_order([comment(1), comment(2), comment(3)]), shown)
    assert ids(plan.creates) == ["2"]
    assert plan.creates[0].late


def test_a_new_comment_is_not_late():
    plan = plan_thread([comment(1), comment(2)], mirror([comment(1)]))
    assert [c.late for c in plan.creates] == [False]


def test_a_deleted_parent_leaves_its_replies_and_updates_their_quote():
    shown = mirror(thread_order([comment(1), comment(2, parent=1)]))
    plan = plan_thread([comment(2, parent=1)], shown)
    assert plan.removes == ("1",)
    assert ids(plan.updates) == ["2"]  # "in reply to a comment not shown here"


def test_a_parent_approved_after_its_reply_updates_the_reply():
    shown = mirror([comment(2, parent=1)])  # parent held: the reply shows alone
    plan = plan_thread(thread_order([comment(1), comment(2, parent=1)]), shown)
    assert ids(plan.creates) == ["1"]
    assert ids(plan.updates) == ["2"]  # now quotes its parent, with a jump link


def test_editing_a_parent_updates_its_replies_quote():
    shown = mirror(thread_order([comment(1), comment(2, parent=1)]))
    plan = plan_thread(thread_order([comment(1, text="new"), comment(2, parent=1)]), shown)
    assert sorted(ids(plan.updates)) == ["1", "2"]


def test_only_long_backfills_are_packed():
    many = [comment(n) for n in range(1, 22)]
    assert plan_thread(many, {}).packed
    assert not plan_thread(many[:20], {}).packed
    assert not plan_thread(many, {}, pack_threshold=30).packed


def test_live_traffic_is_never_packed_even_in_bulk():
    shown = mirror([comment(1)])
    plan = plan_thread([comment(n) for n in range(1, 40)], shown)
    assert len(plan.creates) == 38 and not plan.packed


def test_a_comment_listed_twice_counts_once():
    plan = plan_thread([comment(1), comment(2), comment(1)], {})
    assert ids(plan.creates) == ["1", "2"]


def test_render_key_covers_what_the_message_shows():
    base = comment(2, parent=1)
    parent = comment(1)
    key = render_key(base, parent)
    assert render_key(comment(2, parent=1, author="Bo"), parent) != key
    assert render_key(comment(2, parent=1, text="x"), parent) != key
    assert render_key(base, None) != key
    assert render_key(base, comment(1, text="edited")) != key
    assert render_key(comment(2, parent=1), comment(1)) == key


# --- properties ------------------------------------------------------------------------------


@st.composite
def snapshots(draw) -> list[BlogComment]:
    """An approved-comment list: ids from a small pool, parents anywhere (even missing)."""
    chosen = draw(st.sets(st.integers(1, 12), max_size=12))
    comments = [
        comment(
            n,
            parent=draw(st.one_of(st.none(), st.integers(1, 12).filter(lambda p, n=n: p != n))),
            text=draw(st.sampled_from(["a", "b", "c"])),
            author=draw(st.sampled_from(["Ada", "Bo"])),
        )
        for n in sorted(chosen)
    ]
    return thread_order(comments)


def expected_keys(blog: list[BlogComment]) -> dict[str, str]:
    by_id = {c.id: c for c in blog}
    return {c.id: render_key(c, by_id.get(c.parent_id or "")) for c in blog}


@settings(max_examples=150, deadline=None)
@given(st.lists(snapshots(), min_size=1, max_size=5))
def test_applying_plans_always_converges_to_the_blog(history):
    shown: dict[str, Mirrored] = {}
    for blog in history:
        shown = apply_plan(plan_thread(blog, shown), shown)
        assert {k: v.render_key for k, v in shown.items()} == expected_keys(blog)


@settings(max_examples=150, deadline=None)
@given(snapshots(), snapshots())
def test_planning_again_after_applying_yields_nothing(first, second):
    shown = apply_plan(plan_thread(first, {}), {})
    shown = apply_plan(plan_thread(second, shown), shown)
    assert plan_thread(second, shown) == Plan(backfill=not shown)


@settings(max_examples=100, deadline=None)
@given(snapshots(), snapshots())
def test_plans_touch_each_comment_at_most_once_and_creates_keep_blog_order(first, second):
    shown = apply_plan(plan_thread(first, {}), {})
    plan = plan_thread(second, shown)
    touched = [*ids(plan.creates), *ids(plan.updates), *plan.removes]
    assert len(touched) == len(set(touched))
    positions = [c.position for c in plan.creates]
    assert positions == sorted(positions)
