"""§5 FF1 against the NIST SP 800-38G samples, and as a permutation for random inputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorcode.domain.offline.ff1 import FF1

KEY_128 = "2B7E151628AED2A6ABF7158809CF4F3C"
KEY_192 = KEY_128 + "EF4359D8D580AA4F"
KEY_256 = KEY_192 + "7F036D6F04FC6A94"
TWEAK_DIGITS = "39383736353433323130"
TWEAK_ALPHANUMERIC = "3737373770717273373737"
DIGITS = "0123456789"
ALPHANUMERIC = "0123456789abcdefghi"

# (sample, key, radix, tweak, plaintext, ciphertext), from NIST's FF1 samples.
NIST_SAMPLES = [
    (1, KEY_128, 10, "", DIGITS, "2433477484"),
    (2, KEY_128, 10, TWEAK_DIGITS, DIGITS, "6124200773"),
    (3, KEY_128, 36, TWEAK_ALPHANUMERIC, ALPHANUMERIC, "a9tv40mll9kdu509eum"),
    (4, KEY_192, 10, "", DIGITS, "2830668132"),
    (5, KEY_192, 10, TWEAK_DIGITS, DIGITS, "2496655549"),
    (6, KEY_192, 36, TWEAK_ALPHANUMERIC, ALPHANUMERIC, "xbj3kv35jrawxv32ysr"),
    (7, KEY_256, 10, "", DIGITS, "6657667009"),
    (8, KEY_256, 10, TWEAK_DIGITS, DIGITS, "1001623463"),
    (9, KEY_256, 36, TWEAK_ALPHANUMERIC, ALPHANUMERIC, "xs8a0azh2avyalyzuwd"),
]
SAMPLE_IDS = [f"sample-{sample[0]}-radix-{sample[2]}" for sample in NIST_SAMPLES]


@pytest.mark.parametrize(
    ("sample", "key", "radix", "tweak", "plaintext", "ciphertext"), NIST_SAMPLES, ids=SAMPLE_IDS
)
def test_encryption_matches_the_nist_sample(sample, key, radix, tweak, plaintext, ciphertext):
    cipher = FF1(bytes.fromhex(key), radix)
    assert cipher.encrypt(plaintext, bytes.fromhex(tweak)) == ciphertext


@pytest.mark.parametrize(
    ("sample", "key", "radix", "tweak", "plaintext", "ciphertext"), NIST_SAMPLES, ids=SAMPLE_IDS
)
def test_decryption_matches_the_nist_sample(sample, key, radix, tweak, plaintext, ciphertext):
    cipher = FF1(bytes.fromhex(key), radix)
    assert cipher.decrypt(ciphertext, bytes.fromhex(tweak)) == plaintext


def test_every_radix_ten_sample_and_key_size_is_covered():
    radix_ten = {(len(key) // 2, sample) for sample, key, radix, *_ in NIST_SAMPLES if radix == 10}
    assert radix_ten == {(16, 1), (16, 2), (24, 4), (24, 5), (32, 7), (32, 8)}


keys = st.sampled_from([16, 24, 32]).flatmap(lambda size: st.binary(min_size=size, max_size=size))
tweaks = st.binary(max_size=64)


@given(key=keys, tweak=tweaks, numerals=st.text(alphabet=DIGITS, min_size=6, max_size=56))
def test_decryption_undoes_encryption_for_any_decimal_input(key, tweak, numerals):
    cipher = FF1(key)
    ciphertext = cipher.encrypt(numerals, tweak)
    assert len(ciphertext) == len(numerals)
    assert ciphertext.isdigit()
    assert cipher.decrypt(ciphertext, tweak) == numerals


@given(key=keys, tweak=tweaks, length=st.integers(8, 12), data=st.data())
def test_number_interface_agrees_with_the_string_interface(key, tweak, length, data):
    value = data.draw(st.integers(0, 10**length - 1))
    cipher = FF1(key)
    encrypted = cipher.encrypt_number(value, length, tweak)
    assert f"{encrypted:0{length}d}" == cipher.encrypt(f"{value:0{length}d}", tweak)
    assert cipher.decrypt_number(encrypted, length, tweak) == value


@given(
    key=keys,
    tweak=tweaks,
    radix=st.integers(2, 36),
    data=st.data(),
)
def test_decryption_undoes_encryption_for_any_radix(key, tweak, radix, data):
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"[:radix]
    shortest = next(n for n in range(2, 64) if radix**n >= 1_000_000)
    longest = next(n for n in range(64, 1, -1) if radix ** (n - n // 2) < 2**96)
    numerals = data.draw(st.text(alphabet=alphabet, min_size=shortest, max_size=longest))
    cipher = FF1(key, radix)
    assert cipher.decrypt(cipher.encrypt(numerals, tweak), tweak) == numerals


def test_different_tweaks_give_different_ciphertexts():
    cipher = FF1(bytes(32))
    assert cipher.encrypt("0123456789", b"group-a") != cipher.encrypt("0123456789", b"group-b")


def test_the_schedule_cache_stays_correct_past_its_size():
    cipher = FF1(bytes.fromhex(KEY_256))
    for n in range(100):
        cipher.encrypt("0123456789", n.to_bytes(2, "big"))
    assert cipher.encrypt("0123456789", bytes.fromhex(TWEAK_DIGITS)) == "1001623463"


@pytest.mark.parametrize("numerals", ["", "01234 6789", "+123456789", "1_23456789", "١٢٣٤٥٦٧٨٩٠"])
def test_anything_but_numerals_of_the_radix_is_refused(numerals):
    with pytest.raises(ValueError, match="numerals"):
        FF1(bytes(16)).encrypt(numerals)


def test_domains_below_a_million_are_refused():
    with pytest.raises(ValueError, match="million"):
        FF1(bytes(16)).encrypt("12345")


def test_halves_longer_than_one_aes_block_are_refused():
    with pytest.raises(ValueError, match="12 bytes"):
        FF1(bytes(16)).encrypt("1" * 58)


def test_numbers_longer_than_the_length_are_refused():
    with pytest.raises(ValueError, match="numerals"):
        FF1(bytes(16)).encrypt_number(10**10, 10)


@pytest.mark.parametrize("size", [0, 15, 33])
def test_keys_that_are_not_aes_keys_are_refused(size):
    with pytest.raises(ValueError, match="AES key"):
        FF1(bytes(size))


def test_the_key_never_shows_in_repr():
    key = bytes.fromhex(KEY_256)
    assert KEY_256.lower() not in repr(FF1(key)).lower()
    assert "masked" in repr(FF1(key))
