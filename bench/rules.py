"""Benchmark: the moderation rules engine (`judge`) on realistic comments.

Builds a rule set of 500 listed words (300 disallowed, 200 held for review; one in ten a
two-word phrase) and 20 RE2 patterns (wallet addresses, phone numbers, "buy ... now", repeated
characters, ...) with the default limits, and judges comments in four categories, made from the
real comment thread in /work/shared/seed/ and generated variants:

  short ASCII      one to three sentences or a chat line, up to 280 characters;
  long ASCII       seed paragraphs run together to 1,500-2,000 characters;
  long non-ASCII   the same length, as written (curly quotes, dashes) with accented words,
                   Cyrillic, CJK and emoji mixed in;
  obfuscated       short comments with leetspeak, look-alike letters, zero-width characters,
                   spaced-out letters or fullwidth forms, some hiding a listed word.

Every comment carries a few of its author's earlier comments (some close enough to trip the
flood rule, some the same text in another thread). A first pass over a separate corpus warms
the caches, as in a bot that has been running a while (its rate is printed as "cold"); each
timed round then judges new text. Reports comments judged per second, per category and overall
(the four in equal numbers), against the goal of 20,000/s, and the median and p99 time per
comment. Seeded: every run judges the same comments.

    .venv/bin/python bench/rules.py [--comments 20000] [--rounds 3] [--words 500] [--patterns 20]
"""

# The obfuscation tables are made of the characters RUF001 warns about, on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.moderation.rules import (
    CommentFacts,
    PastComment,
    RuleSet,
    compile_pattern,
    judge,
)
from bot.moderation.text import normalise

GOAL_PER_SECOND = 20_000
SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
CATEGORIES = ("short ASCII", "long ASCII", "long non-ASCII", "obfuscated")

# -- the rule set -----------------------------------------------------------------------------

SYLLABLES = [
    "ka", "zo", "rix", "vel", "mor", "tan", "qui", "dra", "lex", "bu", "nok", "sha", "fen", "gor",
    "pli", "zu", "wex", "tro", "jab", "yil", "vro", "mek", "sna", "dut", "hox", "gri", "lum",
    "pev", "sko", "zan", "bri", "tox", "wul", "fay", "krum", "dox", "pim", "vash", "glo", "neb",
    "tza", "rym", "kev", "obu", "ix", "quo",
]  # fmt: skip
REAL_WORDS = [
    "idiot", "moron", "loser", "scam", "scammer", "spam", "spammer", "crypto", "airdrop",
    "giveaway", "viagra", "cialis", "casino", "porn", "nude", "nudes", "onlyfans", "bitcoin",
    "nft", "forex", "betting", "jackpot", "hentai", "xxx", "escort", "camgirl", "dumbass",
    "jackass", "shithead", "bastard", "wanker", "prick", "douche", "bollocks", "asshat",
    "dipshit", "fuck", "shit", "bitch", "asshole", "dickhead",
]  # fmt: skip
REAL_PHRASES = [
    "free money", "click here", "dm me", "buy followers", "free nitro", "double your",
    "limited offer", "act now", "cheap pills", "work from home", "hot singles", "kill yourself",
    "go die", "send nudes", "crypto signals", "investment plan", "fuck off", "shut up",
    "sugar daddy", "easy money",
]  # fmt: skip

