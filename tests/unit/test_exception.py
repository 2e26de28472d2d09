"""The exception tree renders one-line messages from msg_fmt."""

from acaas_nova import exception


def test_msg_fmt_is_filled_from_kwargs():
    err = exception.NotFound(kind="Domain", name="d1")
    assert str(err) == "Domain d1 not found"
    assert err.exit_code == 2


def test_explicit_message_wins():
    assert str(exception.Invalid("plain words")) == "plain words"


def test_bad_template_arguments_do_not_hide_the_error():
    err = exception.NotFound(kind="Domain")  # name missing
    assert str(err) == exception.NotFound.msg_fmt


def test_tree_is_shallow():
    for cls in (
        exception.Invalid,
        exception.NotFound,
        exception.Duplicate,
        exception.Conflict,
        exception.DBError,
        exception.ConfigError,
        exception.AttestationError,
    ):
        assert cls.__mro__[1] is exception.ACaaSException
    assert exception.InvalidRequirement.__mro__[1] is exception.Invalid


def test_failure_exit_code_defaults_to_one():
    assert exception.DBError(reason="x").exit_code == 1
