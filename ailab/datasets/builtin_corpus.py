"""The built-in corpus: short children's stories generated from a seed, so the default pipeline needs no network.

`generate_builtin_corpus(num_stories, seed)` writes TinyStories-like stories from a small story grammar (every word
list and sentence template is our own; no text is copied from anywhere). The grammar's text lives in data files
beside this module, `data/builtin_corpus/words.json` (word lists by name) and `templates.json` (sentence templates by
story part and step, in story order); this module holds only the plots' structure, which reads them. A story is
a hero (a child or a small animal, with consistent pronouns), a friend, a grown-up, a place and an object, put
through one of 20 plot shapes (a lost toy, a new friend, a fear overcome, sharing, a trip, spoiled weather,
learning a skill, helping an animal, a misunderstanding, a surprise, growing a plant, owning up to a mistake, a
race, bedtime, a new pet, helping a neighbour, a journey, tidying up, baking, a sick day). Every plot has a
beginning that introduces the hero by name, a problem, middle events, dialogue in quotes with speech verbs that
fit the mood, feelings, a resolution and an ending or a moral. Each step picks one of several sentence templates,
and a per-story pace keeps or drops optional sentences, so two stories rarely share more than their skeleton.

Trade-offs, measured for the defaults (6,000 stories, seed 0; `python benchmarks/bench_builtin_corpus.py`):
- Size: 4.7 MB of ASCII text, 90-217 words a story (median 144, like TinyStories): big enough that a small model
  trained for a few minutes on CPU has not memorised it, small enough to tokenize and pack in seconds.
- Vocabulary: about 2,200 distinct lowercase words, 2,100 of them seen at least 5 times, so a small model can learn
  every word. A BPE tokenizer asked for 8,192 tokens stops near 4,200 on this text (~1.1M tokens in all).
- Time: about 0.5 s of CPU for 6,000 stories, pure Python, no dependencies.
- A grammar is more repetitive than people are: gzip ratio 0.25 against 0.31 for real TinyStories, and a held-out
  word-bigram model needs 4.9 bits/word against 6.7. Validation loss is lower than on real TinyStories and samples
  drift into the grammar's phrasings. That is the price of a corpus that is free, offline and reproducible; point
  the pipeline at a real dataset for research results.

Determinism: one `random.Random(seed)` drives every choice, choices are only ever made from tuples (never from
sets, whose order could vary; the JSON lists are loaded as tuples), so the same `(num_stories, seed)` gives the same
list on every machine and under every PYTHONHASHSEED. Duplicate stories are dropped and replaced, so every returned
story is distinct and a train/validation split by story can never put the same text on both sides.
"""

from __future__ import annotations

import importlib.resources
import itertools
import json
import numbers
import random
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

DATA_DIR = importlib.resources.files("ailab.datasets") / "data" / "builtin_corpus"
"""The grammar's text: `words.json` (word lists by name) and `templates.json` (sentence templates by story part)."""


