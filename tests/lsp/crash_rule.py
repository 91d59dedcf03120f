"""A rule that always raises: loaded into the server by the crash test through FERROLENS_EXTRA_RULES."""

from ferrolens.analyzers.registry import Rule


def check(ctx, item):
    if item.type == "function_item":
        raise RuntimeError("boom from the test rule")
    return ()


RULE = Rule(name="crash_test", group="test", summary="always fails", docs="For tests only.", check=check)
