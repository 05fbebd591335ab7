"""Synthetic test identities: realistic in form, never a real person's record.

Every value is drawn at random: names from common surnames and given-name characters,
birth dates within an age range, resident-ID numbers built by GB 11643-1999 (region
codes from GB/T 2260, check character ISO 7064 MOD 11-2) and mainland mobiles in E.164.
A generated number is structurally valid, so it may by chance equal a number somebody
holds; the record as a whole (name, birth date, number, mobile) is not anybody's. Use
these identities only in tests, demos and benchmarks, and never send messages to the
generated mobiles.

The generator is deterministic for a seed (passwords included), so its passwords are
test passwords, never credentials for a real account.
"""

from __future__ import annotations

import datetime
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberType

from idp.identity.resident_id import check_digit

Sex = Literal["F", "M"]
Script = Literal["simplified", "traditional"]


def _table(entries: str) -> dict[str, str]:
    """Parse ``simplified=traditional`` entries; a bare entry is written the same in both."""
    table: dict[str, str] = {}
    for entry in entries.split():
        simplified, _, traditional = entry.partition("=")
        table[simplified] = traditional or simplified
    return table


# About 120 common surnames, most frequent first, then compound surnames. Forms follow
# the surname's customary traditional spelling (e.g. 钟 -> 鍾, 叶 -> 葉); surnames whose
# traditional spelling is ambiguous (余/餘, 于/於, 肖/蕭) are left out.
SURNAMES: dict[str, str] = _table(
    """
    王 李 张=張 刘=劉 陈=陳 杨=楊 黄=黃 赵=趙 吴=吳 周 徐 孙=孫 马=馬 朱 胡 郭 何 林
    罗=羅 高 郑=鄭 梁 谢=謝 宋 唐 许=許 韩=韓 冯=馮 邓=鄧 曹 彭 曾 田 董 潘 袁 蔡
    蒋=蔣 杜 叶=葉 程 魏 苏=蘇 吕=呂 丁 任 卢=盧 姚 沈 钟=鍾 姜 崔 谭=譚 陆=陸 范
    汪 廖 石 金 韦=韋 贾=賈 夏 付 方 邹=鄒 熊 白 孟 秦 邱 侯 江 尹 薛 段 雷 龙=龍
    黎 史 陶 贺=賀 毛 郝 顾=顧 龚=龔 邵 万=萬 覃 武 钱=錢 戴 严=嚴 莫 孔 向 常
    汤=湯 康 易 乔=喬 赖=賴 文 施 洪 辛 柯 庄=莊 温=溫 牛 樊 葛 邢 安 齐=齊 伍 殷
    颜=顏 倪
    欧阳=歐陽 司马=司馬 诸葛=諸葛 上官 东方=東方 皇甫 司徒 慕容
    """
)

# About 200 characters common in given names, each with one unambiguous traditional
# form (characters such as 发 -> 發/髮, 杰 -> 杰/傑 or 云 -> 云/雲 are left out).
GIVEN_NAME_CHARACTERS: dict[str, str] = _table(
    """
    伟=偉 芳 娜 敏 静=靜 丽=麗 强=強 磊 军=軍 洋 勇 娟 涛=濤 明 超 秀 霞 平 刚=剛 桂
    英 华=華 玉 兰=蘭 萍 红=紅 玲 燕 建 国=國 文 辉=輝 鹏=鵬 飞=飛 宇 浩 轩=軒 然 子
    梓 涵 欣 怡 佳 琪 雨 晨 博 俊 嘉 思 诗=詩 婷 雪 慧 颖=穎 婉 晓=曉 东=東 海 波
    宁=寧 春 阳=陽 林 峰 斌 亮 志 龙=龍 凤=鳳 荣=榮 鑫 鸿=鴻 伦=倫 诚=誠 毅 睿 哲
    瑞 泽=澤 铭=銘 凯=凱 健 翔 乐=樂 天 一 安 心 妍 瑶=瑤 璐 琳 倩 晶 丹 珊 洁=潔
    蓉 薇 月 莉 梅 兵 岩 鹤=鶴 柏 坤 振 宏 德 仁 义=義 礼=禮 智 信 忠 孝 贤=賢 良
    恒=恆 永 长=長 江 河 山 川 霖 泉 清 源 彬 晖=暉 锋=鋒 钢=鋼 鸣=鳴 进=進 达=達
    顺=順 财=財 贵=貴 福 禄=祿 寿=壽 喜 庆=慶 宝=寶 珍 珠 翠 琴 莲=蓮 香 菊 萱 语=語
    书=書 画=畫 歌 舒 逸 航 帆 远=遠 卫=衛 民 新 生 学=學 成 立 力 康 婧 媛 蕾 萌
    可 馨 悦=悅 彤 昊 皓 煜 烨=燁 炜=煒 玮=瑋 琦 铮=錚 钰=鈺 锦=錦 绮=綺 纯=純 绍=紹
    继=繼 维=維 纬=緯 经=經 缘=緣 岚=嵐 峥=崢 巍 崇 彦=彥 颂=頌 硕=碩 轶=軼 骏=駿
    驰=馳 腾=騰 鸥=鷗 莺=鶯 恺=愷 韵=韻 韬=韜 韧=韌 赞=贊 贻=貽 谦=謙 谨=謹 诺=諾
    谊=誼
    """
)

