import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monkeysim import texts
from monkeysim.alphabet import NAMED_ALPHABETS, Alphabet, default_for, named, resolve
from monkeysim.errors import InvalidInput


def test_named_alphabets():
    assert named("upper27").size == 27 and named("upper27").symbols.endswith(" ")
    assert named("lower27").symbols[:3] == "abc"
    tw = named("typewriter")
    assert "\n" in tw and "~" in tw and " " in tw and tw.size == 96


@given(st.text(alphabet=NAMED_ALPHABETS["typewriter"], min_size=1, max_size=50))
def test_encode_decode_roundtrip(text):
    alpha = default_for(text)
    codes = alpha.encode(text)
    assert codes.dtype == np.uint8 and codes.shape == (len(text),)
    assert alpha.decode(codes) == text


def test_default_is_smallest_named():
    assert default_for("METHINKS").name == "upper27"
    assert default_for("to be").name == "lower27"
    assert default_for("To be, or").name == "typewriter"


@pytest.mark.parametrize("symbols, fragment", [
    ("", "empty"), ("ABA", "duplicate"), ("".join(chr(i) for i in range(300)), "at most 255"),
])
def test_bad_alphabets(symbols, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        Alphabet(symbols)


def test_missing_characters_named_with_suggestion():
    with pytest.raises(InvalidInput, match=r"'abc'.*upper27.*lower27"):
        resolve("abc", "upper27")
    with pytest.raises(InvalidInput, match="no named alphabet"):
        default_for("é")


def test_unknown_alphabet_and_text():
    with pytest.raises(InvalidInput, match="choose from"):
        named("greek")
    with pytest.raises(InvalidInput, match="weasel"):
        texts.get("nope")


def test_builtins_present():
    assert texts.get("weasel") == "METHINKS IT IS LIKE A WEASEL"
    assert texts.get("hamlet") == "To be, or not to be, that is the question"
    assert texts.get("antarctica") == "Antarctica is governed by an international treaty"
    assert texts.get("sonnet18").startswith("Shall I compare thee to a summer's day?")
