"""RFID cards: a card typed in the way it is printed matches what the charger sends."""

from __future__ import annotations

import random

import pytest

from custom_components.ocpp_hub.model.rfid import (
    Card,
    find_card,
    id_tag_forms,
    local_list_id_tag,
    local_list_id_tags,
    normalise,
    reverse_bytes,
)


def big_endian(uid: bytes) -> str:
    """A UID as byte 0 first hex (OCPP 2.0.1 guidance)."""
    return uid.hex().upper()


def little_endian(uid: bytes) -> str:
    """A UID as Wallbox sends it: last byte first."""
    return uid[::-1].hex().upper()


def random_uids(width: int, count: int = 50) -> list[bytes]:
    """Reproducible UIDs of one width, with the corner cases first."""
    rng = random.Random(width)  # noqa: S311 - test data, not secrets
    return [
        bytes(width),
        b"\xff" * width,
        bytes(range(1, width + 1)),
        *(rng.randbytes(width) for _ in range(count)),
    ]


ALL_UIDS = [uid for width in (4, 7, 10) for uid in random_uids(width)]


def test_normalise() -> None:
    """Separators people copy from apps and stickers are ignored, case too."""
    assert normalise(" 04:a1-b2.c3 ") == "04A1B2C3"
    assert normalise("04 a1\tb2\nc3") == "04A1B2C3"
    assert normalise("") == ""


@pytest.mark.parametrize(
    ("entered", "expected"),
    [
        ("04A1B2C3", {"04A1B2C3", "C3B2A104"}),
        ("04:A1:B2:C3", {"04A1B2C3", "C3B2A104"}),
        ("04 a1 b2 c3", {"04A1B2C3", "C3B2A104"}),
        ("04-A1-B2-C3-D4-E5-F6", {"04A1B2C3D4E5F6", "F6E5D4C3B2A104"}),
        ("0102030405060708090A", {"0102030405060708090A", "0A090807060504030201"}),
        ("abcdef", {"ABCDEF", "EFCDAB"}),
        ("ABC", {"ABC"}),  # not whole bytes: only as typed
        ("AA", {"AA"}),  # a palindrome has one form
    ],
)
def test_hex_forms(entered: str, expected: set[str]) -> None:
    """A hex UID matches as typed and byte-reversed, whatever the separators."""
    assert id_tag_forms(entered) == expected


@pytest.mark.parametrize("uid", ALL_UIDS, ids=lambda uid: uid.hex())
def test_any_uid_in_either_order_matches_the_card_entered_either_way(uid: bytes) -> None:
    """Whichever byte order the card was typed in and the charger reads, it matches."""
    for entered in (big_endian(uid), little_endian(uid), uid.hex(":")):
        card = Card(entered, "card")
        assert card.matches(big_endian(uid))
        assert card.matches(little_endian(uid))
        assert card.matches(big_endian(uid).lower())
        assert card.matches(little_endian(uid).lower())


@pytest.mark.parametrize(
    "uid", [uid for uid in ALL_UIDS if len(uid) in (4, 7)], ids=lambda uid: uid.hex()
)
def test_any_uid_matches_its_printed_decimal_number(uid: bytes) -> None:
    """A 4- or 7-byte UID printed as a decimal number matches its hex in both orders."""
    card = Card(str(int.from_bytes(uid, "big")), "printed")
    assert card.matches(big_endian(uid))
    assert card.matches(little_endian(uid))


def test_the_documented_example() -> None:
    """The 4-byte UID 04A1B2C3 printed as a decimal number matches both idTags."""
    printed = str(0x04A1B2C3)
    assert printed == "77705923"
    card = Card(printed, "Anna")
    assert card.matches("04A1B2C3")
    assert card.matches("C3B2A104")
    assert card.matches("c3b2a104")


@pytest.mark.parametrize(
    "value",
    [
        0,
        1,
        77705923,
        2**32 - 1,  # largest 4-byte number
        2**32,  # smallest that needs 7 bytes
        2**56 - 1,  # largest 7-byte number
    ],
)
def test_decimal_forms(value: int) -> None:
    """A decimal number is also its hex in each width it fits in, both orders."""
    forms = id_tag_forms(str(value))
    widths = [width for width in (4, 7) if value < 256**width]
    assert widths
    expected = {str(value)} if len(str(value)) % 2 else {str(value), reverse_bytes(str(value))}
    for width in widths:
        as_bytes = value.to_bytes(width, "big")
        expected |= {big_endian(as_bytes), little_endian(as_bytes)}
    assert forms == expected