PATTERNS = [
    # (disallowed?, pattern): RE2 syntax, case-insensitive, no lookarounds or backreferences.
    (True, r"\b(?:bc1|[13])[a-hj-np-z0-9]{25,39}\b"),  # bitcoin address
    (True, r"\b0x[a-f0-9]{40}\b"),  # ethereum address
    (True, r"\bdouble\s+your\s+(?:money|bitcoin|btc|eth|crypto)\b"),
    (True, r"\bfree\s+(?:nitro|robux|v-?bucks|gift\s*cards?)\b"),
    (True, r"\bsteam(?:c|k)ommunity\.(?:ru|net|org|xyz|cc)\b"),
    (True, r"\bguaranteed\s+(?:profits?|returns?|income)\b"),
    (True, r"\b(?:xxx|18\+)\s*(?:content|videos?|pics)\b"),
    (True, r"\bsend\s+(?:me\s+)?\d+(?:\.\d+)?\s*(?:btc|eth|usdt)\b"),
    (False, r"\+?\d{1,3}[\s.-]?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b"),  # phone number
    (False, r"\bbuy\b.{0,40}\bnow\b"),
    (False, "(?:" + "|".join(f"{c}{{10,}}" for c in "abcdefghijklmnopqrstuvwxyz") + ")"),
    (False, r"[!?]{6,}"),
    (False, r"\b(?:whats\s*app|telegram|signal)\s*[:@]?\s*\+?\d{6,}"),
    (False, r"\bearn\s+\$?\d+k?\s*(?:per|a|/)\s*(?:day|week|hour)\b"),
    (False, r"\b(?:t\.me|telegram\.me)/\w+"),
    (False, r"\b(?:bit\.ly|tinyurl\.com|goo\.gl|cutt\.ly)/\w+"),
    (False, r"\bclick\s+(?:here|the\s+link|my\s+profile)\b"),
    (False, r"\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b"),  # e-mail address
    (False, r"\b(?:investment|trading)\s+(?:plan|platform|expert|mentor)\b"),
    (False, r"(?:\p{So}\s*){8,}"),  # a wall of emoji
]


def make_words(rng: random.Random, count: int) -> list[str]:
    """`count` distinct listed words: real-looking ones first, then syllable words; 10% phrases."""
    phrases = count // 10
    listed: list[str] = REAL_PHRASES[:phrases]
    seen = set(listed)

    def invent() -> str:
        while True:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
            if word not in seen:
                seen.add(word)
                return word

    while len(listed) < phrases:
        listed.append(f"{invent()} {invent()}")
    for word in REAL_WORDS:
        if len(listed) < count and word not in seen:
            seen.add(word)
            listed.append(word)
    while len(listed) < count:
        listed.append(invent())
    rng.shuffle(listed)
    return listed


