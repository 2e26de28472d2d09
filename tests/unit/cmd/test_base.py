"""Argument helpers shared by the command classes."""

import argparse

import pytest

from acaas_nova import exception
from acaas_nova.cmd import base


def test_parse_pairs():
    assert base.parse_pairs(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    assert base.parse_pairs([]) == {}
    assert base.parse_pairs(None) == {}


@pytest.mark.parametrize("item", ["a", "=1", "a=", " = ", ""])
def test_parse_pairs_malformed(item):
    with pytest.raises(exception.Invalid) as info:
        base.parse_pairs(["ok=1", item])
    assert "malformed key=value %r" % item in str(info.value)
    assert info.value.exit_code == 2


def test_parse_pairs_repeated_key():
    with pytest.raises(exception.Invalid, match="a given twice"):
        base.parse_pairs(["a=1", "a=2"])


def test_integer():
    assert base.integer("-3") == -3
    with pytest.raises(argparse.ArgumentTypeError, match="'x' is not"):
        base.integer("x")


def test_split_host():
    assert base.split_host("c1") == ("c1", None)
    assert base.split_host("c1:hv") == ("c1", "hv")
    with pytest.raises(exception.Invalid):
        base.split_host("c1:")
