"""A synthetic reader population with known duplicates, for the duplicates benchmark.

People live in households: one or two adults and their children. Children carry the
first adult's family name, siblings often share a generation character (张伟明,
张伟华), some are twins, and many children (and some couples) are registered with
one family mobile. Family names follow the national frequencies (王, 李 and 张 about
7% each), given-name characters a Zipf law, so common names such as 王伟 recur.

Some people registered more than once, at other libraries; a further registration
varies the first the way real ones do: a first-generation 15-digit ID card, no ID
at all, the name in traditional characters, a homophone or a wrong character,
family and given name swapped, a character dropped, a birth-date field mistyped or
day and month transposed, no sex, a new mobile or none.

Hard cases for the model are built in: namesakes, twins sharing surname, birth date
and phone, a child registered with a parent's resident-ID number, a placeholder
birth date (1900-01-01) on some imported rows, and front-desk phones typed in for
readers who gave none. Every registration carries the id of its person: the ground
truth. Deterministic for a seed. Synthetic, never a real person (see idp.synthetic).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from idp.duplicates.features import PLACEHOLDER_BIRTH_DATES, pinyin_of
from idp.identity.resident_id import check_digit
from idp.synthetic import GIVEN_NAME_CHARACTERS, MOBILE_PREFIXES, REGION_CODES, SURNAMES

TODAY = dt.date(2026, 1, 15)
LIBRARIES = 20
PLACEHOLDER = min(PLACEHOLDER_BIRTH_DATES)

#: Shares (percent) of the ten most frequent family names, Ministry of Public
#: Security name report 2019; the rest fall off as 1/rank.
_TOP_SURNAMES = {"王": 7.25, "李": 7.19, "张": 6.79, "刘": 5.14, "陈": 4.53, "杨": 3.34,
                 "黄": 2.39, "赵": 2.04, "吴": 1.99, "周": 1.91}


@dataclass(frozen=True, slots=True)
class Registration:
    person: int
    library: int
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str | None
    resident_id: str | None  # as typed: 18 characters, or 15 for a first-generation card
    mobile: str | None  # E.164
    variant: str  # "first", or how this further registration differs


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    family: str
    given: str
    birth_date: dt.date
    sex: str
    resident_id: str  # 18 characters
    mobile: str | None
    guardian_id: str | None  # an adult's resident ID a child may be registered with


def _surname_weights() -> tuple[list[str], list[float]]:
    names = list(SURNAMES)
    weights = []
    for rank, name in enumerate(names, start=1):
        if name in _TOP_SURNAMES:
            weights.append(_TOP_SURNAMES[name])
        elif len(name) > 1:
            weights.append(0.02)  # compound family names are rare
        else:
            weights.append(17.4 / rank)
    return names, weights


def _homophones() -> dict[str, list[str]]:
    by_sound: dict[str, list[str]] = {}
    for char in GIVEN_NAME_CHARACTERS:
        by_sound.setdefault(pinyin_of(char)[0], []).append(char)
    return {c: [o for o in group if o != c] for group in by_sound.values() for c in group
            if len(group) > 1}


class PopulationGenerator:
    """Registrations of synthetic people; ``duplicate_share`` of the people have
    one or more further registrations."""

    def __init__(self, seed: int = 1, *, duplicate_share: float = 0.12):
        self.rng = random.Random(seed)
        self.duplicate_share = duplicate_share
        self._surnames, self._surname_weights = _surname_weights()
        self._given = list(GIVEN_NAME_CHARACTERS)
        self._given_weights = [1.0 / rank ** 0.75 for rank in range(1, len(self._given) + 1)]
        self._homophones = _homophones()
        self._ids: set[str] = set()
        self._mobiles: set[str] = set()
        self._desk = [self._fresh_mobile() for _ in range(5)]
        self._person = 0

    # -- values ---------------------------------------------------------------------
    def _surname(self) -> str:
        return self.rng.choices(self._surnames, self._surname_weights)[0]

    def _given_name(self) -> str:
        size = 1 if self.rng.random() < 0.3 else 2
        return "".join(self.rng.choices(self._given, self._given_weights, k=size))

    def _birth(self, youngest: int, oldest: int) -> dt.date:
        first = dt.date(TODAY.year - oldest, 1, 1).toordinal()
        last = dt.date(TODAY.year - youngest, 1, 1).toordinal()
        return dt.date.fromordinal(self.rng.randint(first, last))

    def _resident_id(self, born: dt.date, sex: str) -> str:
        while True:
            sequence = f"{self.rng.randrange(100):02d}{2 * self.rng.randrange(5) + (sex == 'M')}"
            first17 = self.rng.choice(REGION_CODES) + born.strftime("%Y%m%d") + sequence
            number = first17 + check_digit(first17)
            if number not in self._ids:
                self._ids.add(number)
                return number

    def _fresh_mobile(self) -> str:
        while True:
            number = "+86" + self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._mobiles:
                self._mobiles.add(number)
                return number

    def _person_of(self, family: str, given: str, born: dt.date, sex: str,
                   mobile: str | None, guardian_id: str | None = None) -> Person:
        self._person += 1
        return Person(self._person, family, given, born, sex, self._resident_id(born, sex),
                      mobile, guardian_id)

    # -- households -----------------------------------------------------------------
    def household(self) -> list[Person]:
        rng = self.rng
        sex = rng.choice("FM")
        adult = self._person_of(self._surname(), self._given_name(), self._birth(22, 88), sex,
                                self._fresh_mobile() if rng.random() < 0.95 else None)
        people = [adult]
        if rng.random() < 0.5:
            shift = dt.timedelta(days=rng.randint(-1800, 1800))
            shared = rng.random() < 0.1
            people.append(self._person_of(
                self._surname(), self._given_name(), adult.birth_date + shift,
                "F" if sex == "M" else "M", adult.mobile if shared else self._fresh_mobile()))
        children = rng.choice((0, 0, 1, 1, 2, 3))
        generation = rng.choice(self._given) if rng.random() < 0.4 else None
        twins = children >= 2 and rng.random() < 0.05
        born = None
        for n in range(children):
            if born is None or not (twins and n == 1):
                born = adult.birth_date + dt.timedelta(days=rng.randint(20 * 365, 40 * 365))
            if born > TODAY - dt.timedelta(days=3 * 365):
                continue
            given = generation + rng.choice(self._given) if generation else self._given_name()
            age = (TODAY - born).days // 365
            own = age >= 14 and rng.random() < 0.5
            phone = self._fresh_mobile() if own else adult.mobile
            people.append(self._person_of(adult.family, given, born, rng.choice("FM"), phone,
                                          adult.resident_id))
        return people

    # -- registrations --------------------------------------------------------------
    def first(self, person: Person, library: int) -> Registration:
        rng = self.rng
        resident_id: str | None = person.resident_id if rng.random() < 0.85 else None
        if person.guardian_id and rng.random() < 0.01:
            resident_id = person.guardian_id
        return Registration(
            person.id, library, person.family, person.given, self._imported(person.birth_date),
            person.sex if rng.random() < 0.97 else None, resident_id,
            self._desk_or(person.mobile, library), "first")

    def again(self, person: Person, library: int) -> Registration:
        rng = self.rng
        family, given, variant = self._vary_name(person.family, person.given)
        born = person.birth_date
        roll = rng.random()
        if roll < 0.05:
            born, variant = self._one_field_off(born), variant + "+date"
        elif roll < 0.08 and born.day <= 12 and born.day != born.month:
            born, variant = born.replace(month=born.day, day=born.month), variant + "+transposed"
        roll = rng.random()
        resident_id: str | None = person.resident_id
        if roll < 0.35:
            resident_id, variant = None, variant + "+no-id"
        elif roll < 0.5 and born.year < 2000:
            resident_id = person.resident_id[:6] + person.resident_id[8:17]
            variant += "+15-digit"
        if person.guardian_id and rng.random() < 0.02:
            resident_id, variant = person.guardian_id, variant + "+guardian-id"
        roll = rng.random()
        mobile = person.mobile
        if roll < 0.3:
            mobile, variant = self._fresh_mobile(), variant + "+new-mobile"
        elif roll < 0.45:
            mobile, variant = None, variant + "+no-mobile"
        roll = rng.random()
        sex: str | None = person.sex
        if roll < 0.08:
            sex = None
        elif roll < 0.1:
            sex = "F" if person.sex == "M" else "M"
        return Registration(person.id, library, family, given, self._imported(born), sex,
                            resident_id, self._desk_or(mobile, library), variant)

    def _imported(self, born: dt.date) -> dt.date:
        # Some library systems held no birth date and an import filled in a placeholder.
        return PLACEHOLDER if self.rng.random() < 0.003 else born

    def _desk_or(self, mobile: str | None, library: int) -> str | None:
        if library < len(self._desk) and self.rng.random() < 0.005:
            return self._desk[library]  # the front desk's phone, typed for a walk-in
        return mobile

    def _vary_name(self, family: str, given: str) -> tuple[str, str, str]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.62:
            return family, given, "same-name"
        if roll < 0.74:
            return (SURNAMES[family],
                    "".join(GIVEN_NAME_CHARACTERS[c] for c in given), "traditional")
        position = rng.randrange(len(given))
        if roll < 0.84:
            options = self._homophones.get(given[position])
            if options:
                swapped = given[:position] + rng.choice(options) + given[position + 1:]
                return family, swapped, "homophone"
        if roll < 0.92:
            typo = given[:position] + rng.choice(self._given) + given[position + 1:]
            return family, typo, "typo"
        if roll < 0.96:
            return given, family, "swapped"
        if len(given) > 1:
            return family, given[:position] + given[position + 1:], "dropped-char"
        return family, given + rng.choice(self._given), "added-char"

    def _one_field_off(self, born: dt.date) -> dt.date:
        rng = self.rng
        for _ in range(10):
            field = rng.randrange(3)
            try:
                if field == 0:
                    changed = born.replace(year=born.year + rng.choice((-10, -1, 1)))
                elif field == 1:
                    changed = born.replace(month=rng.randint(1, 12))
                else:
                    changed = born.replace(day=rng.randint(1, 28))
            except ValueError:
                continue
            if changed != born and changed <= TODAY:
                return changed
        return born

    def registrations(self, count: int) -> Iterator[Registration]:
        """``count`` registrations, people and their further registrations mixed."""
        rows: list[Registration] = []
        rng = self.rng
        while len(rows) < count:
            for person in self.household():
                home = rng.randrange(LIBRARIES)
                rows.append(self.first(person, home))
                if rng.random() < self.duplicate_share:
                    extra = 1 if rng.random() < 0.85 else 2
                    for _ in range(extra):
                        other = (home + rng.randrange(1, LIBRARIES)) % LIBRARIES
                        rows.append(self.again(person, other))
        del rows[count:]
        rng.shuffle(rows)
        yield from rows


def population(count: int, seed: int = 1) -> list[Registration]:
    return list(PopulationGenerator(seed).registrations(count))