def test_decimal_number_too_large_for_seven_bytes_is_only_hex() -> None:
    """A 20-digit number is read as a 10-byte hex UID: no decimal form exists."""
    entered = "12345678901234567890"
    assert int(entered) >= 2**56
    assert id_tag_forms(entered) == {entered, reverse_bytes(entered)}


def test_an_all_digit_entry_keeps_both_readings() -> None:
    """'12345678' may be hex or decimal: both kinds of idTag match."""
    card = Card("12345678", "ambiguous")
    decimal = (12345678).to_bytes(4, "big")
    assert card.matches("12345678")
    assert card.matches("78563412")
    assert card.matches(big_endian(decimal))
    assert card.matches(little_endian(decimal))


@pytest.mark.parametrize(
    "id_tag",
    [
        "04A1B2C",  # a digit short
        "04A1B2C3FF",  # a byte more
        "A1B2C304",  # rotated, not reversed
        "04A1B2C4",  # last digit off
        "40A1B2C3",  # nibbles swapped in one byte
        "3C2B1A40",  # reversed by digit instead of by byte
        "04:A1:B2:C3",  # separators are not stripped from what a charger sends
        "",
        "NoAuthorization",
    ],
)
def test_near_misses_do_not_match(id_tag: str) -> None:
    """Only the card itself unlocks the charger, not one that looks like it."""
    card = Card("04A1B2C3", "Anna")
    assert not card.matches(id_tag)


def test_decimal_near_misses_do_not_match() -> None:
    """The hex of the next number, or of a different width, is a different card."""
    card = Card("77705923", "Anna")
    assert not card.matches(f"{77705924:08X}")
    assert not card.matches(f"{77705923:012X}")  # 6 bytes is not a UID width
    assert not card.matches(f"{77705923:X}")  # unpadded 7 digits


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("", "empty"),
        ("  : - . ", "empty"),
        ("04A1B2G3", "not hex digits: G"),
        ("Anna's card", "not hex digits"),
        ("04A1B2C3!", "not hex digits: !"),
        ("0x04A1B2C3", "not hex digits: X"),
        ("AB" * 11, "too long"),
        ("1" * 21, "too long"),
    ],
)
def test_invalid_entries(entered: str, message: str) -> None:
    """Something that can never match is refused with a reason, not stored."""
    with pytest.raises(ValueError, match=message):
        id_tag_forms(entered)
    with pytest.raises(ValueError, match=message):
        Card(entered, "bad")


def test_forms_are_at_most_twenty_characters() -> None:
    """An idTag is CiString20: longer forms are dropped, shorter ones kept."""
    ten_bytes = "0102030405060708090A"
    assert all(len(form) <= 20 for form in id_tag_forms(ten_bytes))
    # 17 decimal digits fit 7 bytes: its hex forms (14) fit, the digits as hex (17) too.
    largest_seven_byte = str(2**56 - 1)
    assert len(largest_seven_byte) == 17
    assert all(len(form) <= 20 for form in id_tag_forms(largest_seven_byte))
    # 21 hex digits cannot be an idTag, but a decimal of 18-20 digits can still be hex.
    assert id_tag_forms("9" * 20) == {"9" * 20}


def test_card_is_normalised_and_serialises() -> None:
    """A stored card comes back exactly as it was saved."""
    card = Card("04:a1:b2:c3", "Anna", enabled=False)
    assert card.uid == "04A1B2C3"
    assert card.as_dict() == {"uid": "04A1B2C3", "name": "Anna", "enabled": False}
    assert Card.from_dict(card.as_dict()) == card
    assert Card.from_dict({"uid": "77705923", "name": "Ben"}) == Card("77705923", "Ben")
    assert Card("04A1B2C3", "x") == Card("04 a1 b2 c3", "x")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "no uid"},
        {"uid": 77705923, "name": "a number"},
        {"uid": "04A1B2C3", "name": None},
        {"uid": "04A1B2C3", "name": "x", "enabled": "yes"},
        {"uid": "not a card", "name": "x"},
    ],
)
def test_from_dict_refuses_bad_data(data: dict[str, object]) -> None:
    """Corrupt storage is reported, not turned into a card that matches anything."""
    with pytest.raises(ValueError, match=r"not valid|not hex digits"):
        Card.from_dict(data)