def _frozen(value: Any) -> Any:
    """JSON lists as tuples, all the way down: rng picks from tuples, never from sets, so choices are reproducible."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _load(name: str) -> dict[str, Any]:
    """The entries of data file `name` (keys starting with "_" document the others and are skipped)."""
    entries = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    return {key: _frozen(value) for key, value in entries.items() if not key.startswith("_")}


_WORDS = SimpleNamespace(**_load("words.json"))
"""Word lists, e.g. `_WORDS.girl_names`. `speech_verbs` maps final punctuation, then mood, to speech verbs; a verb
with a space ("said softly") always follows the speaker."""
_TEMPLATES = SimpleNamespace(**{part: SimpleNamespace(**lines) for part, lines in _load("templates.json").items()})
"""Sentence templates by story part and step, e.g. `_TEMPLATES.lost_object.he_had_a_obj`."""


def _article(phrase: str) -> str:
    """'a' or 'an' for `phrase`, by the sound of its first word (an umbrella, a unicorn, an hour)."""
    word = phrase.split(" ", 1)[0].lower()
    if word.startswith(("uni", "use", "usu", "eu", "one")):
        return "a"
    if word.startswith(("hour", "honest", "honor")):
        return "an"
    return "an" if word[0] in "aeiou" else "a"


_SENTENCE_END = re.compile(r"[.!?] ")


def _split_first_sentence(line: str) -> tuple[str, str]:
    """'Oh no! My kite is stuck.' -> ('Oh no!', 'My kite is stuck.'); a one-sentence line -> (line, '')."""
    match = _SENTENCE_END.search(line)
    return (line[: match.start() + 1], line[match.end() :]) if match else (line, "")


def _a(phrase: str) -> str:
    return f"{_article(phrase)} {phrase}"


@dataclass(frozen=True)
class _Character:
    name: str
    female: bool
    kind: str  # "girl", "boy", or an animal: "fox", "bear cub"
    is_animal: bool
    family: str = ""  # animals: the word their grown-ups are named after ("Mama Bear")
    home: str = ""

    def slots(self, prefix: str) -> dict[str, str]:
        he, him, his = ("she", "her", "her") if self.female else ("he", "him", "his")
        return {
            prefix + "he": he,
            prefix + "He": he.capitalize(),
            prefix + "him": him,
            prefix + "his": his,
            prefix + "His": his.capitalize(),
            prefix + "self": him + "self",
            prefix + "kind": self.kind,
        }


def _make_hero(rng: random.Random, animal: bool) -> _Character:
    female = rng.random() < 0.5
    if animal:
        kind, family, home = rng.choice(_WORDS.animals)
        return _Character(rng.choice(_WORDS.animal_names), female, kind, True, family, home)
    name = rng.choice(_WORDS.girl_names if female else _WORDS.boy_names)
    return _Character(name, female, "girl" if female else "boy", False, "", rng.choice(_WORDS.human_homes))


def _make_friend(rng: random.Random, hero: _Character) -> _Character:
    while True:
        friend = _make_hero(rng, hero.is_animal)
        if friend.name != hero.name and (not hero.is_animal or friend.kind != hero.kind):
            return friend


def _make_grown_up(rng: random.Random, hero: _Character) -> _Character:
    t = _TEMPLATES.make_grown_up
    female = rng.random() < 0.55
    if hero.is_animal:
        title = rng.choice(t.mama_grandma) if female else rng.choice(t.papa_grandpa)
        return _Character(f"{title} {hero.family}", female, hero.kind, True)
    name = rng.choice(t.mom_mom) if female else rng.choice(t.dad_dad)
    return _Character(name, female, "grown-up", False)


_PRONOUN_SLOT = {"hero": "he", "friend": "fhe", "grown_up": "phe"}


class _Writer:
    """Accumulates one story: picks templates with one rng, fills the story's slots, renders dialogue."""

    def __init__(self, rng: random.Random, hero: _Character, friend: _Character, grown_up: _Character):
        self.rng = rng
        self.cast = {"hero": hero, "friend": friend, "grown_up": grown_up}
        self.slots = {"name": hero.name, "friend": friend.name, "parent": grown_up.name}
        self.slots.update(hero.slots(""))
        self.slots.update(friend.slots("f"))
        self.slots.update(grown_up.slots("p"))
        self.slots["friend_intro"] = (
            f"{friend.name} the {friend.kind}" if friend.is_animal else f"{friend.name} from next door"
        )
        self.paragraphs: list[list[str]] = [[]]
        self.pace = self.pick((0.3, 0.6, 0.9))  # brisk, medium or leisurely telling

    def pick(self, options):
        # One C call per choice; rng.choice costs ~3x more and this runs ~40 times a story.
        return options[int(self.rng.random() * len(options))]

    def fill(self, template: str) -> str:
        return template.format_map(self.slots)

    def add(self, *templates: str) -> None:
        """Append one of `templates`, filled in, to the current paragraph.

        A sentence that opens with the hero's pronoun gets the hero's name instead when the sentence before
        it was about someone else ("Mom smiled. She ..." would be about Mom).
        """
        template = self.pick(templates)
        sentence = self.fill(template)
        he = self.slots["He"]
        if template.startswith("{He} "):
            previous = self.paragraphs[-1][-1] if self.paragraphs[-1] else ""
            if self.slots["name"] not in previous and not previous.startswith(he + " "):
                sentence = self.slots["name"] + sentence[len(he) :]
        self.paragraphs[-1].append(sentence)

    def chance(self, p: float) -> bool:
        """True with probability `p` scaled by the story's pace: for optional sentences, so lengths vary."""
        return self.rng.random() < p * self.pace

    def maybe(self, p: float, *templates: str) -> None:
        if self.chance(p):
            self.add(*templates)

    def say(self, role: str, mood: str, *lines: str) -> None:
        """Append one of `lines` (each ending in . ? or !) spoken by `role`, with a speech verb for `mood`.

        The tag goes after the quote ("Hello," said Lily / Lily said), before it (Lily said, "Hello."), or
        between the line's first sentence and the rest. A pronoun tag (she said) is used only when the previous
        sentence named the speaker and no one else who shares the pronoun.
        """
        speaker = self.cast[role]
        line = self.fill(self.pick(lines))
        who = speaker.name
        if self._pronoun_is_clear(speaker) and self.rng.random() < 0.5:
            who = self.slots[_PRONOUN_SLOT[role]]
        form = self.rng.random()
        first, rest = _split_first_sentence(line)
        quote, tail = (first, rest) if rest and form >= 0.6 else (line, "")
        verb = self._speech_verb(quote[-1], mood)
        if form < 0.2 and who == speaker.name and verb in ("said", "asked", "whispered"):
            sentence = f'{who} {verb}, "{line}"'
        else:
            # "said softly" and pronouns go after the subject: "Lily said softly", never "said she".
            name_first = " " in verb or who != speaker.name or self.rng.random() < 0.5
            tag = f"{who} {verb}" if name_first else f"{verb} {who}"
            quoted = quote[:-1] + ("," if quote[-1] == "." else quote[-1])
            sentence = f'"{quoted}" {tag}.' + (f' "{tail}"' if tail else "")
        self.paragraphs[-1].append(sentence)

    def _speech_verb(self, mark: str, mood: str) -> str:
        verb = self.pick(_WORDS.speech_verbs[mark][mood])
        previous = self.paragraphs[-1][-1] if self.paragraphs[-1] else ""
        if verb.startswith(("replied", "answered")) and '"' not in previous:
            return "said"  # nobody spoke, so there is nothing to reply to
        return verb

    def _pronoun_is_clear(self, speaker: _Character) -> bool:
        if not self.paragraphs[-1]:
            return False
        previous = self.paragraphs[-1][-1]
        if speaker.name not in previous:
            return False
        return not any(
            other.name in previous and other.female == speaker.female and other is not speaker
            for other in self.cast.values()
        )

    def paragraph(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    def text(self) -> str:
        return "\n".join(" ".join(p) for p in self.paragraphs if p)


# --------------------------------------------------------------------------------------------------------------
# Story parts shared by the plots.
# --------------------------------------------------------------------------------------------------------------


def _introduce(w: _Writer, liking: str | None = None) -> None:
    """The beginning: the hero by name (always 'named X' or 'called X'), where they live, what they love."""
    t = _TEMPLATES.introduce
    hero = w.cast["hero"]
    desc = f"{w.pick(_WORDS.character_adjectives)} {'little ' if w.rng.random() < 0.4 else ''}{hero.kind}"
    desc = desc.replace("little little", "little").replace("small little", "small")
    w.slots["a_desc"] = _a(desc)
    w.slots["home"] = hero.home
    w.add(*t.once_upon_a_time)
    if hero.home not in w.paragraphs[-1][-1]:
        w.maybe(0.2, *t.he_lived_home)
    if w.chance(0.3):
        if hero.is_animal:
            w.slots["looks"] = w.fill(w.pick(_WORDS.animal_looks))
        else:
            w.slots["looks"] = f"{w.pick(_WORDS.hair)} hair and {w.fill(w.pick(_WORDS.human_looks))}"
        w.add(*t.he_had_looks)
    if liking:
        w.add(liking)
    elif w.chance(0.6):
        act = w.pick(_WORDS.activities)
        w.slots["act_ing"], w.slots["act"] = act[2], act[0]
        w.add(*t.he_loved_act_ing)


def _object(w: _Writer) -> None:
    """Sets the slots for the hero's treasured object: obj ('kite'), obj_desc ('green kite'), a_obj, color."""
    noun, color = w.pick(_WORDS.toys), w.pick(_WORDS.colors)
    plain = " " in color or w.rng.random() < 0.5  # no "bright bright red"
    desc = f"{color} {noun}" if plain else f"{w.pick(_WORDS.object_adjectives)} {color} {noun}"
    w.slots.update(obj=noun, obj_desc=desc, a_obj=_a(desc), color=color.split()[-1])
    w.slots["a_color_obj"] = _a(f"{w.slots['color']} {noun}")


def _place(w: _Writer) -> None:
    noun, at, to = w.pick(_WORDS.places)
    w.slots.update(place=noun, at_place=at, to_place=to)


def _time(w: _Writer) -> None:
    w.slots["Time"] = w.pick(_WORDS.times)


def _feel(w: _Writer, happy: bool) -> None:
    w.slots["feeling"] = w.pick(_WORDS.feelings_happy if happy else _WORDS.feelings_sad)


# --------------------------------------------------------------------------------------------------------------
# Plots. Each one writes a whole story with `w`.
# --------------------------------------------------------------------------------------------------------------


def _plot_lost_object(w: _Writer) -> None:
    t = _TEMPLATES.lost_object
    _object(w)
    _place(w)
    _time(w)
    _introduce(w, w.pick(t.he_had_a_obj))
    w.paragraph()
    w.add(*t.time_name_took_his)
    w.add(*t.he_played_until_the)
    _feel(w, happy=False)
    w.maybe(0.6, *t.name_felt_very_feeling)
    if w.chance(0.6):
        w.say("hero", "sad", *t.oh_no_where_is)
    w.paragraph()
    w.add(*t.just_then_his_friend)
    if w.chance(0.7):
        w.say("friend", "kind", *t.what_is_wrong_name)
    if w.chance(0.5):
        w.say("hero", "sad", *t.i_lost_my_obj)
    w.say("friend", "kind", *t.don_t_worry_i)
    spots = w.rng.sample(_WORDS.outdoor_spots, 4)
    for i, spot in enumerate(spots[: w.rng.randint(1, 2)]):
        w.slots["spot"], w.slots["junk"] = spot, w.pick(_WORDS.junk)
        if i == 0:
            w.add(*t.first_they_looked_spot)
        elif w.rng.random() < 0.4:
            w.slots["creature"] = w.pick(_WORDS.helper_creatures)
            w.add(*t.they_asked_creature_if)
        else:
            w.add(*t.next_they_checked_spot)
    w.slots["spot"] = spots[-1]
    w.maybe(0.3, *t.name_began_to_think)
    w.paragraph()
    if w.chance(0.5):
        w.add(*t.at_last_friend_pointed)
        w.say("hero", "happy", *t.my_obj_you_found)
    else:
        w.add(*t.then_name_saw_something)
        w.say("hero", "happy", *t.i_found_it_i)
    w.maybe(0.4, *t.name_hugged_the_obj)
    w.say("hero", "happy", *t.thank_you_friend_you)
    w.maybe(0.3, *t.friend_smiled)
    w.add(*t.from_that_day_on)


def _plot_new_friend(w: _Writer) -> None:
    t = _TEMPLATES.new_friend
    _place(w)
    w.slots["a_fdesc"] = _a(f"{w.pick(_WORDS.friend_adjectives)} {w.cast['friend'].kind}")
    _time(w)
    _introduce(w)
    w.add(*t.but_name_did_not)
    w.paragraph()
    w.add(*t.time_name_went_to)
    w.add(*t.there_name_saw_a)
    w.add(*t.name_wanted_to_say)
    if w.chance(0.6):
        w.say("hero", "scared", *t.what_if_fhe_does)
    if w.chance(0.7):
        w.say("grown_up", "kind", *t.just_say_hello_a)
    w.paragraph()
    w.add(*t.name_took_a_deep)
    w.say("hero", "neutral", *t.hello_my_name_is)
    w.say("friend", "happy", *t.yes_please_my_name)
    first, second = w.rng.sample(_WORDS.activities, 2)
    w.slots.update(act_past=first[1], act_past2=second[1])
    w.add(*t.they_act_past)
    w.maybe(0.7, *t.then_they_act_past2)
    w.maybe(0.3, *t.friend_showed_name_how)
    w.paragraph()
    w.add(*t.when_it_was_time)
    w.say("friend", "happy", *t.will_you_come_back)
    w.say("hero", "happy", *t.yes_you_are_my)
    _feel(w, happy=True)
    w.add(*t.name_walked_home_feeling)


def _plot_brave(w: _Writer) -> None:
    t = _TEMPLATES.brave
    fear, face, truth = w.pick(_WORDS.fears)
    w.slots.update(fear=fear, face=w.fill(face), truth=w.fill(truth))
    _time(w)
    _introduce(w)
    w.add(*t.but_there_was_one)
    w.paragraph()
    w.add(*t.time_name_had_to)
    w.maybe(0.6, *t.his_knees_wobbled_and)
    w.say("hero", "scared", *t.i_am_scared_i)
    w.add(*t.parent_knelt_down_beside)
    w.say("grown_up", "kind", *t.it_is_okay_to)
    w.maybe(0.5, *t.then_phe_gave_name)
    w.paragraph()
    w.maybe(0.6, *t.name_took_a_deep)
    w.add(*t.slowly_name_face)
    w.maybe(0.5, *t.nothing_bad_happened)
    w.add(*t.then_he_saw_that)
    w.say("hero", "happy", *t.i_did_it_i)
    _feel(w, happy=True)
    w.paragraph()
    w.maybe(0.6, *t.parent_smiled_and_clapped)
    w.say("grown_up", "happy", *t.i_knew_you_could)
    w.add(*t.name_felt_feeling_and)


def _plot_sharing(w: _Writer) -> None:
    t = _TEMPLATES.sharing
    treat, short, share = w.pick(_WORDS.treats)
    w.slots.update(treat=treat, short=short, share=w.fill(share))
    _place(w)
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add(*t.time_parent_gave_name)
    w.say("hero", "excited", *t.yum_this_is_all)
    w.maybe(0.6, *t.he_ran_to_place)
    w.add(*t.just_then_his_friend)
    w.maybe(0.6, *t.fhe_looked_at_the)
    w.say("friend", "sad", *t.that_looks_so_good)
    w.paragraph()
    w.maybe(0.3, *t.name_held_the_short)
    w.say("hero", "cross", *t.no_it_is_mine)
    w.add(*t.friend_looked_down_at)
    w.add(*t.name_took_a_bite)
    w.maybe(0.4, *t.he_remembered_what_parent)
    w.paragraph()
    w.add(*t.so_name_walked_over)
    w.say("hero", "kind", *t.i_am_sorry_friend)
    w.add(*t.name_share)
    w.say("friend", "happy", *t.thank_you_name)
    w.maybe(0.6, *t.they_ate_together_and)
    _feel(w, happy=True)
    w.add(*t.name_felt_warm_and)


def _plot_trip(w: _Writer) -> None:
    t = _TEMPLATES.trip
    dest, to, sights = w.pick(_WORDS.trips)
    problem, fix = w.pick(_WORDS.trip_problems)
    w.slots.update(dest=dest, to_dest=to, vehicle=w.pick(_WORDS.vehicles), problem=w.fill(problem), fix=w.fill(fix))
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add(*t.time_parent_had_a)
    w.say("grown_up", "happy", *t.today_we_are_going)
    w.say("hero", "excited", *t.hooray_can_friend_come)
    w.maybe(0.5, *t.friend_came_along_too)
    w.add(*t.they_went_vehicle)
    w.paragraph()
    seen = w.rng.sample(sights, 3)
    w.slots.update(s1=seen[0], s2=seen[1], s3=seen[2])
    w.add(*t.at_dest_name_saw)
    if w.chance(0.6):
        w.say("hero", "excited", *t.look_look_at_that)
    w.add(*t.then_he_saw_s2)
    w.add(*t.but_then_problem)
    w.maybe(0.5, *t.name_felt_like_crying)
    w.add(*t.luckily_fix)
    w.paragraph()
    w.add(*t.when_the_sun_went)
    w.say("hero", "happy", *t.this_was_the_best)
    _feel(w, happy=True)
    w.add(*t.that_night_name_dreamed)


def _plot_weather(w: _Writer) -> None:
    t = _TEMPLATES.weather
    plan_ing, plan, event, damage, later = w.pick(_WORDS.weather_plans)
    fun, fun_past = w.pick(_WORDS.indoor_fun)
    w.slots.update(
        plan_ing=w.fill(plan_ing),
        plan=w.fill(plan),
        event=event,
        damage=w.fill(damage),
        fun=fun,
        fun_past=w.fill(fun_past),
        later=later,
    )
    _introduce(w)
    w.paragraph()
    w.add(*t.one_morning_name_and)
    w.say("hero", "excited", *t.this_is_going_to)
    w.add(*t.but_just_as_they)
    w.add(*t.event)
    w.add(*t.damage)
    if w.chance(0.7):
        w.say("hero", "sad", *t.now_our_day_is)
    w.maybe(0.5, *t.name_pressed_his_nose)
    w.paragraph()
    w.add(*t.parent_came_over_and)
    w.say("grown_up", "kind", *t.we_can_t_change)
    if w.chance(0.5):
        w.say("hero", "neutral", *t.can_friend_help_too)
    w.add(*t.so_they_fun_past)
    w.maybe(0.4, *t.they_laughed_so_much)
    w.paragraph()
    w.add(*t.later)
    w.say("friend", "happy", *t.look_maybe_we_can)
    _feel(w, happy=True)
    w.add(*t.name_learned_that_when)


def _plot_skill(w: _Writer) -> None:
    t = _TEMPLATES.skill
    hero = w.cast["hero"]
    while True:
        skill, skill_ing, fail, who = w.pick(_WORDS.skills)
        if who == "any" or (who == "animal") == hero.is_animal:
            break
    w.slots.update(skill=w.fill(skill), skill_ing=w.fill(skill_ing), fail=w.fill(fail))
    _time(w)
    _introduce(w)
    w.add(*t.more_than_anything_name)
    w.paragraph()
    w.add(*t.time_name_decided_to)
    w.add(*t.he_tried_but_fail)
    w.maybe(0.6, *t.he_tried_again_and)
    w.say("hero", "cross", *t.i_will_never_be)
    w.maybe(0.5, *t.name_sat_down_and)
    w.paragraph()
    helper = w.pick(("friend", "grown_up"))
    if helper == "friend":
        w.add(*t.then_his_friend_friend)
    else:
        w.add(*t.parent_saw_what_was)
    w.say(helper, "kind", *t.nobody_can_do_it)
    if w.chance(0.6):
        w.say(helper, "neutral", *t.try_to_go_slowly)
    w.slots["days"] = w.pick(t.every_day)
    w.add(*t.so_name_practiced_days)
    w.maybe(0.6, *t.some_days_were_good)
    w.paragraph()
    w.add(*t.then_one_day_it)
    w.say("hero", "happy", *t.i_did_it_i)
    _feel(w, happy=True)
    w.maybe(0.6, *t.name_felt_so_feeling)
    w.add(*t.name_learned_that_practice)


def _plot_help_animal(w: _Writer) -> None:
    t = _TEMPLATES.help_animal
    creature, trouble, help_, ending = w.pick(_WORDS.hurt_animals)
    w.slots.update(
        creature=creature, trouble=trouble, help=help_, creature_end=w.fill(ending), critter=creature.split()[-1]
    )  # "a baby bird" -> "bird"
    _place(w)
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add(*t.time_name_was_walking)
    w.add(*t.there_he_found_creature)
    w.say("hero", "sad", *t.oh_poor_little_thing)
    _feel(w, happy=False)
    w.maybe(0.6, *t.the_critter_looked_scared)
    w.paragraph()
    w.add(*t.name_ran_to_get)
    w.say("grown_up", "kind", *t.we_must_be_very)
    w.add(*t.together_they_help)
    w.maybe(0.5, *t.it_took_a_long)
    w.paragraph()
    w.add(*t.creature_end)
    w.say("hero", "happy", *t.goodbye_little_critter_be)
    _feel(w, happy=True)
    w.add(*t.name_felt_feeling_helping)


def _plot_misunderstanding(w: _Writer) -> None:
    t = _TEMPLATES.misunderstanding
    _object(w)
    clue, thought, spoken, truth = w.pick(_WORDS.misunderstandings)
    w.slots["worry"] = w.pick(t.worried_upset)
    w.slots.update(clue=w.fill(clue), thought=w.fill(thought), spoken=w.fill(spoken), truth=w.fill(truth))
    w.slots["Truth"] = w.slots["truth"][0].upper() + w.slots["truth"][1:]
    _time(w)
    _introduce(w)
    w.add(*t.his_best_friend_was)
    w.paragraph()
    w.maybe(0.5, *t.time_something_strange_happened)
    w.add(*t.clue)
    w.add(*t.name_was_sure_that)
    w.maybe(0.6, *t.he_felt_worry_all)
    w.say("hero", "cross", *t.i_don_t_like)
    w.paragraph()
    w.add(*t.then_parent_came_to)
    w.say("grown_up", "kind", *t.what_is_the_matter)
    w.say("hero", "sad", *t.spoken)
    w.say("grown_up", "kind", *t.sometimes_things_are_not)
    w.add(*t.so_they_went_to)
    w.add(*t.it_turned_out_that)
    w.paragraph()
    w.say("hero", "happy", *t.oh_i_got_it)
    w.add(*t.name_laughed_and_everyone)
    w.maybe(0.5, *t.he_said_sorry_for)
    w.add(*t.name_learned_that_it)


def _plot_surprise(w: _Writer) -> None:
    t = _TEMPLATES.surprise
    gift, make, oops, save = w.pick(_WORDS.gifts)
    w.slots.update(gift=gift, make=w.fill(make), oops=w.fill(oops), save=w.fill(save))
    w.slots["for"] = w.pick(("friend", "parent"))
    w.slots["who"] = w.slots["friend"] if w.slots["for"] == "friend" else w.slots["parent"]
    w.slots["who_desc"] = "{his} best friend {friend}" if w.slots["for"] == "friend" else "{parent}"
    w.slots["who_desc"] = w.fill(w.slots["who_desc"])
    _introduce(w)
    w.paragraph()
    w.add(*t.tomorrow_was_who_desc)
    w.say("hero", "excited", *t.i_will_make_gift)
    w.add(*t.name_make)
    w.add(*t.it_was_hard_work)
    w.add(*t.but_then_oops)
    w.say("hero", "sad", *t.now_it_is_ruined)
    w.add(*t.name_almost_cried_but)
    w.add(*t.he_save)
    w.paragraph()
    w.add(*t.the_next_morning_name)
    w.say("hero", "happy", *t.surprise_happy_birthday_who)
    w.add(*t.who_gasped)
    w.say(w.slots["for"] if w.slots["for"] == "friend" else "grown_up", "happy", *t.you_made_this_for)
    _feel(w, happy=True)
    w.add(*t.name_felt_feeling_giving)


def _plot_garden(w: _Writer) -> None:
    t = _TEMPLATES.garden
    plant, grown = w.pick(_WORDS.plants)
    w.slots.update(plant=plant, grown=w.fill(grown))
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add(*t.time_parent_gave_name)
    w.say("grown_up", "kind", *t.if_you_plant_it)
    w.add(*t.name_dug_a_little)
    w.add(*t.the_next_morning_he)
    w.say("hero", "cross", *t.why_is_it_not)
    w.say("grown_up", "kind", *t.good_things_take_time)
    w.paragraph()
    w.add(*t.so_name_waited)
    w.maybe(0.3, *t.he_pulled_the_weeds)
    w.add(*t.one_day_he_saw)
    w.say("hero", "excited", *t.it_s_growing_it)
    w.maybe(0.7, *t.weeks_went_by_and)
    w.paragraph()
    w.add(*t.at_last_there_was)
    _feel(w, happy=True)
    w.add(*t.name_felt_feeling)
    w.add(*t.name_learned_that_waiting)


def _plot_honesty(w: _Writer) -> None:
    t = _TEMPLATES.honesty
    what, thing, result = w.pick(_WORDS.accidents)
    w.slots.update(what=w.fill(what), thing=w.fill(thing), result=result)
    w.slots["Thing"] = w.slots["thing"][0].upper() + w.slots["thing"][1:]
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add(*t.time_what)
    w.add(*t.in_a_moment_thing)
    w.say("hero", "scared", *t.oh_no_what_have)
    w.add(*t.name_ran_off_and)
    w.paragraph()
    w.add(*t.later_parent_saw_what)
    w.say("grown_up", "neutral", *t.does_anyone_know_what)
    w.maybe(0.6, *t.name_said_nothing_but)
    w.maybe(0.5, *t.all_through_dinner_name)
    w.paragraph()
    w.add(*t.at_last_name_went)
    w.say("hero", "sad", *t.it_was_me_i)
    w.add(*t.parent_was_quiet_for)
    w.say("grown_up", "kind", *t.thank_you_for_telling)
    w.add(*t.together_they_cleaned_up)
    w.add(*t.name_felt_light_and)


def _plot_race(w: _Writer) -> None:
    t = _TEMPLATES.race
    race, move, moved, moving = w.pick(_WORDS.races)
    w.slots.update(race=race, move=move, moved=moved, moving=moving, trouble=w.fill(w.pick(_WORDS.race_troubles)))
    w.slots["prize"] = w.pick(t.a_shiny_blue_ribbon)
    _time(w)
    _introduce(w)
    w.add(*t.he_was_very_fast)
    w.paragraph()
    w.add(*t.time_it_was_the)
    w.say("hero", "excited", *t.i_am_going_to)
    w.add(*t.his_friend_friend_was)
    w.add(*t.ready_set_go_called)
    w.add(*t.name_moved_as_fast)
    w.paragraph()
    w.add(*t.then_name_heard_a)
    w.maybe(0.5, *t.name_looked_at_the)
    w.maybe(0.4, *t.if_he_kept_going)
    w.add(*t.name_turned_around_and)
    w.say("friend", "sad", *t.go_on_you_can)
    w.say("hero", "kind", *t.friends_come_first)
    w.add(*t.name_helped_friend_up)
    w.paragraph()
    w.add(*t.but_the_crowd_cheered)
    w.maybe(0.5, *t.the_judge_gave_name)
    w.add(*t.name_did_not_win)


def _plot_bedtime(w: _Writer) -> None:
    t = _TEMPLATES.bedtime
    w.slots.update(
        night=w.pick(_WORDS.night_times),
        sleep_trouble=w.fill(w.pick(_WORDS.sleep_troubles)),
        dream=w.pick(_WORDS.dreams),
    )
    w.slots["cuddly"] = "soft blanket" if w.cast["hero"].is_animal else w.pick(t.teddy_bear)
    _introduce(w)
    w.paragraph()
    w.add(*t.night_name_could_not)
    w.add(*t.sleep_trouble)
    w.add(*t.he_tossed_and_turned)
    w.add(*t.it_did_not_help)
    w.say("hero", "sad", *t.i_can_t_sleep)
    w.paragraph()
    w.add(*t.parent_came_in_and)
    w.say("grown_up", "kind", *t.let_s_look_at)
    w.add(*t.parent_opened_the_curtains)
    w.say("grown_up", "kind", *t.the_moon_is_a)
    w.maybe(0.6, *t.they_listened_to_the)
    w.paragraph()
    w.add(*t.slowly_name_s_eyes)
    w.say("hero", "scared", *t.good_night_moon)
    w.add(*t.soon_name_was_fast)
    w.maybe(0.5, *t.parent_smiled_and_tucked)


def _plot_new_pet(w: _Writer) -> None:
    t = _TEMPLATES.new_pet
    pet, food, mischief, neglect = w.pick(_WORDS.pets)
    w.slots.update(pet=pet, food=food, mischief=w.fill(mischief), neglect=neglect, a_pet=_a(pet))
    while True:
        w.slots["pet_name"] = w.pick(_WORDS.animal_names)
        if w.slots["pet_name"] not in (w.slots["name"], w.slots["friend"]):
            break
    _time(w)
    _introduce(w)
    w.add(*t.more_than_anything_he)
    w.paragraph()
    w.add(*t.time_parent_came_home)
    w.say("hero", "excited", *t.can_i_keep_it)
    w.say("grown_up", "neutral", *t.a_pet_is_a)
    w.add(*t.name_named_the_pet)
    w.maybe(0.5, *t.at_first_everything_was)
    w.maybe(0.6, *t.one_morning_pet_name)
    w.paragraph()
    w.add(*t.but_one_day_name)
    w.add(*t.in_the_evening_pet)
    _feel(w, happy=False)
    w.maybe(0.5, *t.name_felt_feeling)
    w.say("hero", "sad", *t.i_forgot_you_pet)
    w.add(*t.he_quickly_gave_pet)
    w.paragraph()
    w.add(*t.then_name_made_a)
    w.maybe(0.5, *t.each_time_he_fed)
    w.add(*t.from_then_on_name)


def _plot_neighbor(w: _Writer) -> None:
    t = _TEMPLATES.neighbor
    neighbor, female = w.pick(_WORDS.neighbors)
    problem, help_ = w.pick(_WORDS.neighbor_problems)
    w.slots.update(
        neighbor=neighbor,
        Neighbor=neighbor[0].upper() + neighbor[1:],
        nhe="she" if female else "he",
        nhis="her" if female else "his",
        nHe="She" if female else "He",
    )
    w.slots.update(problem=w.fill(problem), help=w.fill(help_), reward=w.fill(w.pick(_WORDS.rewards)))
    _time(w)
    _introduce(w)
    w.add(*t.next_door_lived_neighbor)
    w.paragraph()
    w.add(*t.time_name_saw_that)
    w.add(*t.neighbor_looked_tired_and)
    w.maybe(0.6, *t.name_wanted_to_go)
    w.say("hero", "kind", *t.can_i_help_you)
    w.add(*t.neighbor_smiled_a_wrinkly)
    w.paragraph()
    w.add(*t.so_name_help)
    w.maybe(0.5, *t.it_was_hard_work)
    w.add(*t.afterwards_neighbor_reward)
    w.add(*t.thank_you_said_neighbor)
    _feel(w, happy=True)
    w.add(*t.name_walked_home_feeling)


def _plot_journey(w: _Writer) -> None:
    t = _TEMPLATES.journey
    goal, there = w.pick(_WORDS.goals)
    w.slots.update(goal=goal, there=w.fill(there))
    helpers = w.rng.sample(_WORDS.journey_helpers, 2)
    w.slots.update(help1=w.fill(helpers[0]), help2=w.fill(helpers[1]))
    _introduce(w)
    w.add(*t.name_had_always_wanted)
    w.paragraph()
    w.add(*t.one_morning_he_packed)
    w.say("grown_up", "kind", *t.be_careful_and_come)
    w.maybe(0.5, *t.the_path_was_long)
    w.add(*t.on_the_way_help1)
    w.add(*t.later_help2)
    w.maybe(0.3, *t.name_thanked_them_both)
    w.add(*t.then_dark_clouds_came)
    w.say("hero", "scared", *t.maybe_i_should_go)
    w.add(*t.but_he_took_a)
    w.paragraph()
    w.add(*t.at_last_there)
    w.say("hero", "happy", *t.it_is_even_more)
    w.add(*t.name_stayed_for_a)
    w.add(*t.that_night_he_told)


def _plot_tidy_room(w: _Writer) -> None:
    t = _TEMPLATES.tidy_room
    _object(w)
    _place(w)
    _time(w)
    mess = w.rng.sample(_WORDS.mess, 3)
    w.slots.update(mess1=mess[0], mess2=mess[1], mess3=mess[2])
    _introduce(w)
    w.add(*t.but_name_did_not)
    w.paragraph()
    w.add(*t.his_room_was_a)
    w.add(*t.time_parent_wanted_to)
    w.say("grown_up", "neutral", *t.we_can_go_when)
    w.say("hero", "cross", *t.but_it_will_take)
    w.add(*t.name_wanted_to_bring)
    w.paragraph()
    w.say("grown_up", "kind", *t.let_s_make_it)
    w.maybe(0.4, *t.so_they_got_to)
    w.add(*t.the_books_went_back)
    w.maybe(0.4, *t.it_was_more_fun)
    w.add(*t.under_the_very_last)
    w.say("hero", "happy", *t.there_you_are)
    w.paragraph()
    w.maybe(0.6, *t.now_the_room_looked)
    w.add(*t.then_they_went_to)
    w.add(*t.name_learned_that_tidying)


def _plot_baking(w: _Writer) -> None:
    t = _TEMPLATES.baking
    what, the_what, ingredients, step, smell = w.pick(_WORDS.recipes)
    mishap, fix = w.pick(_WORDS.baking_mishaps)
    w.slots.update(
        what=what,
        the_what=the_what,
        The_what=the_what.capitalize(),
        ingredients=ingredients,
        step=step,
        smell=smell,
        mishap=w.fill(mishap),
        fix=w.fill(fix),
    )
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add(*t.time_parent_asked_name)
    w.say("hero", "excited", *t.can_i_crack_the)
    w.maybe(0.6, *t.first_they_washed_up)
    w.add(*t.they_gathered_ingredients)
    w.add(*t.name_step)
    w.add(*t.but_then_mishap)
    w.say("hero", "scared", *t.oops_did_i_ruin)
    w.say("grown_up", "kind", *t.don_t_worry_every)
    w.add(*t.fix)
    w.paragraph()
    w.add(*t.soon_the_whole_house)
    w.add(*t.when_the_timer_rang)
    w.add(*t.name_took_some_to)
    w.say("friend" if w.chance(0.5) else "grown_up", "happy", *t.this_is_delicious)
    w.add(*t.name_learned_that_baking)


def _plot_sick_day(w: _Writer) -> None:
    t = _TEMPLATES.sick_day
    w.slots.update(
        illness=w.pick(_WORDS.illnesses), missed=w.fill(w.pick(_WORDS.missed)), get_well=w.pick(_WORDS.get_well)
    )
    w.slots["Time"] = w.pick(t.one_morning)
    _introduce(w)
    w.paragraph()
    w.add(*t.time_name_woke_up)
    w.add(*t.today_was_missed)
    w.say("grown_up", "kind", *t.i_am_sorry_but)
    w.say("hero", "sad", *t.but_i_don_t)
    w.maybe(0.6, *t.parent_felt_his_forehead)
    w.paragraph()
    w.add(*t.parent_brought_him_warm)
    w.add(*t.name_read_a_book)
    w.add(*t.in_the_afternoon_there)
    w.add(*t.it_was_friend_with)
    w.say("hero", "happy", *t.friend_did_not_forget)
    _feel(w, happy=True)
    w.paragraph()
    w.add(*t.name_slept_and_slept)
    w.add(*t.two_days_later_name)
    w.add(*t.name_learned_that_resting)


# (plot, share of stories, allows an animal hero)
_PLOTS = (
    (_plot_lost_object, 1.0, True),
    (_plot_new_friend, 1.0, True),
    (_plot_brave, 1.0, False),
    (_plot_sharing, 1.0, True),
    (_plot_trip, 0.8, False),
    (_plot_weather, 0.8, False),
    (_plot_skill, 1.0, True),
    (_plot_help_animal, 0.8, False),
    (_plot_misunderstanding, 0.8, True),
    (_plot_surprise, 0.8, True),
    (_plot_garden, 0.7, True),
    (_plot_honesty, 0.7, False),
    (_plot_race, 0.8, True),
    (_plot_bedtime, 0.8, True),
    (_plot_new_pet, 0.8, False),
    (_plot_neighbor, 0.7, False),
    (_plot_journey, 0.8, True),
    (_plot_tidy_room, 0.7, False),
    (_plot_baking, 0.7, True),
    (_plot_sick_day, 0.6, False),
)
_PLOT_CUM_WEIGHTS = tuple(itertools.accumulate(weight for _, weight, _ in _PLOTS))


def _write_story(rng: random.Random) -> str:
    plot, _, animal_ok = rng.choices(_PLOTS, cum_weights=_PLOT_CUM_WEIGHTS)[0]
    hero = _make_hero(rng, animal=animal_ok and rng.random() < 0.35)
    w = _Writer(rng, hero, _make_friend(rng, hero), _make_grown_up(rng, hero))
    w.slots["Name"] = hero.name
    plot(w)
    return w.text()


def generate_builtin_corpus(num_stories: int = 6000, seed: int = 0) -> list[str]:
    """`num_stories` distinct children's stories, the same list for the same `(num_stories, seed)`.

    Each story is one document (paragraphs separated by a single newline, no separator tokens), plain ASCII.
    The first `n` stories for a seed do not depend on `num_stories`, so a smaller corpus is a prefix of a larger one.
    """
    if isinstance(num_stories, bool) or not isinstance(num_stories, numbers.Integral) or num_stories < 1:
        raise ValueError(f"num_stories must be a positive int, got {num_stories!r}; the default is 6000")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an int, got {seed!r}")
    num_stories, seed = int(num_stories), int(seed)  # numpy integers too
    rng = random.Random(seed)
    stories: list[str] = []
    seen: set[str] = set()  # membership only, never iterated: order stays independent of PYTHONHASHSEED
    attempts = 0
    while len(stories) < num_stories:
        attempts += 1
        if attempts > 2 * num_stories + 1000:
            raise ValueError(
                f"could only write {len(stories)} distinct stories in {attempts} attempts; "
                f"ask for fewer than {num_stories} stories"
            )
        story = _write_story(rng)
        if story not in seen:
            seen.add(story)
            stories.append(story)
    return stories