def make_rules(rng: random.Random, words: int, patterns: int) -> RuleSet:
    listed = make_words(rng, words)
    chosen = (PATTERNS * (patterns // len(PATTERNS) + 1))[:patterns]
    split = words * 3 // 5
    return RuleSet(
        disallowed_words=listed[:split],
        moderation_words=listed[split:],
        disallowed_patterns=tuple(compile_pattern(p) for bad, p in chosen if bad),
        moderation_patterns=tuple(compile_pattern(p) for bad, p in chosen if not bad),
    )


# -- the corpus -------------------------------------------------------------------------------

_AUTHOR = re.compile(r"^\s*(?:\d+\.|•)\s+\S")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_ASCII_PUNCTUATION = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "}
)


def read_seed(folder: Path) -> tuple[list[str], list[str]]:
    """The post's paragraphs and the comments (paragraphs joined by newlines) of every seed file.

    The format: the post, then "There are N comments", then comments, each an author line
    ("  3. Name", or "• Name" for a reply) followed by indented paragraphs.
    """
    post: list[str] = []
    comments: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        current: list[str] | None = None
        in_thread = False
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("There are ") and stripped.endswith(" comments"):
                in_thread = True
            elif not in_thread:
                if stripped:
                    post.append(stripped)
            elif _AUTHOR.match(line) or stripped == "Post a new comment":
                if current:
                    comments.append("\n".join(current))
                current = []
            elif stripped and current is not None:
                current.append(stripped)
        if current:
            comments.append("\n".join(current))
    if not comments:
        raise SystemExit(f"no seed comments found in {folder}")
    return post, comments


CHAT = [
    "thanks!", "+1", "agreed", "great post, thanks for sharing", "lol", "this ^", "same here",
    "I watched it last night, highly recommend", "where can I stream it?", "source?",
    "Good point, I hadn't thought of that", "Is the trailer still up?", "ok", "nice",
    "Can someone link the interview?", "The Colbert bit was great", "100% agree",
    "not sure about that tbh", "see you at the screening on the 12th",
]  # fmt: skip
FOREIGN = [
    "C'est un très beau film, à voir absolument.", "Die Ausstellung in Zürich war großartig.",
    "¡Qué documental tan valiente! Me encantó.", "Ai Wěiwèi und Liú Xiǎobō: naïve Hoffnung?",
    "Свобода слова важна для всех.", "Я смотрел этот фильм вчера, очень сильно.",
    "艾未未的作品很有力量。", "言论自由是每个人的权利。", "このドキュメンタリーは素晴らしい。",
    "표현의 자유는 중요합니다.", "Η ελευθερία του λόγου είναι σημαντική.",
    "São Paulo, Kraków, Łódź, Malmö: the café résumé tour.", "Ελπίζω να το δω σύντομα.",
]  # fmt: skip
EMOJI = ["👍", "🎨", "🔥", "❤️", "🇨🇳", "😂", "🙏", "👏🏽", "🤔", "✊", "📽️", "👨‍👩‍👧", "🏳️‍🌈"]
LOOKALIKE = {"a": "аα", "c": "сϲ", "e": "еε", "i": "іι", "o": "оο", "p": "рρ", "s": "ѕ", "x": "хχ",
             "y": "у"}  # fmt: skip
LEET = {"a": "4@", "e": "3", "i": "1", "o": "0", "s": "5$", "t": "7"}
ACCENTED = {"a": "áàâä", "e": "éèêë", "i": "íï", "o": "óôö", "u": "úüû", "n": "ñ", "c": "ç"}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff"]


def obfuscate(rng: random.Random, word: str) -> str:
    """One way a person dodging a filter, or styling their text, writes `word`."""
    style = rng.randrange(7)
    if style == 0:
        return "".join(rng.choice(LEET[c]) if c in LEET and rng.random() < 0.6 else c for c in word)
    if style == 1:
        return "".join(
            rng.choice(LOOKALIKE[c]) if c in LOOKALIKE and rng.random() < 0.7 else c for c in word
        )
    if style == 2:
        return rng.choice(INVISIBLE).join(word)
    if style == 3:
        return rng.choice([" ", ".", "-", " . "]).join(word)
    if style == 4:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    if style == 5:
        accented = "".join(rng.choice(ACCENTED[c]) if c in ACCENTED else c for c in word)
        return accented.upper() if rng.random() < 0.5 else accented
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


def fill_to(rng: random.Random, pieces: list[str], low: int, high: int) -> str:
    """Pieces drawn at random and joined until the text is `low`-`high` characters long."""
    target = rng.randint(low, high)
    text = ""
    while len(text) < target:
        text += ("\n\n" if text else "") + rng.choice(pieces)
    cut = text.rfind(" ", 0, target)
    return text[: cut if cut > low else target]


class Corpus:
    """Makes comments of each category from the seed thread's text."""

    def __init__(self, post: list[str], comments: list[str], listed: list[str]) -> None:
        paragraphs = [p for text in (*post, *comments) for p in text.split("\n") if len(p) > 40]
        self.paragraphs = paragraphs
        self.ascii_paragraphs = [p.translate(_ASCII_PUNCTUATION) for p in paragraphs]
        self.ascii_paragraphs = [p for p in self.ascii_paragraphs if p.isascii()]
        self.sentences = [
            s.translate(_ASCII_PUNCTUATION)
            for p in paragraphs
            for s in _SENTENCE_END.split(p)
            if 10 < len(s) < 200
        ]
        self.sentences = [s for s in self.sentences if s.isascii()]
        self.listed = [w for w in listed if " " not in w]

    def short_ascii(self, rng: random.Random) -> str:
        if rng.random() < 0.3:
            text = rng.choice(CHAT)
        else:
            text = " ".join(rng.choice(self.sentences) for _ in range(rng.randint(1, 3)))[:280]
        if rng.random() < 0.05:
            text += f" <@{rng.randrange(10**17, 10**18)}>"
        if rng.random() < 0.05:
            text += f" https://example.org/watch/{rng.randrange(10**6)}"
        return text

    def long_ascii(self, rng: random.Random) -> str:
        return fill_to(rng, self.ascii_paragraphs, 1500, 2000)

    def long_non_ascii(self, rng: random.Random) -> str:
        pieces = list(self.paragraphs)
        # Keep the seed thread's own text the bulk; sprinkle the rest in.
        pieces += [" ".join(rng.sample(FOREIGN, 3)) for _ in range(len(pieces) // 4)]
        text = fill_to(rng, pieces, 1450, 1950)
        words = text.split(" ")
        for _ in range(rng.randint(2, 8)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(EMOJI))
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words) + 1), rng.choice(FOREIGN))
        return " ".join(words)[:2000]

    def obfuscated(self, rng: random.Random) -> str:
        words = rng.choice(self.sentences).split()
        if rng.random() < 0.4:
            # Hiding a listed word (a spammer); otherwise styling ordinary words (a member).
            words.insert(rng.randrange(len(words) + 1), obfuscate(rng, rng.choice(self.listed)))
        else:
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(words))
                words[at] = obfuscate(rng, words[at])
        return " ".join(words)

    def category(self, name: str, rng: random.Random) -> str:
        maker = {
            "short ASCII": self.short_ascii,
            "long ASCII": self.long_ascii,
            "long non-ASCII": self.long_non_ascii,
            "obfuscated": self.obfuscated,
        }[name]
        return maker(rng)