# County-level divisions (GB/T 2260): central districts of provincial capitals and a
# few other cities, at least one per province-level division of the mainland.
REGION_CODES: tuple[str, ...] = (
    "110101",  # 北京市东城区
    "110102",  # 北京市西城区
    "110105",  # 北京市朝阳区
    "110108",  # 北京市海淀区
    "120101",  # 天津市和平区
    "130102",  # 石家庄市长安区
    "140105",  # 太原市小店区
    "150102",  # 呼和浩特市新城区
    "210102",  # 沈阳市和平区
    "220102",  # 长春市南关区
    "230102",  # 哈尔滨市道里区
    "310101",  # 上海市黄浦区
    "310104",  # 上海市徐汇区
    "310115",  # 上海市浦东新区
    "320102",  # 南京市玄武区
    "320506",  # 苏州市吴中区
    "330102",  # 杭州市上城区
    "330106",  # 杭州市西湖区
    "340102",  # 合肥市瑶海区
    "350102",  # 福州市鼓楼区
    "350203",  # 厦门市思明区
    "360102",  # 南昌市东湖区
    "370102",  # 济南市历下区
    "370202",  # 青岛市市南区
    "410102",  # 郑州市中原区
    "420102",  # 武汉市江岸区
    "430102",  # 长沙市芙蓉区
    "440103",  # 广州市荔湾区
    "440106",  # 广州市天河区
    "440304",  # 深圳市福田区
    "450102",  # 南宁市兴宁区
    "460105",  # 海口市秀英区
    "500103",  # 重庆市渝中区
    "510104",  # 成都市锦江区
    "520102",  # 贵阳市南明区
    "530102",  # 昆明市五华区
    "540102",  # 拉萨市城关区
    "610102",  # 西安市新城区
    "620102",  # 兰州市城关区
    "630102",  # 西宁市城东区
    "640104",  # 银川市兴庆区
    "650102",  # 乌鲁木齐市天山区
)

# Mobile number segments of the three network operators and China Broadnet (MIIT
# allocations). Virtual-operator segments (162, 165, 167, 170, 171) are left out.
MOBILE_PREFIXES: tuple[str, ...] = (
    # China Mobile
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158",
    "159", "172", "178", "182", "183", "184", "187", "188", "195", "197", "198",
    # China Unicom
    "130", "131", "132", "145", "155", "156", "166", "175", "176", "185", "186", "196",
    # China Telecom
    "133", "153", "173", "177", "180", "181", "189", "190", "191", "193", "199",
    # China Broadnet
    "192",
)  # fmt: skip

_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#$%&*+-=?@^_~"
PASSWORD_LENGTH = 16

# Attempts at a fresh number before giving up; each attempt has at worst a few hundred
# candidates per (region, birth date, sex), so running out means the caller asked for far
# more numbers for one birth date than the format can hold.
_MAX_ATTEMPTS = 10_000


@dataclass(frozen=True)
class SyntheticReader:
    """One test reader; every field is consistent with the others."""

    family_name: str
    given_name: str
    script: Script
    resident_id: str
    birth_date: datetime.date
    sex: Sex
    mobile: str
    password: str