def test_find_card() -> None:
    """The first matching card is found, even a disabled one (the caller decides)."""
    anna = Card("04A1B2C3", "Anna", enabled=False)
    ben = Card("77705923", "Ben")  # the same UID, printed
    carl = Card("0102030405060708090A", "Carl")
    cards = [anna, ben, carl]
    assert find_card(cards, "C3B2A104") is anna
    assert find_card(cards[1:], "C3B2A104") is ben
    assert find_card(cards, "0a090807060504030201") is carl
    assert find_card(cards, "DEADBEEF") is None
    assert find_card([], "04A1B2C3") is None
    assert find_card(iter(cards), "04a1b2c3") is anna


@pytest.mark.parametrize(
    ("entered", "wallbox", "other"),
    [
        ("04:a1:b2:c3", "C3B2A104", "04A1B2C3"),
        ("04A1B2C3D4E5F6", "F6E5D4C3B2A104", "04A1B2C3D4E5F6"),
        ("0102030405060708090A", "0A090807060504030201", "0102030405060708090A"),
        ("ABC", "ABC", "ABC"),  # not whole bytes: cannot be reversed
        ("12345678901234567890", "90785634129078563412", "12345678901234567890"),
    ],
)
def test_local_list_id_tag_for_hex(entered: str, wallbox: str, other: str) -> None:
    """The local list holds the idTag each charger will actually read for the card."""
    card = Card(entered, "card")
    assert local_list_id_tag(card, little_endian=True) == wallbox
    assert local_list_id_tag(card, little_endian=False) == other
    assert card.matches(wallbox)
    assert card.matches(other)


@pytest.mark.parametrize("value", [0, 77705923, 2**32 - 1, 2**32, 2**56 - 1])
def test_local_list_id_tag_for_decimal(value: int) -> None:
    """A printed number goes into the local list as 4-byte hex, or 7-byte if it must."""
    width = 4 if value < 2**32 else 7
    as_bytes = value.to_bytes(width, "big")
    card = Card(str(value), "printed")
    assert local_list_id_tag(card, little_endian=True) == little_endian(as_bytes)
    assert local_list_id_tag(card, little_endian=False) == big_endian(as_bytes)


@pytest.mark.parametrize("uid", ALL_UIDS, ids=lambda uid: uid.hex())
def test_local_list_entry_is_what_the_charger_reads(uid: bytes) -> None:
    """For any UID typed in hex, the list holds the charger's own reading of it."""
    card = Card(uid.hex(":"), "card")
    wallbox = local_list_id_tags(card, little_endian=True)
    other = local_list_id_tags(card, little_endian=False)
    assert little_endian(uid) in wallbox
    assert big_endian(uid) in other
    if not card.uid.isdigit():
        assert wallbox == [little_endian(uid)]
        assert other == [big_endian(uid)]
        assert local_list_id_tag(card, little_endian=True) == little_endian(uid)
        assert local_list_id_tag(card, little_endian=False) == big_endian(uid)


def test_local_list_holds_both_readings_of_an_all_digit_entry() -> None:
    """'12345678' typed from a hex app still works offline; the decimal reading comes first."""
    card = Card("12:34:56:78", "ambiguous")
    decimal = (12345678).to_bytes(4, "big")
    assert local_list_id_tags(card, little_endian=True) == [little_endian(decimal), "78563412"]
    assert local_list_id_tags(card, little_endian=False) == [big_endian(decimal), "12345678"]
    assert local_list_id_tag(card, little_endian=True) == little_endian(decimal)
    # Zero reads the same either way: one entry, not two.
    assert local_list_id_tags(Card("00000000", "zero"), little_endian=True) == ["00000000"]
    # A zero-padded number longer than an idTag has only its decimal reading.
    assert local_list_id_tags(Card("0" * 21 + "1", "padded"), little_endian=False) == ["00000001"]


def test_reverse_bytes_needs_whole_bytes() -> None:
    """Reversing half a byte would invent a different card."""
    assert reverse_bytes("0102") == "0201"
    assert reverse_bytes("") == ""
    with pytest.raises(ValueError, match="odd"):
        reverse_bytes("012")