def history(rng: random.Random, text: str, past_texts: list[str]) -> list[PastComment]:
    """A few of the author's earlier comments: mostly older and elsewhere, sometimes not."""
    roll = rng.random()
    past = [
        PastComment(
            NOW - timedelta(seconds=rng.uniform(30, 3600)),
            rng.randrange(200, 260),
            normalise(rng.choice(past_texts)),
        )
        for _ in range(rng.randint(0, 5))
    ]
    if roll < 0.03:  # the same text in another thread a minute ago
        past.append(PastComment(NOW - timedelta(minutes=1), 201, normalise(text)))
    elif roll < 0.05:  # a burst of replies
        past += [PastComment(NOW - timedelta(seconds=s), 100, "ok") for s in (1, 2, 3, 4, 5)]
    return past


def build(
    corpus: Corpus, seed: int, per_category: int, past_texts: list[str]
) -> list[tuple[str, CommentFacts]]:
    rng = random.Random(seed)
    batch = []
    for name in CATEGORIES:
        for _ in range(per_category):
            text = corpus.category(name, rng)
            facts = CommentFacts(
                author_id=rng.randrange(1, 5000),
                author_role_ids=(rng.randrange(1, 20),),
                author_is_moderator=False,
                author_banned=False,
                author_has_approved_comment=True,
                thread_id=100,
                text=text,
                created_at=NOW,
                recent_by_author=history(rng, text, past_texts),
            )
            batch.append((name, facts))
    rng.shuffle(batch)  # categories interleaved, as they arrive
    return batch


# -- timing -----------------------------------------------------------------------------------


def run_batch(
    batch: list[tuple[str, CommentFacts]], rules: RuleSet, times: dict[str, list[int]]
) -> tuple[float, Counter[str]]:
    verdicts: Counter[str] = Counter()
    clock = time.perf_counter_ns
    started = clock()
    for name, facts in batch:
        before = clock()
        verdict = judge(facts, rules)
        times[name].append(clock() - before)
        verdicts[verdict.rule or "allow"] += 1
    return (clock() - started) / 1e9, verdicts