def _years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class IdentityGenerator:
    """Generates synthetic readers; deterministic for a seed, never repeating a number.

    ``today`` fixes the reference date for ages (default: the current date), and
    ``traditional_share`` is the fraction of readers whose name is written in traditional
    characters.
    """

    def __init__(
        self,
        seed: int | None = None,
        *,
        today: datetime.date | None = None,
        traditional_share: float = 0.15,
    ) -> None:
        if not 0.0 <= traditional_share <= 1.0:
            raise ValueError("traditional_share must be between 0 and 1")
        self._random = random.Random(seed)
        self._today = today if today is not None else datetime.date.today()
        self._traditional_share = traditional_share
        self._surnames = sorted(SURNAMES)
        self._given = sorted(GIVEN_NAME_CHARACTERS)
        # Issued numbers, as 18-digit resident IDs, so a 15-digit number and its
        # converted form count as the same number.
        self._issued_ids: set[str] = set()
        self._issued_mobiles: set[str] = set()

    def reader(self, *, min_age: int = 0, max_age: int = 90) -> SyntheticReader:
        """One reader aged ``min_age`` to ``max_age`` (inclusive) on ``today``."""
        rng = self._random
        birth_date = self.birth_date(min_age=min_age, max_age=max_age)
        sex: Sex = rng.choice(("F", "M"))
        traditional = rng.random() < self._traditional_share
        family, given = self.name(traditional=traditional)
        return SyntheticReader(
            family_name=family,
            given_name=given,
            script="traditional" if traditional else "simplified",
            resident_id=self.resident_id(birth_date, sex),
            birth_date=birth_date,
            sex=sex,
            mobile=self.mobile(),
            password=self.password(),
        )

    def readers(
        self, count: int, *, min_age: int = 0, max_age: int = 90
    ) -> Iterator[SyntheticReader]:
        """``count`` readers, generated lazily."""
        if count < 0:
            raise ValueError("count must not be negative")
        for _ in range(count):
            yield self.reader(min_age=min_age, max_age=max_age)

    def birth_date(self, *, min_age: int = 0, max_age: int = 90) -> datetime.date:
        """A uniformly drawn birth date of someone aged ``min_age``..``max_age`` today."""
        if not 0 <= min_age <= max_age:
            raise ValueError("ages must satisfy 0 <= min_age <= max_age")
        latest = _years_before(self._today, min_age)
        # The day after the (max_age + 1)th birthday's eve: one day older would be too old.
        earliest = _years_before(self._today, max_age + 1) + datetime.timedelta(days=1)
        # GB 11643-1999 numbers here start in 1900 (see parse_resident_id).
        earliest = max(earliest, datetime.date(1900, 1, 1))
        if earliest > latest:
            raise ValueError("no birth date after 1900 fits the requested ages")
        span = (latest - earliest).days
        return earliest + datetime.timedelta(days=self._random.randint(0, span))

    def resident_id(self, birth_date: datetime.date, sex: Sex) -> str:
        """A fresh 18-digit resident-ID number (GB 11643-1999) for this birth date and sex."""
        if birth_date.year < 1900:
            raise ValueError("resident-ID birth dates start in 1900")
        born = birth_date.strftime("%Y%m%d")
        for _ in range(_MAX_ATTEMPTS):
            first17 = self._random.choice(REGION_CODES) + born + self._sequence(sex)
            number = first17 + check_digit(first17)
            if number not in self._issued_ids:
                self._issued_ids.add(number)
                return number
        raise RuntimeError("ran out of fresh resident-ID numbers for this birth date")

    def resident_id_15(self, birth_date: datetime.date, sex: Sex) -> str:
        """A fresh first-generation 15-digit number (birth year 1900-1999, 19YY implied)."""
        if not 1900 <= birth_date.year <= 1999:
            raise ValueError("first-generation numbers carry birth years 1900-1999")
        born = birth_date.strftime("%y%m%d")
        for _ in range(_MAX_ATTEMPTS):
            region = self._random.choice(REGION_CODES)
            sequence = self._sequence(sex)
            number = region + born + sequence
            first17 = region + "19" + born + sequence
            upgraded = first17 + check_digit(first17)
            if upgraded not in self._issued_ids:
                self._issued_ids.add(upgraded)
                return number
        raise RuntimeError("ran out of fresh resident-ID numbers for this birth date")

    def _sequence(self, sex: Sex) -> str:
        """Three-digit sequence code whose last digit is odd for men (GB 11643-1999 4.3)."""
        parity = 1 if sex == "M" else 0
        return f"{self._random.randrange(100):02d}{2 * self._random.randrange(5) + parity}"

    def mobile(self) -> str:
        """A fresh mainland mobile in E.164 form that phonenumbers classifies as MOBILE."""
        for _ in range(_MAX_ATTEMPTS):
            national = self._random.choice(MOBILE_PREFIXES) + f"{self._random.randrange(10**8):08d}"
            e164 = "+86" + national
            if e164 in self._issued_mobiles:
                continue
            # The shipped segments are all mobile today; checking guards against a
            # numbering-plan change in a newer phonenumbers release.
            parsed = phonenumbers.parse(e164)
            if phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE:
                self._issued_mobiles.add(e164)
                return e164
        raise RuntimeError("could not draw a fresh mobile number")

    def name(self, *, traditional: bool = False) -> tuple[str, str]:
        """(family name, given name of 1 or 2 characters), all in one script."""
        rng = self._random
        family = rng.choice(self._surnames)
        given = [rng.choice(self._given) for _ in range(rng.choice((1, 2, 2)))]
        if traditional:
            return SURNAMES[family], "".join(GIVEN_NAME_CHARACTERS[c] for c in given)
        return family, "".join(given)

    def password(self) -> str:
        """A random test password of 16 characters with lower, upper, digit and symbol."""
        rng = self._random
        while True:
            chars = [rng.choice(_PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH)]
            if (
                any(c.islower() for c in chars)
                and any(c.isupper() for c in chars)
                and any(c.isdigit() for c in chars)
                and any(not c.isalnum() for c in chars)
            ):
                return "".join(chars)