def figures(nanoseconds: list[int]) -> tuple[float, float, float]:
    """Comments per second, median and p99 in microseconds."""
    ordered = sorted(nanoseconds)
    p99 = ordered[min(len(ordered) - 1, round(len(ordered) * 0.99))]
    return len(ordered) / (sum(ordered) / 1e9), statistics.median(ordered) / 1000, p99 / 1000


def row(label: str, nanoseconds: list[int], sizes: list[int]) -> str:
    rate, median, p99 = figures(nanoseconds)
    verdict = "met" if rate >= GOAL_PER_SECOND else "MISSED"
    return (
        f"{label:<16} {len(nanoseconds):>8,} {statistics.mean(sizes):>7,.0f} {rate:>11,.0f} "
        f"{median:>9.1f} {p99:>9.1f}   >= {GOAL_PER_SECOND:,}/s: {verdict}"
    )


def run(args: argparse.Namespace) -> None:
    rules = make_rules(random.Random(1), args.words, args.patterns)
    listed = set(rules.disallowed_words) | set(rules.moderation_words)
    post, comments = read_seed(args.seed_dir)
    corpus = Corpus(post, comments, sorted(listed))
    per_category = max(1, args.comments // len(CATEGORIES))
    print(
        f"rules: {len(rules.disallowed_words)} disallowed + {len(rules.moderation_words)} held "
        f"words ({sum(' ' in w for w in listed)} phrases), {len(rules.disallowed_patterns)} "
        f"disallowed + {len(rules.moderation_patterns)} held patterns, default limits"
    )
    print(
        f"corpus: {len(comments)} seed comments and {len(post)} post paragraphs "
        f"from {args.seed_dir}; per round {per_category:,} comments in each of "
        f"{len(CATEGORIES)} categories, interleaved; {args.rounds} rounds of new text"
    )
    print(f"one thread (judge runs on the caller's), on a machine with {os.cpu_count()} cores")

    # Earlier comments are text the bot judged before: the seed comments and a warm-up corpus.
    warm_up = build(corpus, 1000, per_category, comments)
    past_texts = comments + [facts.text for _, facts in warm_up[:500]]
    warm_times: dict[str, list[int]] = {name: [] for name in CATEGORIES}
    seconds, _ = run_batch(warm_up, rules, warm_times)
    print(
        f"warm-up on other text (cold caches): {len(warm_up):,} comments in {seconds:.2f} s, "
        f"{len(warm_up) / seconds:,.0f}/s"
    )

    times: dict[str, list[int]] = {name: [] for name in CATEGORIES}
    sizes: dict[str, list[int]] = {name: [] for name in CATEGORIES}
    verdicts: Counter[str] = Counter()
    for number in range(args.rounds):
        batch = build(corpus, 2000 + number, per_category, past_texts)
        for name, facts in batch:
            sizes[name].append(len(facts.text))
        seconds, counted = run_batch(batch, rules, times)
        verdicts += counted
        print(f"round {number + 1}: {len(batch):,} comments in {seconds:.2f} s, "
              f"{len(batch) / seconds:,.0f}/s (wall clock, timing included)")  # fmt: skip

    print()
    print(f"{'category':<16} {'comments':>8} {'chars':>7} {'comments/s':>11} "
          f"{'median µs':>9} {'p99 µs':>9}   goal")  # fmt: skip
    for name in CATEGORIES:
        print(row(name, times[name], sizes[name]))
    everything = [t for name in CATEGORIES for t in times[name]]
    print(row("overall", everything, [s for name in CATEGORIES for s in sizes[name]]))
    total = sum(verdicts.values())
    print()
    print("verdicts: " + ", ".join(f"{rule} {n / total:.1%}" for rule, n in verdicts.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20_000, help="comments per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds, each of new text")
    parser.add_argument("--words", type=int, default=500, help="listed words (10%% phrases)")
    parser.add_argument("--patterns", type=int, default=20, help="regexes (up to 20 distinct)")
    parser.add_argument("--seed-dir", type=Path, default=SEED_DIR, help="seed comment thread")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
